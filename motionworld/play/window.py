"""The play window: pygame for the window and input, moderngl (OpenGL 3.3 core) for drawing.

The main thread never waits for the model. Each display frame it polls input and feeds it to the
engine (`motionworld.play.engine`, the play core the web page shares), takes the frame the engine
says is due, and draws frame, track overlay, HUD and key list.
"""
from __future__ import annotations

import logging
import os
import sys
import time
from collections import deque

import numpy as np

from controllers.pygame_input import PygameInput

from ..errors import MotionWorldError
from ..geometry.camera import scale_pixels
from ..raster.gl import release_thread_context
from ..raster.overlay import DRAG_COLOUR, MOVING_COLOUR, OBJECT_COLOURS, PIN_COLOUR, STILL_COLOUR
from .engine import Engine, rate
from .keymap import help_lines
from .player import Frame, end_status
from .screen import Screen, window_to_frame

log = logging.getLogger("motionworld.window")

MOVING_PX = 0.25  # scene pixels per frame below which a track counts as still


class NoDisplayError(MotionWorldError):
    """No window can be opened here (no display server)."""


HEADLESS_DRIVERS = ("offscreen", "dummy", "evdev")  # SDL video drivers that show nothing on a screen


def display_available() -> bool:
    if os.environ.get("SDL_VIDEODRIVER") in ("dummy", "offscreen"):
        return False
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")) or os.name == "nt"


def open_window(size: tuple[int, int], title: str, fullscreen: bool = False):
    """A pygame window with a current OpenGL 3.3 core context, and its moderngl context."""
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    import moderngl
    import pygame

    if not display_available():
        raise NoDisplayError("no display to open a window on (DISPLAY is not set)")

    release_thread_context()  # a current headless (EGL) context in this thread would block the window's
    where = os.environ.get("WAYLAND_DISPLAY") or os.environ.get("DISPLAY") or "none"
    if sys.platform.startswith("linux") and os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("SDL_VIDEODRIVER", "x11")  # an unreachable X display then fails, not falls back
    try:
        try:
            pygame.display.init()
        except pygame.error as e:
            raise NoDisplayError(f"no display to open a window on: {where} cannot be reached ({e})") from None
        driver = pygame.display.get_driver()
        if driver in HEADLESS_DRIVERS:  # SDL fell back to drawing nowhere: play would run unseen
            pygame.quit()
            raise NoDisplayError(f"no display to open a window on: {where} cannot be reached (SDL fell back to its "
                                 f"{driver} driver)")
        pygame.font.init()
        pygame.joystick.init()
        pygame.display.gl_set_attribute(pygame.GL_CONTEXT_MAJOR_VERSION, 3)
        pygame.display.gl_set_attribute(pygame.GL_CONTEXT_MINOR_VERSION, 3)
        pygame.display.gl_set_attribute(pygame.GL_CONTEXT_PROFILE_MASK, pygame.GL_CONTEXT_PROFILE_CORE)
        pygame.display.gl_set_attribute(pygame.GL_DOUBLEBUFFER, 1)
        flags = pygame.OPENGL | pygame.DOUBLEBUF | (pygame.FULLSCREEN if fullscreen else pygame.RESIZABLE)
        pygame.display.set_mode(size, flags, vsync=0)
        pygame.display.set_caption(title)
        ctx = moderngl.create_context(require=330)
    except NoDisplayError:
        raise
    except (pygame.error, moderngl.Error, Exception) as e:
        pygame.quit()
        raise NoDisplayError(f"could not open an OpenGL 3.3 window: {str(e).strip() or type(e).__name__}") from None
    return pygame, ctx


def _to_frame(world, frame_shape):
    """Scene pixels -> the generated frame's pixels, as float32 [N, 2]."""
    H, W = world.scene.image.shape[:2]
    sx, sy = frame_shape[1] / W, frame_shape[0] / H
    return lambda xy: scale_pixels(xy, sx, sy).astype(np.float32).reshape(-1, 2)


def track_overlay(frame: Frame, previous: Frame | None, world) -> tuple[np.ndarray, np.ndarray]:
    """Visible track points of one displayed frame (frame pixel coordinates) and their colours:
    object tracks in their object's colour, others amber when they moved since the last frame and
    blue when still (green and red are the drags' and pins')."""
    chunk, t = frame.chunk, frame.t
    to_frame = _to_frame(world, frame.image.shape)
    cur = chunk.tracks[t]
    if t > 0:
        prev = chunk.tracks[t - 1]
    elif previous is not None and previous.restart == frame.restart:
        prev = previous.chunk.tracks[previous.t]
    else:
        prev = cur
    moved = np.hypot(*(cur - prev).T) > MOVING_PX
    ids = world.field.object_ids
    colours = np.where(moved[:, None], MOVING_COLOUR, STILL_COLOUR)
    on_obj = ids > 0
    colours[on_obj] = OBJECT_COLOURS[(ids[on_obj] - 1) % len(OBJECT_COLOURS)]
    vis = chunk.visibility[t]
    return to_frame(cur[vis]), colours[vis]


