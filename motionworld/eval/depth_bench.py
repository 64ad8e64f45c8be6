"""`motionworld bench --depth`: how long a picture's depth takes, for each network that can give it.

For our depth network (the shipped one, a `--weights` folder, or random weights of the default
config when none is trained) and, where it loads, the transformers estimator (Depth Anything V2
Small, from the hub cache or fetched once): the median over `repeats` runs (a third as many for the
estimator, at least 3), after one warm-up, of the whole depth source, picture in, depth out (resize,
network, mapping), at each size. Every other registered depth source picked by name alone
(`plugins.DEPTH_SOURCES`, `by_name`: the prior, and any added) is timed the same way. The
targets: 0.5 s for a 512-pixel picture on the 2-core CPU, 30 ms at the model's 128x96."""
from __future__ import annotations

import statistics
import time
from pathlib import Path

import numpy as np

from .. import plugins
from ..geometry.camera import Camera
from ..geometry.depth import (
    HUB_DEPTH_MODEL,
    has_depth_network,
    network_depth,
    shipped_depth_folder,
    try_estimator,
)
from ..model.depth_net import DepthNet, load_depth_net, parameter_count

SIZES = ((512, 384), (256, 192), (128, 96))


def _median_seconds(fn, repeats: int) -> float:
    fn()  # warm-up: first-call allocations and kernel choice
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bench_depth(weights: Path | None = None, repeats: int = 10, sizes=SIZES, estimator: bool = True) -> dict:
    folder = weights if weights is not None else (shipped_depth_folder() if has_depth_network() else None)
    net = load_depth_net(folder) if folder is not None else DepthNet().eval()
    rng = np.random.default_rng(0)
    out = {"network": {"weights": str(folder) if folder else "random (default config)",
                       "parameters": parameter_count(net), "seconds": {}}}
    for w, h in sizes:
        picture = rng.integers(0, 255, (h, w, 3), dtype=np.uint8)
        out["network"]["seconds"][f"{w}x{h}"] = _median_seconds(lambda p=picture: network_depth(net, p), repeats)
    if estimator:
        source, missing = try_estimator(HUB_DEPTH_MODEL)
        if source is None:
            out["estimator"] = {"model": HUB_DEPTH_MODEL, "missing": missing}
        else:
            out["estimator"] = {"model": HUB_DEPTH_MODEL, "seconds": {}}
            for w, h in sizes:
                picture = rng.integers(0, 255, (h, w, 3), dtype=np.uint8)
                camera = Camera.from_fov(w, h, 50)
                out["estimator"]["seconds"][f"{w}x{h}"] = _median_seconds(lambda p=picture, c=camera: source.load(p, c),
                                                                          max(3, repeats // 3))
    out["sources"] = {name: {"seconds": _source_seconds(name, sizes, repeats, rng)} for name in _by_name()}
    return out


def _by_name() -> list[str]:
    """Registered depth sources that need no options, but our network (timed above with its weights)."""
    return [n for n in plugins.names(plugins.DEPTH_SOURCES)  # one that does not load is not timed
            if n != "network" and getattr(plugins.try_load(plugins.DEPTH_SOURCES, n)[0], "by_name", False)]


def _source_seconds(name: str, sizes, repeats: int, rng) -> dict[str, float]:
    cls = plugins.load(plugins.DEPTH_SOURCES, name)
    source = cls(cls.Options.model_validate({"source": name}), Path("."))
    seconds = {}
    for w, h in sizes:
        picture = rng.integers(0, 255, (h, w, 3), dtype=np.uint8)
        camera = Camera.from_fov(w, h, 50)
        seconds[f"{w}x{h}"] = _median_seconds(lambda p=picture, c=camera: source.load(p, c), repeats)
    return seconds


def format_depth_report(result: dict) -> str:
    n = result["network"]
    lines = [f"our depth network ({n['weights']}, {n['parameters'] / 1e6:.2f} M parameters), picture in, depth out:"]
    lines += [f"  {size}: {s * 1000:.1f} ms" for size, s in n["seconds"].items()]
    e = result.get("estimator")
    if e is not None and "missing" in e:
        lines.append(f"{e['model']}: not measured ({e['missing']})")
    elif e is not None:
        lines.append(f"{e['model']}:")
        lines += [f"  {size}: {s * 1000:.1f} ms" for size, s in e["seconds"].items()]
    for name, timed in result.get("sources", {}).items():
        lines.append(f"depth source {name}:")
        lines += [f"  {size}: {s * 1000:.1f} ms" for size, s in timed["seconds"].items()]
    return "\n".join(lines)
