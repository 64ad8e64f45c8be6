"""Synthetic worlds: ground-truth tracks against rendered pixels, occlusion from the depth
buffer, analytic motion, determinism."""
import numpy as np
import pytest

from motionworld.data.synth import SynthWorlds
from motionworld.data.synth.ground_truth import TOLERANCE, footprint_depth, surface_tracks
from motionworld.data.synth.motion import CameraMotion
from motionworld.data.synth.raster import WorldRenderer
from motionworld.data.synth.textures import texture_bank
from motionworld.data.synth.world_spec import SKY_RADIUS, Lighting, Material, Solid, WorldSpec
from motionworld.geometry.camera import intrinsics_from_fov, pose_from_ypr

pytestmark = pytest.mark.display  # needs a GL context (EGL, headless)


@pytest.fixture(scope="module")
def bank():
    return texture_bank(0)


@pytest.fixture(scope="module")
def worlds(bank):
    return SynthWorlds(size=64, frames=25, bank=bank)


def _bilinear(img, xy):
    H, W = img.shape[:2]
    x, y = np.clip(xy[:, 0], 0, W - 1), np.clip(xy[:, 1], 0, H - 1)
    x0, y0 = np.floor(x).astype(int), np.floor(y).astype(int)
    x1, y1 = np.minimum(x0 + 1, W - 1), np.minimum(y0 + 1, H - 1)
    fx, fy = (x - x0)[:, None], (y - y0)[:, None]
    im = img.astype(float)
    return (im[y0, x0] * (1 - fx) * (1 - fy) + im[y0, x1] * fx * (1 - fy)
            + im[y1, x0] * (1 - fx) * fy + im[y1, x1] * fx * fy)


def _material(bank, kind="checks", a=(0.9, 0.2, 0.1), b=(0.1, 0.3, 0.9), tile=1.0):
    return Material(int(bank.by_kind[kind][0]), int(bank.by_kind["noise"][0]), False, np.array(a), np.array(b),
                    tile=tile, detail_scale=3.0, detail_amount=0.0, angle=0.0, words="test")


def _world(bank, solids, c2w, size=64, fov=60.0, sun=(0.0, -1.0, 0.0)):
    light = Lighting(np.array(sun) / np.linalg.norm(sun), np.ones(3) * 0.6, np.ones(3) * 0.5, 0.0,
                     np.array([0.8, 0.85, 0.9]), np.array([0.3, 0.5, 0.9]), 0.0)
    sky = Solid("sky", (SKY_RADIUS,), np.zeros(3), np.eye(3), _material(bank, "noise", tile=100.0), "sky")
    return WorldSpec(0, size, size, 16.0, intrinsics_from_fov(size, size, fov), fov,
                     CameraMotion(np.asarray(c2w, float), "test", "program"), [*solids, sky], [], light)


def test_tracks_agree_with_rendered_pixels(worlds):
    """The colour under a visible track in frame t is the colour at its origin in frame 0."""
    errors, shuffled = [], []
    for seed in (1, 3, 7):
        spec = worlds.world(seed)
        spec.lighting.drift = 0.0
        spec.motions = []  # a static world: shading cannot change
        for s in spec.solids:
            s.moving = 0
        video, depth, slot0, _ = worlds.renderer.render(spec)
        tracks, vis, _, ids = surface_tracks(depth, slot0, spec.K, spec.camera.c2w, spec.object_matrices())
        c0 = _bilinear(video[0], tracks[0])
        rng = np.random.default_rng(seed)
        for t in range(1, len(video)):
            m = vis[t]
            ct = _bilinear(video[t], tracks[t][m])
            errors.append(np.abs(ct - c0[m]).mean(-1))
            shuffled.append(np.abs(ct[rng.permutation(len(ct))] - c0[m]).mean(-1))
    e, s = np.concatenate(errors), np.concatenate(shuffled)
    assert len(e) > 5000
    assert np.median(e) < 3.0 and np.mean(e < 16) > 0.9, (np.median(e), np.mean(e < 16))
    assert np.median(s) > 20  # the check can fail: unrelated pixels disagree


