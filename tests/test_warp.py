"""The mesh-warp reference renderer (the "3D photo" baseline)."""
import numpy as np
import pytest

from motionworld.cli import main
from motionworld.errors import MotionWorldError
from motionworld.geometry.camera import intrinsics_from_fov, pose_from_ypr
from motionworld.raster.mesh_warp import MeshWarpRenderer

pytestmark = pytest.mark.display  # needs a GL context (EGL, headless)


@pytest.mark.parametrize("discontinuity", ["stretch", "drop"])
def test_identity_pose_reproduces_the_first_frame(discontinuity):
    rng = np.random.default_rng(0)
    H, W = 37, 53  # odd sizes: no lucky alignment
    image = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
    depth = np.full((H, W), 4.0) + rng.random((H, W)) * 0.1  # smooth enough to keep every triangle
    depth[10:20, 5:30] = 1.5  # a step in depth: stretched or dropped triangles at its border
    mask = np.zeros((H, W), bool)
    mask[25:33, 30:45] = True
    K = intrinsics_from_fov(W, H, 55.0)
    c2w0 = pose_from_ypr([0.3, -1.0, 2.0], 20.0, -5.0)
    warp = MeshWarpRenderer(discontinuity=discontinuity)
    warp.start(image, depth, K, c2w0, [mask])
    frames = warp.step(np.stack([c2w0, c2w0]))
    np.testing.assert_array_equal(frames[0], frames[1])
    if discontinuity == "stretch":  # the default: bit-exact
        np.testing.assert_array_equal(frames[0], image)
    else:  # dropping may uncover pixels on a depth or object edge, and only there
        wrong = np.any(frames[0] != image, axis=-1)
        edge = np.zeros((H, W), bool)
        for region in (depth < 2.0, mask):
            grown = np.zeros((H + 2, W + 2), bool)
            for dy in range(3):
                for dx in range(3):
                    grown[dy:dy + H, dx:dx + W] |= region
            edge |= grown[1:-1, 1:-1] & ~region | region & ~_eroded(region)
        assert not np.any(wrong & ~edge)
    warp.release()


def _eroded(region):
    H, W = region.shape
    padded = np.pad(region, 1)
    out = np.ones_like(region)
    for dy in range(3):
        for dx in range(3):
            out &= padded[dy:dy + H, dx:dx + W]
    return out


def test_trucking_over_a_plane_shifts_the_picture():
    rng = np.random.default_rng(1)
    H, W, D = 40, 60, 5.0
    image = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
    K = intrinsics_from_fov(W, H, 60.0)
    shift = 7
    warp = MeshWarpRenderer()
    warp.start(image, np.full((H, W), D), K)
    frame = warp.step(pose_from_ypr([shift * D / K[0, 0], 0.0, 0.0]))[0]
    np.testing.assert_array_equal(frame[:, :W - shift - 1], image[:, shift:W - 1])
    assert np.all(frame[:, W - shift:] == 0)  # beyond the photo: nothing


def test_warp_predicts_a_synthetic_world_better_than_holding_the_frame():
    from motionworld.data.synth import SynthWorlds

    worlds = SynthWorlds(size=64, frames=17)
    gains = []
    for seed in range(6):
        spec = worlds.world(seed)
        spec.motions = []
        for s in spec.solids:
            s.moving = 0
        spec.lighting.drift = 0.0
        video, depth, _, _ = worlds.renderer.render(spec)
        if np.abs(video[-1].astype(int) - video[0]).mean() < 3:
            continue  # the camera hardly moved
        warp = MeshWarpRenderer()
        warp.start(video[0], depth[0], spec.K, spec.camera.c2w[0])
        pred = warp.step(spec.camera.c2w[-1])[0]
        err_warp = np.abs(pred.astype(int) - video[-1]).mean()
        err_still = np.abs(video[0].astype(int) - video[-1]).mean()
        gains.append(err_still / max(err_warp, 1e-6))
    assert len(gains) >= 3 and np.median(gains) > 1.3, gains


