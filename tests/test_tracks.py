import numpy as np
import pytest

from motionworld.geometry.camera import Camera, pose_from_ypr
from motionworld.geometry.object_path import ObjectKeyframe, ObjectPath
from motionworld.geometry.trackfield import TrackField, grid_pixels

W, H = 160, 120


def _translations(offsets):
    return np.stack([pose_from_ypr(o) for o in offsets])


def test_grid_is_pixel_centres_spread_over_the_image():
    px = grid_pixels(100, 50, 5)
    assert px.shape == (25, 2)
    np.testing.assert_array_equal(np.unique(px[:, 0]), [10, 30, 50, 70, 90])
    np.testing.assert_array_equal(np.unique(px[:, 1]), [5, 15, 25, 35, 45])


def test_camera_translation_over_fronto_parallel_plane_is_f_B_over_Z():
    cam = Camera.from_fov(W, H, 50.0)
    Z = 4.0
    field = TrackField(np.full((H, W), Z), cam, grid=20)
    B = np.array([0.0, 0.05, 0.1, 0.2])
    tracks, vis, depth = field.project(_translations([[b, 0.0, 0.0] for b in B]))
    f = cam.K[0, 0]
    shift = tracks[:, :, 0] - tracks[0][None, :, 0]
    for i, b in enumerate(B):
        expect = -f * b / Z  # camera moves right -> the scene slides left
        inside = vis[i]
        np.testing.assert_allclose(shift[i, inside], expect, atol=1e-3)
        np.testing.assert_allclose(tracks[i, :, 1], tracks[0, :, 1], atol=1e-4)
    np.testing.assert_allclose(depth, Z, rtol=1e-6)
    # Vertical motion shifts rows the same way; moving up (-y) slides the scene down.
    tr, _, _ = field.project(_translations([[0, 0, 0], [0, -0.1, 0]]))
    np.testing.assert_allclose(tr[1, :, 1] - tr[0, :, 1], f * 0.1 / Z, atol=1e-3)
    # Everything visible at rest; points sliding off the left edge become invisible.
    assert vis[0].all()
    off = tracks[3, :, 0] < -0.5
    assert off.any() and not vis[3, off].any() and vis[3, ~off].all()


def _box_scene(near=3.0, far=10.0):
    """A far wall with a near square panel in the middle of the picture."""
    cam = Camera.from_fov(W, H, 50.0)
    depth = np.full((H, W), far)
    x0, x1, y0, y1 = 60, 100, 40, 80
    depth[y0:y1, x0:x1] = near
    return cam, depth, (x0, x1, y0, y1)


def test_near_box_hides_far_points_as_the_camera_moves():
    cam, depth, (x0, x1, y0, y1) = _box_scene()
    field = TrackField(depth, cam, grid=40)
    b = 0.6
    tracks, vis, d = field.project(_translations([[0, 0, 0], [b, 0, 0]]))
    assert vis[0].all()
    # Analytic: the panel's face (a plane at z = 3) seen from the moved camera.
    K = cam.K
    corners = cam.unproject(np.array([[x0 - 0.5, y0 - 0.5], [x1 - 0.5, y1 - 0.5]]), np.array([3.0, 3.0]))
    u_lo = K[0, 0] * (corners[0, 0] - b) / 3.0 + K[0, 2]
    u_hi = K[0, 0] * (corners[1, 0] - b) / 3.0 + K[0, 2]
    v_lo = K[1, 1] * corners[0, 1] / 3.0 + K[1, 2]
    v_hi = K[1, 1] * corners[1, 1] / 3.0 + K[1, 2]
    far = d[1] > 5.0
    u, v = tracks[1, :, 0], tracks[1, :, 1]
    behind = far & (u > u_lo) & (u < u_hi) & (v > v_lo) & (v < v_hi)
    margin = 2.5 * field.stride  # z-buffer cells are `stride` pixels
    clear = ((np.minimum(np.abs(u - u_lo), np.abs(u - u_hi)) > margin)
             & (np.minimum(np.abs(v - v_lo), np.abs(v - v_hi)) > margin))
    on_screen = cam.inside(tracks[1])
    assert (behind & clear).sum() > 20
    assert not vis[1, behind & clear].any(), "far points behind the panel must be hidden"
    assert vis[1, far & ~behind & clear & on_screen].all(), "far points beside the panel stay visible"
    assert vis[1, ~far & on_screen].all(), "the panel itself stays visible"
    # Without the occlusion test the same points count as visible.
    _, vis_no, _ = field.project(_translations([[0, 0, 0], [b, 0, 0]]), occlusion=False)
    assert vis_no[1, behind & clear].all()


def test_walking_towards_a_slanted_ground_keeps_it_visible():
    # Ground plane seen from 1.6 above, looking down 20 degrees; walking forward must not make the
    # ground hide itself (splats stay closed and slanted surfaces are not self-occluding).
    from motionworld.geometry.depth import PriorDepth

    cam = Camera.from_fov(W, H, 60.0)
    prior = PriorDepth(PriorDepth.Options(horizon=0.1, camera_height=1.6, backdrop=50.0))
    depth = prior.load(None, cam)
    start = pose_from_ypr([0, 0, 0], 0.0, prior.pitch_deg(cam))
    field = TrackField(depth, cam, start, grid=30)
    poses = np.stack([pose_from_ypr([0, 0, z], 0.0, prior.pitch_deg(cam)) for z in (0.0, 1.0, 2.5)])
    tracks, vis, _ = field.project(poses)
    on_screen = cam.inside(tracks) & (np.isfinite(tracks[..., 0]))
    assert vis[on_screen].mean() > 0.99


