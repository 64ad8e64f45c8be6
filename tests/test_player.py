"""The loop behind the window and `render`, without a window: input hand-off, drags, the worker
thread, playback pacing, input logs and replay, the pieces of the HUD and the screen maths."""
import json
import subprocess
import sys

import numpy as np
import pytest

import motionworld as mw
from controllers import keys as sc
from controllers.base import GamepadState, InputState
from controllers.drag import DragTool, pick
from controllers.latch import InputLatch
from motionworld.geometry.drag import Drag, DragState
from motionworld.geometry.rig import ControlCommand
from motionworld.play.hud import hud_lines
from motionworld.play.keymap import CONTROLS
from motionworld.play.player import PlaybackClock, Player
from motionworld.play.screen import letterbox, window_to_frame

ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]


# --- input hand-off -----------------------------------------------------------------------------
class FakeClock:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


def test_latch_hands_over_a_timeline_and_keeps_what_is_held():
    clock = FakeClock()
    latch = InputLatch(clock=clock)
    latch.restart_span()
    latch.feed(InputState(keys=frozenset({sc.W}), mouse_rel=(3, 1)), seq=1)
    clock.t += 0.25
    latch.feed(InputState(keys=frozenset({sc.W})), seq=2)  # still held: one piece with the first
    clock.t += 0.25
    latch.feed(InputState(keys=frozenset(), mouse_rel=(2, -4), gamepad=GamepadState(True, (0.5, 0))), seq=3)
    clock.t += 0.5
    span, drag = latch.take()
    assert not drag and span.seconds == pytest.approx(1.0)
    held = [(s, p.keys) for s, p, _ in span.pieces]
    assert held[0] == (pytest.approx(0.25), frozenset({sc.W}))  # the piece that carried the mouse motion
    assert sum(s for s, k in held if k) == pytest.approx(0.5)  # W was held half a second, not "the chunk"
    assert sum(p.mouse_rel[0] for _, p, _ in span.pieces) == 5  # motion adds up, once
    assert span.seq_until(0.1) == 1 and span.seq_until(0.99) == 3
    clock.t += 0.5
    span, _ = latch.take()
    (seconds, state, seq), = span.pieces
    assert seconds == pytest.approx(0.5) and state.gamepad.connected and state.mouse_rel == (0, 0) and seq == 3


def _span(*pieces):
    from controllers.latch import InputSpan

    return InputSpan(tuple((s, InputState(keys=frozenset(k), mouse_rel=m, mouse_captured=True), i + 1)
                           for i, (s, k, m) in enumerate(pieces)))


def _walk(span, updates, damping_s=0.0):
    from controllers import KeyboardController, MouseController
    from controllers.base import CombinedController
    from motionworld.geometry.rig import CameraRig

    rig = CameraRig(damping_s=damping_s)
    commands, seqs = span.commands(CombinedController([KeyboardController(), MouseController()]), updates, rig.sprint)
    for c in commands:
        rig.update(c, 1 / 16)
    return rig, seqs


@pytest.mark.parametrize("updates", [3, 8, 12, 24])
def test_a_key_held_t_seconds_moves_speed_times_t_whatever_the_chunk(updates):
    nothing = ((), (0, 0))
    tap = _span((0.2, *nothing), (0.1, (sc.W,), (0, 0)), (0.45, *nothing))
    rig, seqs = _walk(tap, updates)
    assert rig.position[2] == pytest.approx(0.1)  # a 0.1 s tap walks 0.1 units (move speed 1), not a chunk's 0.75
    assert seqs == sorted(seqs) and seqs[-1] == 3 and seqs[0] == (1 if updates > 4 else 2)
    turn = _span((1.0, (sc.J,), (0, 0)))  # J held one second at 60 degrees/s
    rig, _ = _walk(turn, updates)
    assert rig.yaw == pytest.approx(-60.0)
    mixed = _span((0.3, (sc.W, sc.LSHIFT), (4, 0)), (0.3, (sc.W,), (6, 0)), (1.0, *nothing))
    rig, _ = _walk(mixed, updates, damping_s=0.15)  # damping delays the walk, not shortens it
    assert rig.position[2] == pytest.approx(0.3 * 2.5 + 0.3, rel=0.03)  # sprinted part at 2.5x, exactly
    assert rig.yaw == pytest.approx(10 * 0.15)  # all the mouse motion, once


def test_drag_tool_hands_over_a_flick_that_ended_between_chunks():
    tool = DragTool()
    tool.press((10, 10), object_id=1, depth=2.0)
    tool.move((30, 12))
    tool.release()
    tool.pin((5, 6))
    state = tool.take()
    assert [d.current for d in state.drags] == [(30.0, 12.0)] and state.pins == ((5.0, 6.0),)
    assert tool.take().drags == ()  # handed over once
    tool.clear()
    assert not tool.take()