def test_bad_input_is_refused():
    warp = MeshWarpRenderer()
    K = intrinsics_from_fov(8, 6, 60.0)
    with pytest.raises(MotionWorldError, match="before step"):
        warp.step(np.eye(4))
    with pytest.raises(MotionWorldError, match="depth shape"):
        warp.start(np.zeros((6, 8, 3), np.uint8), np.ones((6, 7)), K)
    bad = np.ones((6, 8))
    bad[2, 3] = np.nan
    with pytest.raises(MotionWorldError, match="finite and positive"):
        warp.start(np.zeros((6, 8, 3), np.uint8), bad, K)
    with pytest.raises(ValueError, match="discontinuity"):
        MeshWarpRenderer(discontinuity="blur")


def test_render_backend_warp(garden, tmp_path, capsys, monkeypatch):
    out = tmp_path / "warp.mp4"
    assert main(["render", str(garden), "--backend", "warp", "--preview-tracks", "--seconds", "1", "--size", "160",
                 "-o", str(out)]) == 0
    import imageio.v3 as iio

    video = iio.imread(out)
    assert video.shape[0] == 17 and max(video.shape[1:3]) == 160
    # Without trained weights, the default backend falls back to the warp renderer and says so.
    import motionworld.play.defaults

    monkeypatch.setattr(motionworld.play.defaults, "SHIPPED_WEIGHTS", tmp_path / "no-weights")
    capsys.readouterr()
    assert main(["render", str(garden), "--seconds", "0.5", "--size", "96", "-o", str(tmp_path / "x.mp4")]) == 0
    assert "no trained weights found" in capsys.readouterr().out


def _box_before_a_wall(W=64, H=48):
    """A wall at depth 4 filling the picture and a box at depth 2 (rows 16-31, columns 24-39)."""
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
    depth = np.full((H, W), 4.0)
    depth[16:32, 24:40] = 2.0
    K = np.array([[50.0, 0, (W - 1) / 2], [0, 50.0, (H - 1) / 2], [0, 0, 1]])
    box = np.zeros((H, W), bool)
    box[16:32, 24:40] = True
    return image, depth, K, box


def test_validity_is_zero_exactly_on_the_disocclusion_sheet_and_outside_the_picture():
    image, depth, K, _ = _box_before_a_wall()
    warp = MeshWarpRenderer()
    warp.start(image, depth, K)
    step = np.eye(4)
    step[0, 3] = 0.3  # the camera moves 0.3 units right
    frames, valid = warp.step(np.stack([np.eye(4), step]), validity=True)
    assert valid.dtype == np.float32 and set(np.unique(valid)) <= {0.0, 1.0}
    assert (valid[0] == 1).all()  # the first camera sees the picture everywhere
    # Worked out by ray casting (fx = 50): pixel x sees the box's column x + 7.5 (depth 2) or the
    # wall's column x + 3.75 (depth 4); the wall behind the box (columns 24-39) was never seen.
    expect_box_row = np.ones(64)
    expect_box_row[32:37] = 0  # the wall behind the box: columns 35.75-39.75, the stretched sheet
    expect_box_row[60:] = 0  # columns past 63.5: outside the picture
    expect_free_row = np.ones(64)
    expect_free_row[60:] = 0
    for y in range(17, 31):  # rows of the box, away from its top and bottom edges
        np.testing.assert_array_equal(valid[1, y], expect_box_row, err_msg=f"row {y}")
    for y in [*range(0, 15), *range(33, 48)]:
        np.testing.assert_array_equal(valid[1, y], expect_free_row, err_msg=f"row {y}")
    np.testing.assert_array_equal(frames[0], image)


