"""The gymnasium environment MotionWorld-v0 (optional extra `gym`; installed with `dev`)."""
import numpy as np
import pytest

gym = pytest.importorskip("gymnasium")

pytestmark = pytest.mark.display  # the warp backend renders with headless GL


def test_env_passes_gymnasiums_checker(garden):
    from gymnasium.utils.env_checker import check_env

    import motionworld.play.gym_env  # noqa: F401 - registers the id

    env = gym.make("MotionWorld-v0", scene=garden, max_chunks=3)
    check_env(env.unwrapped, skip_render_check=False)
    env.close()


def test_an_episode_walks_forward_and_is_truncated(garden):
    import motionworld.play.gym_env  # noqa: F401

    env = gym.make("MotionWorld-v0", scene=garden, max_chunks=2, reward_fn=lambda frames, c2w: float(c2w[2, 3]))
    obs, info = env.reset(seed=1)
    assert obs.shape == env.observation_space.shape == (96, 128, 3) and info["frame"] == 0
    z0 = info["c2w"][2, 3]
    obs, reward, terminated, truncated, info = env.step(np.array([0, 0, 1, 0, 0], np.float32))
    assert info["frame"] == 9 and reward > z0 and not terminated and not truncated
    assert not np.array_equal(obs, env.unwrapped.session.picture())  # the view changed
    obs, reward, terminated, truncated, info = env.step(np.array([np.nan, 0, 0, 0, 0], np.float32))
    assert truncated and info["frame"] == 21 and np.all(np.isfinite(info["c2w"]))
    np.testing.assert_array_equal(env.render(), obs)
    env.close()