def test_pick_finds_the_object_under_the_cursor():
    tracks = np.array([[10.0, 10.0], [50.0, 50.0], [52.0, 50.0]])
    vis = np.array([True, True, False])
    ids = np.array([0, 2, 2])
    assert pick((49, 51), tracks, vis, np.array([1.0, 3.0, 3.0]), ids, 100.0) == (2, 3.0)
    assert pick((90, 90), tracks, vis, np.ones(3), ids, 100.0)[0] == 0  # nothing near


# --- drags in a session -------------------------------------------------------------------------
@pytest.mark.display
def test_dragging_an_object_moves_it_with_the_cursor(garden):
    session = mw.Session(garden, backend="warp", max_size=128)
    world = session.world
    session.next_chunk()
    chunk = session.last_chunk
    ball = np.flatnonzero((world.field.object_ids == 1) & chunk.visibility[-1])
    assert len(ball)
    grab = chunk.tracks[-1, ball[0]]
    depth = float(chunk.depth[-1, ball[0]])
    before = world.object_transforms(chunk.times[-1:] + 12 / 16)[0, 0, :3, 3]
    drag = DragState((Drag(1, tuple(grab), tuple(grab + [-40.0, 0.0]), 1, depth),), ((100.0, 100.0),))
    session.next_chunk(ControlCommand(), drag)
    c = session.last_chunk
    moved = c.object_transforms[-1, 0, :3, 3] - before
    assert abs(moved[0]) > 0.1  # the ball moved sideways in the world
    # Its tracks followed the cursor: about -40 px, compared with where the path alone puts them.
    plain = world.tracks_for_poses(c.c2w[-1:], c.times[-1:])
    shift = c.tracks[-1, ball, 0] - plain.tracks[0, ball, 0]
    assert np.median(shift) == pytest.approx(-40, abs=6)
    # The drag and the pin travel with the chunk as extra tracks (drag first, then pin).
    assert c.extra_tracks.shape == (12, 2, 2) and list(c.extra_kinds) == ["drag", "pin"]
    np.testing.assert_allclose(c.extra_tracks[-1, 0], grab + [-40.0, 0.0], atol=1e-4)
    np.testing.assert_allclose(c.extra_tracks[:, 1], 100.0)
    tracks, vis = c.all_tracks
    assert tracks.shape[1] == world.field.num_tracks + 2 and vis[:, -2:].all()
    session.close()


def test_mouse_look_is_spread_over_the_chunk(garden):
    session = mw.Session(garden, backend="tracks", max_size=64)
    yaw0 = session.rig.yaw
    session.next_chunk(ControlCommand(look_deg=np.array([16.0, 0.0])))
    assert session.rig.yaw - yaw0 == pytest.approx(16.0)  # the whole look, not 8 times it
    yaws = [np.degrees(np.arctan2(c[0, 2], c[2, 2])) for c in session.last_chunk.c2w]
    assert np.all(np.diff(yaws) > 0)  # turning a little each frame


# --- the worker and the playback clock --------------------------------------------------------
def test_player_delivers_every_frame_in_order_and_restarts(garden):
    session = mw.Session(garden, backend="tracks", max_size=64)
    player = Player(session, max_frames=40).start()
    frames = []
    while (f := player.wait_frame(timeout=60)) is not None:
        frames.append(f)
    player.stop()
    assert [f.index for f in frames] == list(range(40))
    assert frames[0].image.shape == session.generator.picture.shape
    assert player.generation_fps() > 0 and player.last_timing().split.keys() == {"camera+tracks", "generate"}

    session = mw.Session(garden, backend="tracks", max_size=64)
    player = Player(session).start()
    first = player.wait_frame(timeout=60)
    player.restart()
    again = player.wait_frame(timeout=60)
    player.stop()
    assert again.index == 0 and again.restart == 1 and first.restart == 0


def test_worker_errors_reach_the_caller(garden):
    class Broken:
        name, chunk_index = "broken", 0

        def start(self, world):
            self.height = self.width = 8

        def frames_for_next_chunk(self):
            return 9

        def step(self, chunk):
            raise mw.MotionWorldError("generator fell over")

        def close(self):
            pass

    player = Player(mw.Session(garden, backend=Broken())).start()
    with pytest.raises(mw.MotionWorldError, match="fell over"):
        player.wait_frame(timeout=30)
    player.stop()


