"""`motionworld eval --sections depth`: how good each depth a picture can get is, and what it does to
a walk.

For every scene with true depth (held-out synthetic views from `data.depth_views`, and the real
photographs with known depth found here: the Middlebury motorcycle stereo pair that scikit-image
ships), each candidate depth is scored against the truth (AbsRel and δ < 1.25, median-scaled and
scale-and-shift aligned in disparity) and then used as a warp would use it: the picture on that
depth, median-scaled to the truth (one picture has no scale), is seen from a camera trucked
sideways, and compared (PSNR) with the true view from there over the pixels the first view sees
(where the true-depth warp is valid). For the stereo pair the true view is the right image and the
truck is the baseline; synthetic views are trucked by the same fraction of the picture's width at
the median depth (7 %).

Candidates: the true depth (the ceiling), the `prior`, a flat plane at one depth, our depth network
(as it ships and with its edges sharpened; a disparity output also mapped with other near/far ratios), and the
transformers estimator where it loads (Depth Anything V2 Small, from the hub cache or fetched once
where the hub is reachable; `estimator_model` names another), and every other depth source registered
(`plugins.DEPTH_SOURCES`) that needs no options (`by_name`), under its name: a new one is scored
beside ours without a change here.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from .. import plugins
from ..data.depth_views import DepthViews
from ..data.synth.generator import HELDOUT_SEED_START
from ..geometry.camera import Camera
from ..geometry.depth import (
    HUB_DEPTH_MODEL,
    PriorDepth,
    disparity_to_depth,
    network_depth,
    sharpen_depth_edges,
    try_estimator,
)
from ..metrics.depth import depth_scores, median_scaled
from ..metrics.image import psnr
from ..raster.mesh_warp import MeshWarpRenderer

TRUCK_FRACTION = 0.07  # the motorcycle pair's median disparity is about 7 % of its width
VIEW_SEED_START = HELDOUT_SEED_START + 1000  # past the depth stage's eval-hook views
FAR_OVER_NEAR = (10.0, 30.0, 100.0)  # mappings of a relative output tried; 30 is the default (1 to 30)
OWN_ROWS = ("file", "prior", "network", "estimator")  # depth sources scored by their own rows, not by name


def _translate_x(distance: float) -> np.ndarray:
    m = np.eye(4)
    m[0, 3] = distance
    return m


def warp_psnr(image: np.ndarray, depth: np.ndarray, K: np.ndarray, c2w: np.ndarray, truth: np.ndarray,
              mask: np.ndarray, K_view: np.ndarray | None = None) -> tuple[float, np.ndarray]:
    """PSNR of the picture (seen by K) on `depth`, seen from `c2w` by `K_view` (default K), against
    `truth` over `mask`, and the warp's validity map."""
    warp = MeshWarpRenderer()
    try:
        warp.start(image, depth, K)
        frame, valid = warp.step(c2w[None], K if K_view is None else K_view, validity=True)
    finally:
        warp.release()
    unit = [torch.from_numpy(np.ascontiguousarray(x)).permute(2, 0, 1).float() / 255 for x in (frame[0], truth)]
    return psnr(*unit, torch.from_numpy(np.asarray(mask, bool))), valid[0] > 0.5


# Middlebury 2014 Motorcycle at scikit-image's quarter size (its docstring): focal length, the left
# camera's principal point, and the right camera's principal point offset (doffs)
MOTORCYCLE_F, MOTORCYCLE_CX, MOTORCYCLE_CY, MOTORCYCLE_DOFFS = 994.978, 311.193, 254.877, 31.086


def motorcycle() -> dict | None:
    """The Middlebury motorcycle pair as scikit-image ships it: left picture, right picture and the
    left view's true depth, or None. Depth = f·B / (disparity + doffs) with the baseline B as the
    unit, so a truck of 1 seen by the right camera's K (its principal point doffs to the right)
    moves every pixel by exactly its disparity."""
    try:
        from skimage import data
    except ImportError:
        return None
    left, right, disparity = data.stereo_motorcycle()
    valid = np.isfinite(disparity) & (disparity > 0)
    f, cx, cy, doffs = MOTORCYCLE_F, MOTORCYCLE_CX, MOTORCYCLE_CY, MOTORCYCLE_DOFFS
    K = np.array([[f, 0, cx], [0, f, cy], [0, 0, 1.0]])
    K_right = np.array([[f, 0, cx + doffs], [0, f, cy], [0, 0, 1.0]])
    depth = np.where(valid, f / (np.where(valid, disparity, 1.0) + doffs), np.nan).astype(np.float32)
    # the warp needs depth everywhere: unknown pixels take their nearest known neighbour's
    from scipy.ndimage import distance_transform_edt

    _, (iy, ix) = distance_transform_edt(~valid, return_indices=True)
    filled = depth[iy, ix]
    return {"name": "motorcycle (Middlebury stereo, real)", "image": left, "truth_view": right, "depth": filled,
            "valid": valid, "K": K, "K_view": K_right, "truck": 1.0}


