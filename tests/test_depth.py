
import numpy as np
import pytest

from motionworld.errors import DepthError
from motionworld.geometry.camera import Camera
from motionworld.geometry.depth import EstimatorDepth, PriorDepth


def test_prior_is_a_ground_plane_below_the_horizon_and_a_backdrop_above():
    cam = Camera.from_fov(200, 100, 50.0)
    prior = PriorDepth(PriorDepth.Options(horizon=0.4, camera_height=1.5, backdrop=20.0))
    d = prior.load(None, cam)
    assert d.shape == (100, 200) and np.all(np.isfinite(d)) and np.all(d > 0)
    col = d[:, 100]
    assert np.all(np.diff(col[60:]) < 0), "the ground comes closer towards the bottom"
    assert np.all(np.ptp(d[:35], axis=1) < 1e-4 * d[:35].mean()), "the backdrop is a wall facing the camera"
    # The lifted ground points really lie on the plane y = camera_height in the levelled frame.
    from motionworld.geometry.camera import pose_from_ypr, transform_points

    start = pose_from_ypr([0, 0, 0], 0.0, prior.pitch_deg(cam))
    px = np.array([[20.0, 95.0], [150.0, 80.0]])
    pts = transform_points(start, cam.unproject(px, d[px[:, 1].astype(int), px[:, 0].astype(int)]))
    np.testing.assert_allclose(pts[:, 1], 1.5, rtol=1e-6)


def test_plaza_prior_matches_the_rendered_layout(plaza):
    from motionworld import load_scene

    s = load_scene(plaza)
    # The horizon row sits at 42% of the height: just below it is far ground, near ground at the bottom.
    row = int(0.42 * s.height)
    assert s.depth[row + 3].mean() > 10 and s.depth[-1].mean() < 4
    # Lifted with the scene's start camera, the top of the picture lies on the facade (z = 25) and
    # the bottom on the ground (y = camera height), which is how make_scenes.py rendered it.
    top, bottom = s.lift_pixel(320, 5), s.lift_pixel(100, 395)
    assert top[2] == pytest.approx(25.0, rel=1e-4)
    assert bottom[1] == pytest.approx(1.6, rel=1e-4)


def test_estimator_errors_are_clear(tmp_path):
    est = EstimatorDepth(EstimatorDepth.Options(model="no_such_model"), tmp_path)
    with pytest.raises(DepthError, match="model folder not found"):
        est.load(np.zeros((8, 8, 3), np.uint8), Camera.from_fov(8, 8, 50.0))
    (tmp_path / "junk").mkdir()
    est = EstimatorDepth(EstimatorDepth.Options(model="junk"), tmp_path)
    with pytest.raises(DepthError, match="cannot load depth model"):
        est.load(np.zeros((8, 8, 3), np.uint8), Camera.from_fov(8, 8, 50.0))


@pytest.mark.slow
def test_estimator_runs_a_local_transformers_model(tiny_dpt):
    """A randomly initialised small DPT saved to disk stands in for a real depth checkpoint: the
    loading, preprocessing, resizing and relative-to-depth mapping are the real code path."""
    est = EstimatorDepth(EstimatorDepth.Options(model="dpt", near=1.0, far=30.0), tiny_dpt.parent)
    img = np.random.default_rng(0).integers(0, 255, (40, 60, 3), dtype=np.uint8)
    d = est.load(img, Camera.from_fov(60, 40, 50.0))
    assert d.shape == (40, 60) and d.dtype == np.float32
    assert np.all(np.isfinite(d)) and d.min() >= 1.0 - 1e-4 and d.max() <= 30.0 + 1e-3
