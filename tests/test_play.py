"""The play window, for real: pygame + moderngl on a virtual X display (Xvfb).

Each test opens a window, injects input through pygame's event queue and reads back what was
drawn. The generator is the warp renderer on a small four-colour scene, so the frames are known.
"""
import time

import numpy as np
import pytest

from controllers import keys as sc
from motionworld.backends import WarpGenerator
from motionworld.play import commands
from motionworld.play.session import Session
from motionworld.world import World

pytestmark = pytest.mark.display

RED, GREEN, BLUE, WHITE = (220, 40, 40), (40, 220, 40), (40, 40, 220), (230, 230, 230)


def quadrant_scene(folder, w=160, h=96):
    """A picture whose four quarters have different colours (so orientation shows), on a plane."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    img = np.zeros((h, w, 3), np.uint8)
    img[: h // 2, : w // 2], img[: h // 2, w // 2:] = RED, GREEN
    img[h // 2:, : w // 2], img[h // 2:, w // 2:] = BLUE, WHITE
    Image.fromarray(img).save(folder / "picture.png")
    np.save(folder / "depth.npy", np.full((h, w), 3.0, np.float32))
    path = folder / "scene.yaml"
    path.write_text("version: 1\nimage: picture.png\ndepth: {source: file, path: depth.npy}\ncamera: {fov_deg: 50}\n"
                    "tracks: {grid: 12}\npaths:\n  walk:\n    - dolly: {distance: 0.5, seconds: 1}\n")
    return path


def track_shown(window) -> list:
    """Collects every frame the window puts on screen."""
    shown, original = [], window._show

    def show(frame):
        shown.append(frame.image.copy())
        original(frame)

    window._show = show
    return shown


def digest(frames) -> str:
    import hashlib

    h = hashlib.sha256()
    for f in frames:
        h.update(np.ascontiguousarray(f).tobytes())
    return h.hexdigest()


def key(pygame, code, scancode, up=False, unicode=""):
    kind = pygame.KEYUP if up else pygame.KEYDOWN
    pygame.event.post(pygame.event.Event(kind, key=code, scancode=scancode, mod=0, unicode=unicode))


def window_on(scene, generator=None, **options):
    world = World(scene)
    session = Session(world, generator or WarpGenerator(), controller=commands.controls_for(world))
    return commands.make_window(session, **options)


def test_window_draws_the_generated_frame_and_keys_move_the_camera(on_xvfb, tmp_path):
    import pygame

    scene = quadrant_scene(tmp_path / "scene")
    window = window_on(scene, size=(400, 400), out_dir=tmp_path / "caps")
    window.show_hud = window.show_points = False
    seen = {}

    def after_draw(w):
        if w.current is not None and "pixels" not in seen:
            seen["pixels"], seen["frame"] = w.read_pixels(), w.current.image.copy()

    def on_step(w):
        if len(w.polls) == 1:
            key(pygame, pygame.K_w, sc.W, unicode="w")

    window.after_draw = after_draw
    start_z = window.player.session.rig.c2w[2, 3]
    window.run(max_seconds=60, until=lambda w: w.current is not None and w.current.index >= 30, on_step=on_step)

    assert window.current.index >= 30
    assert window.current.c2w[2, 3] > start_z + 0.3  # W was held: the camera walked in (1 unit/s after the first chunk)
    pixels, frame = seen["pixels"], seen["frame"]
    assert pixels.shape == (400, 400, 3) and frame.shape == (96, 160, 3)
    # 160x96 letterboxed into 400x400: 400x240, with bars of 80 rows above and below.
    assert pixels[:78].max() < 30 and pixels[-78:].max() < 30
    picture = pixels[80:320]
    assert picture.mean() > 80  # not black
    from PIL import Image

    expected = np.asarray(Image.fromarray(frame).resize((400, 240), Image.Resampling.BILINEAR)).astype(int)
    assert np.abs(picture.astype(int) - expected).mean() < 8
    # Right way up: each quarter shows its colour.
    for (y, x), colour in {(60, 100): RED, (60, 300): GREEN, (180, 100): BLUE, (180, 300): WHITE}.items():
        np.testing.assert_allclose(picture[y, x], colour, atol=12)


def test_input_keeps_its_pace_while_the_generator_takes_a_second_per_chunk(on_xvfb, tmp_path):
    class SlowWarp(WarpGenerator):
        def step(self, chunk):
            time.sleep(1.0)
            return super().step(chunk)

    scene = quadrant_scene(tmp_path / "scene")
    window = window_on(scene, SlowWarp(), size=(320, 240), out_dir=tmp_path / "caps")
    shown, busy_polls = [], []
    original_show = window._show

    def show(frame):
        shown.append(frame.index)
        original_show(frame)

    window._show = show
    window.run(max_seconds=4.0, on_step=lambda w: busy_polls.append(w.player.busy))

    gaps = np.diff(window.polls)
    assert len(window.polls) > 100  # about 60 polls a second for 4 s
    # Display rate: a frame every ~17 ms; a rare pause (a garbage collection in this big test
    # process) is allowed, a poll that waits for the 1 s generator is not.
    assert np.median(gaps) < 0.03 and np.percentile(gaps, 95) < 0.05 and gaps.max() < 0.5
    assert sum(busy_polls) > 60  # input kept being polled while a chunk was being made
    assert shown == list(range(len(shown))) and len(shown) >= 9  # every frame, in order, none skipped
    assert window.clock.rate < 0.95  # playback slowed down to the generation rate


def test_recording_screenshot_drag_and_replay(on_xvfb, tmp_path):
    import pygame

    scene = quadrant_scene(tmp_path / "scene")
    log = tmp_path / "session.jsonl"
    window = window_on(scene, size=(400, 400), out_dir=tmp_path / "caps", log_path=log)
    state = {"recording_from": None, "recorded": None}
    shown = track_shown(window)

    def on_step(w):
        n = len(w.polls)
        if n == 1:
            key(pygame, pygame.K_d, sc.D, unicode="d")
            key(pygame, pygame.K_F9, 66)
        if w.current is not None and w.current.index >= 12 and "dragged" not in state:
            state["dragged"] = True  # drag from the picture's centre to the right, pin a point
            pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=(200, 200), button=1))
            pygame.event.post(pygame.event.Event(pygame.MOUSEMOTION, pos=(260, 210), rel=(60, 10), buttons=(1, 0, 0)))
            pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=(100, 150), button=3))
        if w.current is not None and w.current.index >= 30 and state["recorded"] is None:
            state["recorded"] = w.recorder.count if w.recorder is not None else -1
            pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONUP, pos=(260, 210), button=1))
            key(pygame, pygame.K_F9, 66)
            key(pygame, pygame.K_F12, 69)

    window.run(max_seconds=60, until=lambda w: len(w.saved) >= 2, on_step=on_step)

    videos = [p for p in window.saved if p.suffix == ".mp4"]
    shots = [p for p in window.saved if p.suffix == ".png"]
    assert len(videos) == 1 and len(shots) == 1
    frames = _ffmpeg_frames(videos[0])
    assert len(frames) == state["recorded"] >= 25 and frames.shape[1:] == (96, 160, 3)
    from PIL import Image

    assert Image.open(shots[0]).size == (400, 400)

    # The log replays bit-exactly (each chunk's frames are checked against the recorded digest),
    # drags and pins included.
    from motionworld.play.input_log import read_log

    _, lines = read_log(log)
    assert any(line.get("drag", {}).get("drags") for line in lines)
    assert any(line.get("drag", {}).get("pins") for line in lines)
    result = commands.replay(log, tmp_path / "replay.mp4", progress=False)
    assert result.mismatches == [] and result.chunks == sum("commands" in line for line in lines)
    # ... and it is the video the window showed, frame for frame (not the frames left queued at quit).
    assert result.frames == len(shown) and result.digest == digest(shown)


def _ffmpeg_frames(path):
    import imageio.v2 as iio2

    with iio2.get_reader(path, format="FFMPEG") as reader:
        return np.stack([frame for frame in reader])  # list(reader) asks len(), which is inf here


def test_gamepad_unplugged_mid_session_is_reported_not_fatal(on_xvfb, tmp_path):
    import pygame

    scene = quadrant_scene(tmp_path / "scene")
    window = window_on(scene, size=(320, 240), out_dir=tmp_path / "caps")

    class Pad:
        name = "test pad"
        instance_id = 5

        def read(self, pygame):
            raise pygame.error("Joystick not initialized")  # what SDL says about a pad pulled out

    def on_step(w):
        n = len(w.polls)
        if n == 2:
            w.input.pads[5] = Pad()
        if n == 20:
            pygame.event.post(pygame.event.Event(pygame.JOYDEVICEREMOVED, instance_id=5))
            key(pygame, pygame.K_w, sc.W, unicode="w")

    window.run(max_seconds=60, until=lambda w: w.current is not None and w.current.index >= 25, on_step=on_step)
    assert not window.input.pads
    assert any("gamepad disconnected" in m for _, m in window.messages)
    assert window.current.index >= 25  # the session went on


def test_play_command_errors_and_headless_fallback(tmp_path, monkeypatch, capsys):
    from motionworld.cli import main

    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    assert main(["play", str(tmp_path / "missing.yaml")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "missing.yaml" in err[0]

    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "picture.tga").write_bytes(b"\0" * 64)
    (bad / "scene.yaml").write_text("version: 1\nimage: picture.tga\n")
    assert main(["play", str(bad / "scene.yaml")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unsupported image format" in err[0]

    scene = quadrant_scene(tmp_path / "scene")
    assert main(["play", str(scene)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no display" in err[0]

    out = tmp_path / "demo.mp4"
    assert main(["play", str(scene), "--fallback-render", str(out)]) == 0
    said = capsys.readouterr().out
    assert "rendering the scene's default path headless" in said and out.stat().st_size > 0
    assert len(_ffmpeg_frames(out)) == 17  # the 1 s walk: 16 frames after the first


def test_keys_pause_restart_and_toggle_layers(on_xvfb, tmp_path):
    import pygame

    scene = quadrant_scene(tmp_path / "scene")
    log = tmp_path / "keys.jsonl"
    window = window_on(scene, size=(320, 240), out_dir=tmp_path / "caps", log_path=log)
    shown = track_shown(window)
    seen = {}

    def on_step(w):
        n, f = len(w.polls), w.current
        if f is not None and "pinned" not in seen:
            seen["pinned"] = True
            pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=(100, 100), button=3))  # a pin
        if n == 1:
            for code, scancode, text in ((pygame.K_TAB, 43, ""), (pygame.K_h, 11, "h"),
                                         (pygame.K_SLASH, 56, "?")):
                key(pygame, code, scancode, unicode=text)
        if f is not None and f.index >= 10 and "paused_at" not in seen:
            seen["layers"] = (w.show_points, w.show_hud, w.show_help)
            key(pygame, pygame.K_SPACE, 44, unicode=" ")
            seen["paused_at"] = n
        if "paused_at" in seen and n == seen["paused_at"] + 40 and "frozen" not in seen:
            seen["frozen"] = (f.index, w.player.paused)
            key(pygame, pygame.K_SPACE, 44, unicode=" ")  # resume
            key(pygame, pygame.K_r, 21, unicode="r")  # and restart

    window.run(max_seconds=60, on_step=on_step,
               until=lambda w: ("frozen" in seen and w.current is not None and w.current.restart == 1
                                and w.current.index >= 12))
    assert seen["layers"] == (True, False, True)  # Tab showed the tracks (off at first), h hid the HUD
    frozen_index, paused = seen["frozen"]
    assert paused and frozen_index <= 11  # nothing new was shown in 40 polls while paused
    assert window.current.restart == 1  # back at the start, then on
    from motionworld.play.input_log import read_log

    _, lines = read_log(log)
    reset = next(i for i, line in enumerate(lines) if line.get("reset"))
    assert any(line.get("drag", {}).get("pins") for line in lines[:reset])
    assert not any(line.get("drag") for line in lines[reset:])  # the restart dropped the pin
    result = commands.replay(log, progress=False)
    assert result.mismatches == [] and result.digest == digest(shown)  # restart and all