def synthetic_view(views: DepthViews, seed: int) -> dict:
    rgb, depth = views.view(seed)
    H, W = depth.shape
    spec = views.world(seed)
    K = spec.K.astype(np.float64)
    truck = TRUCK_FRACTION * W * float(np.median(depth)) / K[0, 0]
    c2w0 = spec.camera.c2w[0].astype(np.float64)
    spec.camera.c2w = np.stack([c2w0, c2w0 @ _translate_x(truck)]).astype(spec.camera.c2w.dtype)
    spec.fps = 1e9  # a pure truck: the second frame comes 1 ns after the first, so nothing else moves
    frames, _, _, _ = views.renderer.render(spec)
    return {"name": f"synthetic {seed}", "image": rgb, "truth_view": frames[1], "depth": depth,
            "valid": np.ones_like(depth, bool), "K": K, "truck": truck}


def candidates(item: dict, net, estimator) -> dict[str, np.ndarray]:
    image, truth = item["image"], item["depth"]
    H, W = truth.shape
    camera = Camera(item["K"], W, H)
    out = {"true depth": truth, "prior": PriorDepth(PriorDepth.Options()).load(image, camera),
           "flat plane": np.full_like(truth, float(np.median(truth[item["valid"]])))}
    if net is not None:
        depth = network_depth(net, image)
        out["our network"] = depth
        out["our network, edges sharpened"] = sharpen_depth_edges(depth)
        if net.config.output == "disparity":  # the near/far range a relative output is given
            disparity = net.predict(image)
            for ratio in FAR_OVER_NEAR:
                if ratio != 30.0:
                    out[f"our network, far/near {ratio:g}"] = sharpen_depth_edges(
                        disparity_to_depth(disparity, 1.0, ratio))
    if estimator is not None:
        out["estimator"] = estimator.load(image, camera)
    for name in plugins.names(plugins.DEPTH_SOURCES):
        source = plugins.try_load(plugins.DEPTH_SOURCES, name)[0]  # one that does not load gets no row
        if name not in OWN_ROWS and getattr(source, "by_name", False):
            out[name] = source(source.Options.model_validate({"source": name}), Path(".")).load(image, camera)
    return out


def score_item(item: dict, net, estimator) -> dict[str, dict]:
    truth, valid, K = item["depth"], item["valid"], item["K"]
    c2w, K_view = _translate_x(item["truck"]), item.get("K_view")
    _, seen = warp_psnr(item["image"], truth, K, c2w, item["truth_view"], np.ones_like(valid), K_view)
    mask = seen & valid
    rows = {}
    for name, depth in candidates(item, net, estimator).items():
        scores = depth_scores(depth, truth, valid) if name != "true depth" else {
            "abs_rel": 0.0, "delta1": 1.0, "abs_rel_ssi": 0.0, "delta1_ssi": 1.0}
        scaled = median_scaled(depth, truth, valid)
        scores["warp_psnr"], _ = warp_psnr(item["image"], scaled, K, c2w, item["truth_view"], mask, K_view)
        rows[name] = scores
    return rows


def depth_section(net=None, views: int = 32, size: tuple[int, int] = (256, 192), estimator_model: str | None = None,
                  progress=None) -> dict:
    """The depth section of the report: per set (synthetic, each real photograph), each candidate's
    mean scores, and per item too."""
    estimator, why = try_estimator(estimator_model or HUB_DEPTH_MODEL)
    say = progress or (lambda m: None)
    sets: dict[str, dict] = {}
    synth_rows = []
    world_views = DepthViews(*size)
    for i in range(views):
        synth_rows.append(score_item(synthetic_view(world_views, VIEW_SEED_START + i), net, estimator))
        say(f"depth: synthetic view {i + 1}/{views}")
    sets["synthetic"] = {"items": len(synth_rows), "methods": _means(synth_rows), "per_item": synth_rows}
    real = motorcycle()
    if real is not None:
        row = score_item(real, net, estimator)
        sets[real["name"]] = {"items": 1, "methods": row, "per_item": [row]}
        say("depth: the motorcycle pair")
    return {"views": views, "size": list(size), "truck_fraction": TRUCK_FRACTION,
            "estimator": None if estimator is None else (estimator_model or HUB_DEPTH_MODEL),
            "estimator_missing": why, "sets": sets}


def _means(rows: list[dict]) -> dict:
    names = rows[0].keys()
    return {n: {k: float(np.mean([r[n][k] for r in rows])) for k in rows[0][n]} for n in names}


def markdown_lines(section: dict) -> list[str]:
    lines = ["## Depth", "",
             f"AbsRel and δ<1.25 against the true depth, median-scaled (and scale-and-shift aligned in disparity: "
             f"'ssi'); warp PSNR: the picture on that depth (median-scaled) seen from a camera trucked by "
             f"{section['truck_fraction'] * 100:g} % of the width at the median depth (the stereo baseline for the "
             f"real pair), against the true view, over the pixels the first view sees.", ""]
    if section["estimator"] is None:
        lines += [f"The estimator row is missing: {section['estimator_missing']}", ""]
    for name, block in section["sets"].items():
        lines += [f"### {name} ({block['items']} view{'s' if block['items'] != 1 else ''})", "",
                  "| depth | AbsRel | δ1 | AbsRel ssi | δ1 ssi | warp PSNR dB |", "|---|---|---|---|---|---|"]
        for method, m in block["methods"].items():
            lines.append(f"| {method} | {m['abs_rel']:.3f} | {m['delta1']:.3f} | {m['abs_rel_ssi']:.3f} | "
                         f"{m['delta1_ssi']:.3f} | {m['warp_psnr']:.2f} |")
        lines.append("")
    return lines