def test_validity_is_zero_where_a_moved_object_used_to_be():
    image, depth, K, box = _box_before_a_wall()
    warp = MeshWarpRenderer()
    warp.start(image, depth, K, object_masks=[box])
    moved = np.eye(4)
    moved[0, 3] = 0.5  # the box moves 0.5 units right: 12.5 pixels at depth 2
    frames, valid = warp.step(np.eye(4), object_transforms=moved[None, None], validity=True)
    row = np.ones(64)
    row[24:37] = 0  # the box's old place (columns 24-36.5), not covered by the box now at 36.5-51.5
    for y in range(17, 31):
        keep = np.r_[0:23, 25:36, 38:51, 53:64]  # away from the pixel centres on an edge
        np.testing.assert_array_equal(valid[0, y, keep], row[keep], err_msg=f"row {y}")
    shifted = (image[20, 25:38].astype(int) + image[20, 26:39]) / 2  # 12.5 px: halfway between two pixels
    assert np.abs(frames[0, 20, 38:51] - shifted).max() <= 1  # the box, moved whole
    assert (valid[0, :15] == 1).all() and (valid[0, 33:] == 1).all()


def test_a_coarser_mesh_keeps_the_first_camera_exact_and_the_motion_close():
    """mesh_step=2: one vertex per 2x2 pixels (the guided student's warp: one per model pixel) keeps
    frame 0 bit for bit and moves the picture like the per-pixel mesh, up to its edges."""
    rng = np.random.default_rng(0)
    W, H = 64, 48
    image = (rng.random((H, W, 3)) * 255).astype(np.uint8)
    depth = np.full((H, W), 4.0)
    depth[12:36, 20:44] = 2.0  # a box in front of a wall
    K = np.array([[W, 0, W / 2], [0, W, H / 2], [0, 0, 1]], float)
    poses = np.tile(np.eye(4), (3, 1, 1))
    poses[1:, 0, 3] = [0.05, 0.15]
    out = {}
    for step in (1, 2):
        warp = MeshWarpRenderer(mesh_step=step)
        warp.start(image, depth, K)
        out[step] = warp.step(poses, validity=True)
        warp.release()
    np.testing.assert_array_equal(out[2][0][0], image)
    assert (out[2][1][0] == 1).all()
    agree = (out[1][1] == out[2][1]).mean()
    assert agree > 0.97  # validity differs only along the box's edges
    both = (out[1][1] > 0) & (out[2][1] > 0)
    assert np.abs(out[1][0].astype(int) - out[2][0])[both].mean() < 8
    with pytest.raises(MotionWorldError, match="mesh blocks"):
        MeshWarpRenderer(mesh_step=5).start(image, depth, K)


def test_a_coarser_mesh_sees_a_slanted_floor_as_the_per_pixel_one_does():
    """A floor seen at a grazing angle grows in depth by more than edge_ratio over two pixels but not
    over one: the coarse mesh must keep it a surface (seen), not a sheet that the camera walking
    forward stretches into a hole (the eighth run's plaza: 23 % of a clip's pixels lost)."""
    W, H = 128, 96
    image = (np.random.default_rng(1).random((H, W, 3)) * 255).astype(np.uint8)
    K = np.array([[W, 0, W / 2], [0, W, H / 2], [0, 0, 1]], float)
    rows = np.maximum(np.arange(H) + 0.5 - H / 2, 20.0)  # a wall, then from row 20 below the centre a floor
    depth = 1.5 * K[1, 1] / rows[:, None] * np.ones((1, W))  # the floor 1.5 below the camera
    step_one, step_two = depth[:-1] / depth[1:], depth[:-2] / depth[2:]
    assert step_one.max() < 1.05 < step_two.max()  # the case this is about
    poses = np.tile(np.eye(4), (2, 1, 1))
    poses[1, 2, 3] = 2.5  # walking forward
    seen = {}
    for step in (1, 2):
        warp = MeshWarpRenderer(mesh_step=step)
        warp.start(image, depth, K)
        seen[step] = warp.step(poses, validity=True)[1][1] > 0
        warp.release()
    assert seen[1].mean() > 0.9
    assert (seen[1] & ~seen[2]).mean() < 0.03