def drag_marks(view, world, frame_shape) -> tuple[np.ndarray, np.ndarray]:
    """Drags as green dotted lines from where they were grabbed to the cursor, pins as red points."""
    to_frame = _to_frame(world, frame_shape)
    xy, cols = [np.zeros((0, 2), np.float32)], [np.zeros((0, 3), np.uint8)]
    ramp = np.linspace(0.0, 1.0, 12)[:, None]
    for d in view.drags:
        start, end = np.asarray(d.start), np.asarray(d.current)
        xy.append(to_frame(start + (end - start) * ramp))
        cols.append(np.repeat(DRAG_COLOUR[None], len(ramp), 0))
    if view.pins:
        xy.append(to_frame(view.pins))
        cols.append(np.repeat(PIN_COLOUR[None], len(view.pins), 0))
    return np.concatenate(xy), np.concatenate(cols)


class Window:
    """`Window(engine).run()` shows the stream until Esc or the window is closed: pygame events
    become the engine's input and commands; the engine's frames, the track overlay and the HUD are
    drawn with moderngl."""

    def __init__(self, engine: Engine, *, size=(1024, 640), title="motionworld", fullscreen=False, input_source=None,
                 display_fps: float = 60.0):
        self.engine = engine
        self.player, self.world, self.clock = engine.player, engine.world, engine.clock
        self.size, self.title, self.fullscreen = size, title, fullscreen
        self.input = input_source
        self.display_fps_cap = display_fps
        self.show_points, self.show_hud, self.show_help = False, True, False  # Tab shows the tracks
        self.polls: deque[float] = deque(maxlen=100_000)  # perf_counter of input polls (tests read the gaps)
        self.display_fps = 0.0  # redraws per second over the last second
        self.input_hz = 0.0  # input polls per second over the last second
        self.running = False
        self._next_hud = 0.0
        self._screenshot_pending = False
        self._dirty = True  # something on screen changed since the last draw
        self._drawn_marks = None
        self._previous: Frame | None = None
        self.draws: deque[float] = deque(maxlen=100_000)  # perf_counter of redraws
        self.after_draw = None  # callback(window) between drawing and the buffer swap (tests read pixels there)

    # the engine's state, as the window's
    current = property(lambda self: self.engine.current)
    saved = property(lambda self: self.engine.saved)
    messages = property(lambda self: self.engine.messages)
    recorder = property(lambda self: self.engine.recorder)
    shown = property(lambda self: self.engine.shown)

    # ----- set-up
    def open(self) -> None:
        import pygame

        self.pygame, self.ctx = open_window(self.size, self.title, self.fullscreen)
        font = pygame.font.Font(pygame.font.get_default_font(), 14)
        self.screen = Screen(self.ctx, font)
        self.screen.help.set_lines(["keys"] + help_lines())
        if self.input is None:
            self.input = PygameInput()

    def close(self, status: str = "complete") -> None:
        """Stop the engine (a recording is finished), release GL and the window. Safe after a failed open."""
        self.engine.close(status=status)
        import pygame

        # GL objects go before the window: released later (by the garbage collector) they would
        # make a GL call on a context whose window is gone, which X answers by killing the process.
        if getattr(self, "screen", None) is not None:
            self.screen.release()
        if getattr(self, "ctx", None) is not None:
            self.ctx.release()
        self.screen = self.ctx = None
        pygame.quit()

    def say(self, text: str, seconds: float = 4.0) -> None:
        self.engine.say(text, seconds)

    # ----- input
    def _scene_xy(self, pos) -> tuple[float, float] | None:
        """A window position in scene pixel coordinates, or None off the picture."""
        if self.current is None:
            return None
        fh, fw = self.current.image.shape[:2]
        W, H = self.pygame.display.get_window_size()
        xy = window_to_frame(pos, self.screen.viewport, fw, fh, H)
        return None if xy is None else self.engine.frame_to_scene(xy, (fh, fw))

    def _set_captured(self, on: bool) -> None:
        self.input.captured = on
        self.pygame.mouse.set_visible(not on)
        self.pygame.event.set_grab(on)
        self.pygame.mouse.set_relative_mode(on) if hasattr(self.pygame.mouse, "set_relative_mode") else None

    def _handle(self, event) -> None:
        pg = self.pygame
        self.input.handle(event)
        if event.type not in (pg.MOUSEMOTION, pg.JOYAXISMOTION, pg.JOYHATMOTION):
            self._dirty = True  # keys toggle layers; window events (resize, expose) need a redraw
        if event.type == pg.QUIT:
            self.running = False
        elif event.type == pg.KEYDOWN:
            self._key(event)
        elif event.type == pg.MOUSEBUTTONDOWN and not self.input.captured:
            xy = self._scene_xy(event.pos)
            if xy is not None and event.button == 1:
                self.engine.press(xy)
            elif xy is not None and event.button == 3:
                self.engine.pin(xy)
        elif event.type == pg.MOUSEMOTION and self.engine.drags.active is not None:
            xy = self._scene_xy(event.pos)
            if xy is not None:
                self.engine.move(xy)
        elif event.type == pg.MOUSEBUTTONUP and event.button == 1:
            self.engine.release()
        elif event.type == pg.JOYDEVICEADDED:
            names = [p.name for p in self.input.pads.values()]
            self.say(f"gamepad connected: {names[-1]}" if names else "a gamepad appeared but could not be opened")
        elif event.type == pg.JOYDEVICEREMOVED:
            self.say("gamepad disconnected; keyboard and mouse still work")

    def _key(self, event) -> None:
        pg = self.pygame
        k = event.key
        if k == pg.K_ESCAPE:
            if self.input.captured:
                self._set_captured(False)
            else:
                self.running = False
        elif k == pg.K_SPACE:
            self.engine.toggle_pause()
        elif k == pg.K_r:
            self.engine.restart()
        elif k == pg.K_TAB:
            self.show_points = not self.show_points
        elif k == pg.K_h:
            self.show_hud = not self.show_hud
        elif k == pg.K_m:
            self._set_captured(not self.input.captured)
        elif k == pg.K_c:
            self.engine.clear_pins()
        elif k == pg.K_F8:
            self.engine.capture("saving the input log", self.engine.save_log)
        elif k == pg.K_F9:
            self.engine.capture("recording", self.engine.toggle_recording)
        elif k == pg.K_F12:
            # taken after the next draw, before the swap (the back buffer is undefined after)
            self._screenshot_pending = True
        elif getattr(event, "unicode", "") == "?" or (k == pg.K_SLASH and event.mod & pg.KMOD_SHIFT):
            self.show_help = not self.show_help

    # ----- captures
    def _save_screenshot(self) -> None:
        from PIL import Image

        self._screenshot_pending = False
        path = self.engine.out(".png")
        Image.fromarray(self.read_pixels()).save(path)
        self.saved.append(path)
        self.say(f"screenshot: {path}")

    def read_pixels(self) -> np.ndarray:
        """The frame just drawn, before the swap, uint8 [H, W, 3] top row first."""
        return self.screen.read(self.pygame.display.get_window_size())

    # ----- the loop
    def _show(self, frame: Frame) -> None:
        self._dirty = True
        self.screen.frame.upload(frame.image)
        self.screen.points.set_points(*track_overlay(frame, self._previous, self.world))
        self._previous = frame

    def _update_hud(self, now: float) -> bool:
        return self.screen.hud.set_lines(self.engine.hud(now, input_hz=self.input_hz))

    def step(self) -> None:
        """One display frame: events, input hand-off, maybe a new generated frame, drawing."""
        pg = self.pygame
        for event in pg.event.get():
            self._handle(event)
        now = time.perf_counter()
        self.polls.append(now)
        self.engine.feed(self.input.poll(), now=now)
        frame = self.engine.due_frame(now)
        if frame is not None:
            self._show(frame)
        if self.current is not None:  # the cursor moves faster than frames come
            view = self.engine.drags.view()
            if view != self._drawn_marks:
                self.screen.marks.set_points(*drag_marks(view, self.world, self.current.image.shape))
                self._drawn_marks, self._dirty = view, True
        if self.show_hud and now >= self._next_hud:
            self._dirty |= self._update_hud(now)  # 5 times a second: rasterising text costs more than drawing
            self._next_hud = now + 0.2
        if not (self._dirty or self._screenshot_pending):
            return  # nothing changed: leave the CPU to the generator (a software GL draw is not free)
        self._dirty = False
        self.screen.draw(pg.display.get_window_size(), self.show_points, self.show_hud, self.show_help)
        self.draws.append(now)
        if self._screenshot_pending:
            self.engine.capture("screenshot", self._save_screenshot)
        if self.after_draw is not None:
            self.after_draw(self)
        pg.display.flip()

    def run(self, max_seconds: float | None = None, until=None, on_step=None) -> None:
        """Run until the window is closed (or `max_seconds`, or `until(window)` is true)."""
        import gc

        gc.collect()  # start with a clean heap: a full collection mid-play is a visible hitch
        try:
            self.open()
            self.engine.start()
            self.running = True
            start = time.perf_counter()
            while self.running:
                began = time.perf_counter()
                if on_step is not None:
                    on_step(self)
                self.step()
                now = time.perf_counter()
                self.display_fps = rate(self.draws, now)
                self.input_hz = rate(self.polls, now)
                if (max_seconds is not None and now - start >= max_seconds) or (until is not None and until(self)):
                    break
                spare = 1.0 / self.display_fps_cap - (time.perf_counter() - began)
                if spare > 0:
                    time.sleep(spare)
        except BaseException as e:
            self.close(status=end_status(e))  # the input log's last line says how the session ended
            raise
        else:
            self.close()
