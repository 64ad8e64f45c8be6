"""`Session`: driving a world one video frame at a time through a generator (warp or neural)."""
import numpy as np
import pytest

import motionworld as mw
from controllers.base import InputState
from controllers.keyboard import KeyboardController
from controllers.keys import W
from motionworld.errors import MotionWorldError
from motionworld.geometry.rig import ControlCommand

pytestmark = pytest.mark.display  # the warp backend needs a GL context (EGL, headless)

FORWARD = ControlCommand(move=np.array([0.0, 0.0, 1.0]))


def test_warp_session_starts_on_the_picture_and_walks(garden):
    session = mw.Session(garden, backend="warp")
    first = session.tick(FORWARD)
    # Frame 0 is the picture itself (one pixel on the garden's 9x sky/wall depth edge may be off by one level).
    off = np.abs(first.astype(int) - session.world.scene.image).max(-1)
    assert off.max() <= 1 and (off > 0).sum() <= 2
    assert len(session.queue) == 8 and session.frame_index == 9  # the first chunk: 9 frames
    frames = session.run([FORWARD] * 20)
    assert frames.shape == (20,) + first.shape and session.frame_index == 9 + 12  # 21 ticks, two chunks
    assert session.c2w[2, 3] > session.world.scene.start_pose[2, 3] + 0.5  # it went forward
    assert np.abs(frames[-1].astype(int) - first).mean() > 5
    session.reset()
    np.testing.assert_array_equal(session.tick(), first)
    session.close()


def test_input_is_held_for_a_chunk(garden):
    """Latency is one chunk: a command sampled at a chunk's start drives all of its frames."""
    session = mw.Session(garden, backend="warp", max_size=128)
    session.tick(FORWARD)  # chunk 0 generated with FORWARD
    z_after_chunk = session.c2w[2, 3]
    for _ in range(8):  # these ticks only play chunk 0 out: stopping now changes nothing yet
        session.tick(ControlCommand())
    assert session.c2w[2, 3] == z_after_chunk and not session.queue
    session.tick(ControlCommand())  # chunk 1 starts: the stop takes effect (the rig coasts to rest)
    coast = session.c2w[2, 3] - z_after_chunk
    assert 0 <= coast < 0.5


def test_session_reads_inputs_through_a_controller(garden):
    session = mw.Session(garden, backend="warp", max_size=128, controller=KeyboardController())
    session.run([InputState(keys=frozenset({W}))] * 10)
    assert session.c2w[2, 3] > session.world.scene.start_pose[2, 3] + 0.3
    bare = mw.Session(garden, backend="warp", max_size=128)
    with pytest.raises(MotionWorldError, match="no controller"):
        bare.tick(InputState())


def test_neural_session_streams_at_the_model_resolution(garden):
    from motionworld.model.student import StreamingStudent

    session = mw.Session(garden, backend="neural", student=StreamingStudent("tiny", seed=0))
    frames = session.run([FORWARD] * 22)
    assert frames.shape == (22, 64, 64, 3) and frames.dtype == np.uint8
    assert session.frame_index == 21 + 12  # three chunks were generated
    with pytest.raises(MotionWorldError, match="no student weights in"):
        mw.Session(garden, backend="neural", weights=garden.parent)
    with pytest.raises(MotionWorldError, match="unknown backend"):
        mw.Session(garden, backend="magic")


def test_neural_session_defaults_to_the_shipped_weights_and_takes_the_file_too(garden):
    from motionworld.play.defaults import SHIPPED_WEIGHTS

    shipped = mw.Session(garden, backend="neural")  # as `motionworld play` does
    by_file = mw.Session(garden, backend="neural", weights=SHIPPED_WEIGHTS / "student.safetensors")
    assert shipped.spec["backend"] == "neural" and shipped.frame_size == by_file.frame_size == (192, 256)
    np.testing.assert_array_equal(shipped.run([FORWARD] * 9), by_file.run([FORWARD] * 9))


def test_neural_session_takes_drags_and_pins_that_come_and_go(garden):
    from motionworld.geometry.drag import Drag, DragState
    from motionworld.model.student import StreamingStudent

    session = mw.Session(garden, backend="neural", student=StreamingStudent("tiny", seed=0))
    session.next_chunk()
    grid = session.last_chunk.tracks.shape[1]
    drag = DragState((Drag(1, (30.0, 30.0), (20.0, 30.0), 1, 3.0),), ((40.0, 40.0),))
    session.next_chunk(FORWARD, drag)  # a drag and a pin appear mid-stream: they carry no first-frame look
    assert session.last_chunk.all_tracks[0].shape[1] == grid + 2
    session.next_chunk(FORWARD)  # and go again
    assert session.frame_index == 9 + 12 + 12
    session.close()


def test_scripted_playback_matches_the_render_path(garden):
    """A scripted controller is asked every frame (its poses are fixed in advance), so a session
    plays a camera path exactly as `render --backend warp` renders it."""
    from controllers.scripted import ScriptedController

    world = mw.World(garden)
    result = world.tracks("walk", seconds=2)
    rendered = np.stack(list(world.warp_frames(result, max_size=10_000)))
    session = mw.Session(world, backend="warp", controller=ScriptedController(world.absolute("walk")))
    played = session.run([InputState()] * len(result))
    np.testing.assert_allclose(np.stack(session.poses)[:len(result)], result.c2w, atol=1e-12)
    np.testing.assert_array_equal(played, rendered)
