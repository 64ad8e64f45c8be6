import numpy as np
import pytest

from motionworld.errors import PathFileError
from motionworld.geometry.actions import actions_to_c2w, parse_actions

sana = pytest.importorskip("diffusers.pipelines.sana_wm.cam_utils")

STRINGS = ["w-16", "w-16,jw-8,none-4", "W-3, lw-5 ，s-2", "i-100,k-10,l-30", "wasd-4,ijkl-4,d-7", "kw-90,iw-200,none-1"]


@pytest.mark.parametrize("text", STRINGS)
def test_poses_match_sana_wm(text):
    ours = actions_to_c2w(text)
    theirs = sana.action_string_to_c2w(text)
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, atol=1e-5)


def test_speeds_match_sana_wm():
    kw = dict(translation_speed=0.2, rotation_speed_deg=3.0, pitch_limit_deg=40.0)
    np.testing.assert_allclose(actions_to_c2w("iw-30,ld-20", **kw), sana.action_string_to_c2w("iw-30,ld-20", **kw),
                               atol=1e-5)


def test_first_pose_is_identity_and_forward_is_plus_z():
    c2w = actions_to_c2w("w-10")
    np.testing.assert_array_equal(c2w[0], np.eye(4))
    np.testing.assert_allclose(c2w[-1][:3, 3], [0, 0, 0.5], atol=1e-9)


def test_pitch_steps_beyond_the_limit_are_dropped():
    c2w = actions_to_c2w("i-200")
    pitch = np.degrees(np.arcsin(-c2w[:, 1, 2]))
    assert pitch.max() <= 85.0 + 1e-9
    assert pitch[-1] == pytest.approx(84.0)


@pytest.mark.parametrize("text,match", [
    ("", "empty"), ("w-16,,s-2", "segment 2"), ("x-3", "unknown key"), ("w-0", "positive frame count"),
    ("w16", "KEYS-FRAMES"), ("w-1.5", "KEYS-FRAMES"),
])
def test_bad_action_strings(text, match):
    with pytest.raises(PathFileError, match=match):
        parse_actions(text)