def test_playback_slows_evenly_when_generation_is_slow():
    clock = PlaybackClock(16)
    assert clock.interval(None, 0, 12) == pytest.approx(1 / 16)
    assert clock.interval(8.0, 3, 12) == pytest.approx(1 / 8)  # half speed, evenly spaced
    assert clock.interval(8.0, 12, 12) == pytest.approx(1 / 16)  # a chunk in hand: real time
    clock.shown(10.0, 1 / 8)
    assert not clock.due(10.1) and clock.due(10.125) and clock.rate == pytest.approx(0.5)
    clock.shown(11.0, 1 / 16)  # a late display loop does not build up a debt of frames
    assert clock.next_due == pytest.approx(11.0 + 1 / 16)


# --- logs and replay ---------------------------------------------------------------------------
def _cli(*args):
    return subprocess.run([sys.executable, "-m", "motionworld", *map(str, args)], capture_output=True, text=True)


def test_render_log_replays_bit_exactly_and_tampering_is_caught(tmp_path, garden):
    log = tmp_path / "walk.jsonl"
    run = _cli("render", garden, "--backend", "tracks", "--size", "96", "--seconds", "1.5", "-o", tmp_path / "a.mp4",
               "--log", log)
    assert run.returncode == 0, run.stderr
    assert "frames/s" in run.stdout and "chunk latency" in run.stdout and "25 frames" in run.stdout
    rendered = run.stdout.split("frames sha256 ")[1].split()[0]
    run = _cli("replay", log, "-o", tmp_path / "frames")
    assert run.returncode == 0, run.stderr
    assert "bit-exact: all 3 chunks" in run.stdout
    # The last chunk was cut to the path's 25 frames: the replay writes what the render wrote.
    assert len(list((tmp_path / "frames").glob("*.png"))) == 25 and f"frames sha256 {rendered}" in run.stdout

    lines = log.read_text().splitlines()
    chunk = json.loads(lines[2])
    chunk["commands"][3]["pose"][3] += 0.05  # one frame of the path moved
    lines[2] = json.dumps(chunk)
    log.write_text("\n".join(lines) + "\n")
    run = _cli("replay", log)
    assert run.returncode == 1 and "1 of 3 chunks differ" in run.stderr and "line 3" in run.stderr

    bad_pose = dict(chunk, commands=[{"pose": [1.0, 2.0]}])
    for text, msg in [("not json\n", "log.jsonl:1: not a JSON line"),
                      ('{"format": "other"}\n', "not a motionworld input log"),
                      (lines[0] + "\n{oops\n", "log.jsonl:2: not a JSON line"),
                      (lines[0] + "\n", "has no chunks"),
                      (lines[0] + "\n" + lines[1] + "\n" + json.dumps(bad_pose) + "\n", "log.jsonl:3: bad chunk line")]:
        (tmp_path / "log.jsonl").write_text(text)
        run = _cli("replay", tmp_path / "log.jsonl")
        err = run.stderr.strip().splitlines()
        assert run.returncode == 2 and len(err) == 1 and msg in err[0], run.stderr


def test_session_logged_with_inputs_and_drags_replays_in_process(garden, tmp_path):
    from controllers import KeyboardController
    from motionworld.play.commands import replay
    from motionworld.play.input_log import InputLog, chunk_record

    session = mw.Session(garden, backend="tracks", max_size=96, controller=KeyboardController())
    log = InputLog({"session": session.spec}, tmp_path / "s.jsonl")
    drag = DragState((Drag(1, (200.0, 300.0), (240.0, 290.0)),), ((10.0, 20.0),))
    for inputs, d in [(InputState(keys=frozenset({sc.W, sc.LSHIFT})), None), (InputState(keys=frozenset({sc.L})), drag),
                      (InputState(), None)]:
        frames = session.next_chunk(inputs, d)
        log.add(chunk_record(session.last_record, frames))
    session.reset()
    log.add({"reset": True})
    frames = session.next_chunk(InputState(keys=frozenset({sc.A})))
    log.add(chunk_record(session.last_record, frames))
    log.close()
    result = replay(tmp_path / "s.jsonl", progress=False)
    assert result.mismatches == [] and result.chunks == 4 and result.frames == 9 + 12 + 12 + 9