def test_occlusion_is_the_depth_buffer_test(worlds):
    """Occluded (in-image) tracks are exactly those behind frame t's depth buffer at their position."""
    spec = worlds.world(2)
    video, depth, slot0, _ = worlds.renderer.render(spec)
    tracks, vis, z, _ = surface_tracks(depth, slot0, spec.K, spec.camera.c2w, spec.object_matrices())
    H, W = depth.shape[1:]
    inside = np.isfinite(tracks).all(-1) & (tracks[..., 0] >= -0.5) & (tracks[..., 0] <= W - 0.5) \
        & (tracks[..., 1] >= -0.5) & (tracks[..., 1] <= H - 0.5) & (z > 0)
    hidden_count = 0
    for t in range(len(depth)):
        idx = np.flatnonzero(inside[t])
        nearer = footprint_depth(depth[t], tracks[t, idx].astype(np.float64)) < z[t, idx] * (1 - TOLERANCE)
        np.testing.assert_array_equal(vis[t, idx], ~nearer)
        hidden_count += nearer.sum()
        assert not vis[t, ~inside[t]].any()
    assert hidden_count > 0


def test_box_hides_the_wall_behind_it(bank):
    """Independent of the renderer's own buffers: a ray test against the box decides occlusion."""
    wall = Solid("panel", (40.0, 40.0), np.array([0.0, 0.0, 10.0]), np.eye(3), _material(bank), "backdrop")
    box = Solid("box", (2.0, 2.0, 1.0), np.array([0.0, 0.0, 5.5]), np.eye(3), _material(bank, "stripes"), "solid")
    c2w = np.stack([pose_from_ypr([x, 0.0, 0.0]) for x in np.linspace(-2.0, 2.0, 9)])
    spec = _world(bank, [wall, box], c2w)
    renderer = WorldRenderer(64, 64, bank)
    video, depth, slot0, solid0 = renderer.render(spec)
    tracks, vis, z, _ = surface_tracks(depth, slot0, spec.K, c2w, spec.object_matrices())
    H, W = 64, 64
    pix_z = depth[0][np.clip(np.round(tracks[0, :, 1]).astype(int), 0, H - 1),
                     np.clip(np.round(tracks[0, :, 0]).astype(int), 0, W - 1)]
    on_wall = np.abs(pix_z - 10.0) < 1e-3
    # Wall points in world coordinates, from frame 0.
    K = spec.K
    pts = np.concatenate([(tracks[0] - K[:2, 2]) / np.diag(K)[:2] * pix_z[:, None], pix_z[:, None]], 1) + c2w[0, :3, 3]
    lo, hi = np.array([-1.0, -1.0, 5.0]), np.array([1.0, 1.0, 6.0])
    checked = 0
    for t in range(len(c2w)):
        eye = c2w[t, :3, 3]
        d = pts - eye
        with np.errstate(divide="ignore", invalid="ignore"):  # slab test, with a margin either way
            for margin, expect in ((-0.15, False), (0.15, True)):
                t0 = np.nanmax(np.minimum((lo - margin - eye) / d, (hi + margin - eye) / d), axis=1)
                t1 = np.nanmin(np.maximum((lo - margin - eye) / d, (hi + margin - eye) / d), axis=1)
                hits = (t0 <= t1) & (t1 > 0) & (t0 < 1)
                inside = np.isfinite(tracks[t]).all(-1) & (np.abs(tracks[t] - 31.5) < 31).all(-1)
                sel = on_wall & inside & (hits if not expect else ~hits)
                # margin < 0 shrinks the box: rays through it are surely blocked; margin > 0 grows
                # it: rays missing it are surely clear.
                assert np.all(vis[t, sel] == expect), (t, margin)
                checked += sel.sum()
    assert checked > 1000


