"""Headless OpenGL for the synthetic-world renderer and the mesh-warp baseline.

One moderngl context per thread (a GL context is current in one thread only), created with EGL so
no display is needed: Mesa's llvmpipe on a CPU machine, the vendor driver where a GPU is present.
`OffscreenTarget` is a framebuffer with an RGBA8 colour attachment (optionally multisampled and
resolved), float attachments for data (camera depth, ids) and a depth buffer, read back as numpy.
"""
from __future__ import annotations

import os
import threading

import numpy as np

from ..errors import MotionWorldError

_local = threading.local()


def gl_context():
    """This thread's standalone EGL context (created on first use)."""
    ctx = getattr(_local, "ctx", None)
    if ctx is not None and _local.pid != os.getpid():
        # Forked from a process that holds a context: the driver's threads and locks did not
        # come along, and a new context can hang forever. Refuse instead.
        raise MotionWorldError("OpenGL cannot be used in a process forked from one that already made a GL "
                               "context; start workers with the 'spawn' method (DataLoader: "
                               "multiprocessing_context='spawn', or SynthClipDataset.loader())")
    if ctx is None:
        import moderngl

        try:
            ctx = moderngl.create_standalone_context(backend="egl")
        except Exception as e:  # noqa: BLE001 - any driver failure becomes one clear line
            raise MotionWorldError(f"could not create a headless OpenGL context with EGL ({e}); "
                                   "install Mesa's EGL (libegl1, libgl1-mesa-dri) "
                                   "or run on a machine with a GPU driver") from None
        _local.ctx, _local.pid = ctx, os.getpid()
    return ctx


def renderer_name() -> str:
    info = gl_context().info
    return f"{info.get('GL_RENDERER', '?')} ({info.get('GL_VERSION', '?')})"


class OffscreenTarget:
    """Colour (uint8 RGB), `data_components` float32 channels and a depth buffer at width x height.

    With `samples` > 1 the colour pass is drawn into a multisampled buffer and resolved (edges are
    antialiased); the data pass is always single-sample so each value belongs to one surface.
    """

    def __init__(self, ctx, width: int, height: int, data_components: int = 2, samples: int = 1):
        self.ctx, self.width, self.height = ctx, int(width), int(height)
        size = (self.width, self.height)
        self.data_components = data_components
        self.color = ctx.texture(size, 4)
        self.data = ctx.texture(size, data_components, dtype="f4") if data_components else None
        self.depth = ctx.depth_renderbuffer(size)
        self.colour_fbo = ctx.framebuffer([self.color], self.depth)
        self.data_fbo = ctx.framebuffer([self.data], self.depth) if self.data is not None else None
        self.both_fbo = ctx.framebuffer([self.color, self.data], self.depth) if self.data is not None else None
        self.samples = int(samples)
        if self.samples > 1:
            self.ms_color = ctx.renderbuffer(size, 4, samples=self.samples)
            self.ms_depth = ctx.depth_renderbuffer(size, samples=self.samples)
            self.ms_fbo = ctx.framebuffer([self.ms_color], self.ms_depth)
        self._rgba = np.empty((self.height, self.width, 4), np.uint8)
        self._data = np.empty((self.height, self.width, max(data_components, 1)), np.float32)

    def colour_pass(self, clear=(0.0, 0.0, 0.0), alpha: float = 1.0):
        """Bind the buffer that colour draws go to and clear it (alpha to `alpha`)."""
        fbo = self.ms_fbo if self.samples > 1 else self.colour_fbo
        fbo.use()
        fbo.clear(*clear, alpha, depth=1.0)
        return fbo

    def resolve(self) -> None:
        if self.samples > 1:
            self.ctx.copy_framebuffer(self.colour_fbo, self.ms_fbo)

    def combined_pass(self, clear=(0.0, 0.0, 0.0)):
        """Bind colour (location 0) and data (location 1) together, single-sample, and clear."""
        self.both_fbo.use()
        self.both_fbo.clear(*clear, 1.0, depth=1.0)  # clears the data attachment to the same value
        return self.both_fbo

    def data_pass(self, clear=0.0):
        self.data_fbo.use()
        self.data_fbo.clear(clear, clear, clear, clear, depth=1.0)
        return self.data_fbo

    def read_rgb(self, out: np.ndarray | None = None) -> np.ndarray:
        """Colour as uint8 [H, W, 3], row 0 at the top of the image."""
        self.colour_fbo.read_into(self._rgba, components=4)
        rgb = self._rgba[::-1, :, :3]
        if out is None:
            return rgb.copy()
        out[...] = rgb
        return out

    def last_alpha(self) -> np.ndarray:
        """The alpha channel of the colour last read by `read_rgb`, uint8 [H, W], row 0 at the top."""
        return self._rgba[::-1, :, 3].copy()

    def read_data(self) -> np.ndarray:
        """Float channels [H, W, C], row 0 at the top of the image."""
        self.data_fbo.read_into(self._data, components=self.data_components, dtype="f4")
        return self._data[::-1].copy()

    def release(self) -> None:
        for obj in ("colour_fbo", "data_fbo", "both_fbo", "color", "data", "depth", "ms_fbo", "ms_color", "ms_depth"):
            o = getattr(self, obj, None)
            if o is not None:
                o.release()


def release_thread_context() -> None:
    """Drop this thread's EGL context. Needed before this thread opens a window: Mesa refuses to
    make a window's GLX context current in a thread that holds a current EGL context."""
    ctx = getattr(_local, "ctx", None)
    if ctx is None:
        return
    _egl_unbind()
    ctx.release()
    _local.ctx = None


def _egl_unbind() -> None:
    """eglMakeCurrent(display, no surface, no surface, no context) for this thread: releasing the
    moderngl context alone leaves it bound."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("EGL") or "libEGL.so.1"
    try:
        egl = ctypes.CDLL(name)
    except OSError:
        return
    egl.eglGetCurrentDisplay.restype = ctypes.c_void_p
    egl.eglMakeCurrent.argtypes = [ctypes.c_void_p] * 4
    display = egl.eglGetCurrentDisplay()
    if display:
        egl.eglMakeCurrent(display, None, None, None)