# --- HUD, key map, screen maths ---------------------------------------------------------------
def test_hud_says_what_a_player_needs():
    from motionworld.play.player import ChunkTiming

    lines = hud_lines(backend="neural", size=(128, 128), phase="paused", generation_fps=9.5, shown_fps=9.4,
                      video_fps=16, latency_ms=812.0, frame_index=40,
                      timing=ChunkTiming(12, 1.26, {"camera+tracks": 0.06, "generate": 1.2}, 0.0),
                      playback_rate=0.6, c2w=np.eye(4), cache="c3s1w1, 3 steps", recording=True,
                      depth="file garden_depth.png", weights="weights")
    text = "\n".join(lines)
    for part in ("neural weights", "128x128", "c3s1w1", "depth file garden_depth.png", "generated 9.5 fps",
                 "shown 9.4 fps", "video 16 fps", "latency 812 ms", "1260 ms", "generate 1200", "0.60x", "heading",
                 "PAUSED", "REC", "? keys", "frame 40"):
        assert part in text, part
    before = "\n".join(hud_lines(backend="neural", size=None, phase="loading the model", generation_fps=None,
                                 shown_fps=0.0, video_fps=16, latency_ms=None, timing=None, playback_rate=1.0,
                                 c2w=None, cache="", recording=False, frame_index=None))
    assert "loading the model" in before and "0x0" not in before and "frame -1" not in before


def test_the_engine_says_loading_then_first_frame_then_playing():
    import threading
    import time

    from controllers import KeyboardController
    from motionworld.backends import WarpGenerator
    from motionworld.play.commands import make_engine

    class Gated(WarpGenerator):  # a model that loads, then makes its first chunk, when told to
        def __init__(self):
            super().__init__(max_size=64)
            self.loaded, self.made = threading.Event(), threading.Event()

        def start(self, world):
            self.loaded.wait(10)
            super().start(world)

        def step(self, chunk):
            self.made.wait(10)
            return super().step(chunk)

    gen = Gated()
    session = mw.Session(mw.load_scene(ROOT / "scenes" / "garden" / "scene.yaml"), gen, controller=KeyboardController())
    engine = make_engine(session, out_dir="/nonexistent").start()
    phases = [engine.phase]
    gen.loaded.set()
    while not session.started:
        time.sleep(0.01)
    phases.append(engine.phase)
    gen.made.set()
    while engine.due_frame() is None:
        time.sleep(0.01)
    phases.append(engine.phase)
    engine.close()
    assert phases == ["loading the model", "first frame", "playing"]


def test_cache_label_counts_the_students_real_steps():
    from motionworld.play.defaults import SHIPPED_WEIGHTS
    from motionworld.play.engine import cache_label

    session = mw.Session(mw.load_scene(ROOT / "scenes" / "garden" / "scene.yaml"), backend="neural",
                         weights=SHIPPED_WEIGHTS)
    steps = len(session.generator.student.config.steps)
    assert cache_label(session).endswith(f", {steps} steps") and steps == 3  # the shipped student is 3-step


def test_readme_lists_every_control():
    readme = (ROOT / "README.md").read_text()
    for keys, _ in CONTROLS:
        assert f"| {keys} |" in readme, keys


def test_letterbox_and_cursor_mapping_agree():
    assert letterbox(400, 400, 160, 96) == (0, 80, 400, 240)
    assert letterbox(1000, 400, 100, 100) == (300, 0, 400, 400)
    vp = letterbox(400, 400, 160, 96)
    assert window_to_frame((0, 80), vp, 160, 96, 400) == pytest.approx((-0.3, -0.3))
    assert window_to_frame((200, 200), vp, 160, 96, 400) == pytest.approx((79.7, 47.7))
    assert window_to_frame((200, 30), vp, 160, 96, 400) is None  # on the bar above the picture


def test_neural_backend_renders_and_replays_bit_exactly(tmp_path, garden):
    """The streaming student behind render and replay (tiny random weights saved the shipped way)."""
    from motionworld.model.student import StreamingStudent

    weights = tmp_path / "weights"
    StreamingStudent("tiny", seed=0).save(weights)
    log = tmp_path / "neural.jsonl"
    run = _cli("render", garden, "--backend", "neural", "--weights", weights, "--actions", "w-12,l-8",
               "-o", tmp_path / "n.mp4", "--log", log)
    assert run.returncode == 0, run.stderr
    assert "21 frames" in run.stdout
    header = json.loads(log.read_text().splitlines()[0])
    assert header["session"]["backend"] == "neural" and header["session"]["options"]["seed"] == 0
    run = _cli("replay", log)  # a fresh process: the same frames, to the bit
    assert run.returncode == 0 and "bit-exact: all 2 chunks" in run.stdout, run.stderr
    (weights / "student.safetensors").write_bytes(b"not weights")
    run = _cli("render", garden, "--backend", "neural", "--weights", weights, "-o", tmp_path / "m.mp4")
    err = run.stderr.strip().splitlines()
    assert run.returncode == 2 and len(err) == 1 and "student.safetensors" in err[0], run.stderr