def test_points_behind_the_camera_are_invisible_and_nan():
    cam = Camera.from_fov(W, H, 50.0)
    field = TrackField(np.full((H, W), 2.0), cam, grid=10)
    tracks, vis, depth = field.project(_translations([[0, 0, 3.0]]))
    assert (depth < 0).all() and not vis.any() and np.isnan(tracks).all()


def test_object_points_follow_their_path_and_background_stays():
    cam, depth, (x0, x1, y0, y1) = _box_scene()
    mask = np.zeros((H, W), bool)
    mask[y0:y1, x0:x1] = True
    field = TrackField(depth, cam, grid=40, object_masks=[mask])
    path = ObjectPath([ObjectKeyframe(0.0), ObjectKeyframe(1.0, (0.5, 0.0, 0.0))], interpolation="linear")
    times = np.array([0.0, 0.5, 1.0])
    obj_T = path.matrices(times, field.pivots[0])[:, None]
    poses = _translations([[0, 0, 0]] * 3)
    tracks, vis, _ = field.project(poses, object_transforms=obj_T)
    on = field.object_ids == 1
    assert on.sum() > 20
    f = cam.K[0, 0]
    np.testing.assert_allclose(tracks[2, on, 0] - tracks[0, on, 0], f * 0.5 / 3.0, atol=1e-3)
    np.testing.assert_allclose(tracks[1, on, 0] - tracks[0, on, 0], f * 0.25 / 3.0, atol=1e-3)
    np.testing.assert_allclose(tracks[:, ~on], np.broadcast_to(tracks[0, ~on], tracks[:, ~on].shape), atol=1e-5)
    assert vis[:, on].all()
    # The panel now covers wall points to the right of its old place.
    u = tracks[2, :, 0]
    v = tracks[2, :, 1]
    lo = tracks[2, on, 0].min() + 2 * field.stride
    hi = tracks[2, on, 0].max() - 2 * field.stride
    covered = ~on & (u > lo) & (u < hi) & (v > y0 + 2 * field.stride) & (v < y1 - 2 * field.stride)
    assert covered.any() and not vis[2, covered].any()


def test_object_rotation_about_its_pivot():
    cam, depth, (x0, x1, y0, y1) = _box_scene()
    mask = np.zeros((H, W), bool)
    mask[y0:y1, x0:x1] = True
    field = TrackField(depth, cam, grid=40, object_masks=[mask])
    path = ObjectPath([ObjectKeyframe(0.0), ObjectKeyframe(1.0, rotation_deg=(0, 0, 90))], interpolation="linear")
    T = path.matrices([1.0], field.pivots[0])[0]
    on = field.object_ids == 1
    moved = field.points[on] @ T[:3, :3].T + T[:3, 3]
    np.testing.assert_allclose(np.linalg.norm(moved - field.pivots[0], axis=1),
                               np.linalg.norm(field.points[on] - field.pivots[0], axis=1))
    np.testing.assert_allclose(moved.mean(0), field.points[on].mean(0), atol=0.05)


def test_dolly_zoom_keeps_the_subject_size():
    from motionworld.geometry import paths

    cam = Camera.from_fov(W, H, 50.0)
    field = TrackField(np.full((H, W), 4.0), cam, grid=12)
    p = paths.dolly_zoom(2.0, 4.0, 50.0, seconds=2.0)
    c2w, fov = p.sample([0.0, 1.0, 2.0])
    Ks = np.stack([cam.with_fov(f).K for f in fov])
    tracks, vis, _ = field.project(c2w, Ks)
    np.testing.assert_allclose(tracks[1], tracks[0], atol=1e-6)
    np.testing.assert_allclose(tracks[2], tracks[0], atol=1e-6)
    assert fov[2] > fov[0]


def test_bad_depth_is_rejected():
    cam = Camera.from_fov(W, H, 50.0)
    with pytest.raises(ValueError):
        TrackField(np.full((H, W + 1), 2.0), cam)
    d = np.full((H, W), 2.0)
    d[3, 3] = np.nan
    with pytest.raises(ValueError):
        TrackField(d, cam)


def test_looping_object_path_holds_before_its_first_keyframe():
    p = ObjectPath([ObjectKeyframe(1.0), ObjectKeyframe(2.0, (1, 0, 0)), ObjectKeyframe(3.0)], loop=True,
                   interpolation="linear")
    np.testing.assert_allclose(p.matrices([0.0, 0.5, 1.5, 3.5])[:, 0, 3], [0.0, 0.0, 0.5, 0.5])
    # Nearly (not exactly) closed loops fall back to a natural spline instead of failing.
    ObjectPath([ObjectKeyframe(0.0), ObjectKeyframe(1.0, (1, 0, 0)), ObjectKeyframe(2.0, (1e-9, 0, 0))], loop=True)