def test_pure_translation_over_a_fronto_parallel_plane(bank):
    """Trucking right by dx in front of a plane at distance D shifts every point by -f dx / D."""
    D, size = 8.0, 64
    K = intrinsics_from_fov(size, size, 60.0)
    f = K[0, 0]
    shift_px = 6  # an integer pixel shift, so the rendered frames can be compared too
    dx = shift_px * D / f
    c2w = np.stack([pose_from_ypr([x, 0.0, 0.0]) for x in np.linspace(0.0, dx, 4)])
    wall = Solid("panel", (60.0, 60.0), np.array([0.0, 0.0, D]), np.eye(3), _material(bank, "noise", tile=3.0),
                 "backdrop")
    spec = _world(bank, [wall], c2w, size=size)
    video, depth, slot0, _ = WorldRenderer(size, size, bank).render(spec)
    tracks, vis, z, _ = surface_tracks(depth, slot0, K, c2w, spec.object_matrices())
    expected = tracks[0, :, 0][None] - f * (c2w[:, 0, 3] - c2w[0, 0, 3])[:, None] / D
    np.testing.assert_allclose(tracks[..., 0], expected, atol=2e-3)
    np.testing.assert_allclose(tracks[..., 1], np.broadcast_to(tracks[0, :, 1], tracks.shape[:2]), atol=2e-3)
    np.testing.assert_allclose(z, D, rtol=1e-5)
    assert vis[-1].sum() < vis[0].sum()  # points on the left leave the picture
    diff = np.abs(video[-1][:, :size - shift_px].astype(int) - video[0][:, shift_px:].astype(int))
    assert diff.mean() < 1.0


def test_generator_is_deterministic_per_seed(worlds):
    a, b, c = worlds.clip(11), worlds.clip(11), worlds.clip(12)
    for name in ("video", "depth", "tracks", "visibility", "object_ids", "K", "c2w"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert a.caption == b.caption
    assert not np.array_equal(a.video, c.video)
    assert a.video.shape == (25, 64, 64, 3) and a.video.dtype == np.uint8
    assert a.tracks.shape == (25, 2500, 2) and a.tracks.dtype == np.float32
    assert a.visibility.shape == (25, 2500) and a.visibility.dtype == bool
    assert a.depth.shape == (25, 64, 64) and np.all(a.depth[np.isfinite(a.depth)] > 0)
    assert a.visibility[0].all()  # every grid pixel is visible where it starts
    centres = np.floor((np.arange(50) + 0.5) * 64 / 50)
    np.testing.assert_allclose(a.tracks[0], np.stack(np.meshgrid(centres, centres), -1).reshape(-1, 2), atol=1e-3)


def test_worlds_vary_and_captions_describe_them(worlds):
    captions = {worlds.world(s).camera.words for s in range(40)}
    assert len(captions) > 10
    clip = worlds.clip(5)
    assert "the camera" in clip.caption and len(clip.caption.split()) > 5
    moving = [worlds.world(s) for s in range(30)]
    assert any(len(w.motions) for w in moving) and any(not w.motions for w in moving)


def test_moving_object_tracks_follow_the_object(worlds):
    """Tracks on moving objects stay on them: the colour under them matches frame 0 (objects
    translate without spinning here, so their shading cannot change), and it does not for the
    static world's motion applied instead."""
    errors, wrong = [], []
    for seed in range(40):
        spec = worlds.world(seed)
        if not spec.motions:
            continue
        for m in spec.motions:
            m.spin_rate = 0.0
        spec.lighting.drift = 0.0
        video, depth, slot0, _ = worlds.renderer.render(spec)
        objects = spec.object_matrices()
        tracks, vis, _, ids = surface_tracks(depth, slot0, spec.K, spec.camera.c2w, objects)
        still = objects.copy()
        still[:] = objects[0]  # as if the objects had not moved
        tracks_still, vis_still, _, _ = surface_tracks(depth, slot0, spec.K, spec.camera.c2w, still)
        on = ids > 0
        c0 = _bilinear(video[0], tracks[0])
        for t in range(len(video) // 2, len(video)):
            m = vis[t] & on & vis_still[t]
            if m.any():
                errors.append(np.abs(_bilinear(video[t], tracks[t][m]) - c0[m]).mean(-1))
                moved = np.linalg.norm(tracks[t][m] - tracks_still[t][m], axis=-1) > 3
                wrong.append(np.abs(_bilinear(video[t], tracks_still[t][m][moved]) - c0[m][moved]).mean(-1))
        if sum(len(e) for e in errors) > 300:
            break
    e, w = np.concatenate(errors), np.concatenate(wrong)
    assert len(e) > 300 and len(w) > 50
    assert np.median(e) < 3.0 and np.mean(e < 16) > 0.85, (np.median(e), np.mean(e < 16))
    assert np.median(w) > 4 * max(np.median(e), 1.0)
