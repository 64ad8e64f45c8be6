"""What the window draws with moderngl: the generated frame (upscaled with linear filtering,
letterboxed to keep its aspect), the track points on top of it, and text panels (HUD, key list).

All drawing is in an OpenGL 3.3 core context the caller made current (the pygame window's).
Images are uploaded top row first and drawn top row up, so what is on screen reads like the array.
"""
from __future__ import annotations

import numpy as np

QUAD_VS = """
#version 330
in vec2 in_pos;
in vec2 in_uv;
out vec2 uv;
void main() { gl_Position = vec4(in_pos, 0.0, 1.0); uv = in_uv; }
"""
QUAD_FS = """
#version 330
uniform sampler2D image;
uniform float opacity;
in vec2 uv;
out vec4 colour;
void main() { vec4 c = texture(image, uv); colour = vec4(c.rgb, c.a * opacity); }
"""
POINTS_VS = """
#version 330
uniform vec2 frame_size;
uniform float point_size;
in vec2 in_xy;
in vec3 in_colour;
out vec3 colour_v;
void main() {
    vec2 ndc = (in_xy + 0.5) / frame_size * 2.0 - 1.0;
    gl_Position = vec4(ndc.x, -ndc.y, 0.0, 1.0);  // frame y grows downwards
    gl_PointSize = point_size;
    colour_v = in_colour;
}
"""
POINTS_FS = """
#version 330
in vec3 colour_v;
out vec4 colour;
void main() {
    float r = length(gl_PointCoord - vec2(0.5)) * 2.0;
    if (r > 1.0) discard;
    colour = vec4(r > 0.7 ? vec3(0.0) : colour_v, 1.0);  // dark rim: readable on any picture
}
"""


def letterbox(window_w: int, window_h: int, frame_w: int, frame_h: int) -> tuple[int, int, int, int]:
    """The largest rectangle of the frame's aspect centred in the window: (x, y, w, h), y from the
    bottom as GL viewports count."""
    scale = min(window_w / frame_w, window_h / frame_h)
    w, h = max(1, round(frame_w * scale)), max(1, round(frame_h * scale))
    return (window_w - w) // 2, (window_h - h) // 2, w, h


def window_to_frame(pos, viewport, frame_w: int, frame_h: int, window_h: int) -> tuple[float, float] | None:
    """A window pixel (x, y from the top, as pygame reports) in frame pixel coordinates, or None
    outside the picture."""
    x0, y0, w, h = viewport
    top = window_h - (y0 + h)
    fx = (pos[0] + 0.5 - x0) / w * frame_w - 0.5
    fy = (pos[1] + 0.5 - top) / h * frame_h - 0.5
    if not (-0.5 <= fx <= frame_w - 0.5 and -0.5 <= fy <= frame_h - 0.5):
        return None
    return fx, fy


class _TexturedQuad:
    def __init__(self, ctx):
        self.ctx = ctx
        self.program = ctx.program(vertex_shader=QUAD_VS, fragment_shader=QUAD_FS)
        corners = np.array([[-1, -1, 0, 1], [1, -1, 1, 1], [-1, 1, 0, 0], [1, 1, 1, 0]], dtype="f4")  # v = 0 at the top
        self.vbo = ctx.buffer(corners.tobytes())
        self.vao = ctx.vertex_array(self.program, [(self.vbo, "2f 2f", "in_pos", "in_uv")])
        self.texture = None

    def upload(self, image: np.ndarray) -> None:
        h, w, c = image.shape
        if self.texture is None or self.texture.size != (w, h) or self.texture.components != c:
            if self.texture is not None:
                self.texture.release()
            self.texture = self.ctx.texture((w, h), c)
            self.texture.filter = (self.ctx.LINEAR, self.ctx.LINEAR)
            self.texture.repeat_x = self.texture.repeat_y = False
        self.texture.write(np.ascontiguousarray(image).tobytes())

    def release(self) -> None:
        for obj in (self.vao, self.vbo, self.program, self.texture):
            if obj is not None:
                obj.release()
        self.texture = None

    def draw(self, viewport, opacity: float = 1.0) -> None:
        if self.texture is None:
            return
        self.ctx.viewport = viewport
        self.texture.use(0)
        self.program["image"] = 0
        self.program["opacity"] = opacity
        self.vao.render(self.ctx.TRIANGLE_STRIP)


class FrameLayer(_TexturedQuad):
    """The newest generated frame."""

    @property
    def size(self) -> tuple[int, int] | None:
        return None if self.texture is None else self.texture.size


class PointLayer:
    """Track points at the generated frame's scale (frame pixel coordinates)."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.program = ctx.program(vertex_shader=POINTS_VS, fragment_shader=POINTS_FS)
        self.vbo = ctx.buffer(reserve=4096 * 5 * 4, dynamic=True)
        self.vao = ctx.vertex_array(self.program, [(self.vbo, "2f 3f", "in_xy", "in_colour")])
        self.count = 0

    def release(self) -> None:
        for obj in (self.vao, self.vbo, self.program):
            obj.release()

    def set_points(self, xy: np.ndarray, colours: np.ndarray) -> None:
        ok = np.all(np.isfinite(xy), axis=-1)
        data = np.concatenate([xy[ok], colours[ok].astype(np.float32) / 255.0], axis=1).astype("f4")
        if data.nbytes > self.vbo.size:
            self.vbo.orphan(data.nbytes * 2)
        if len(data):
            self.vbo.write(data.tobytes())
        self.count = len(data)

    def draw(self, viewport, frame_size: tuple[int, int], point_px: float) -> None:
        if not self.count:
            return
        self.ctx.viewport = viewport
        self.ctx.enable(self.ctx.PROGRAM_POINT_SIZE)
        self.program["frame_size"] = tuple(float(v) for v in frame_size)
        self.program["point_size"] = float(point_px)
        self.vao.render(self.ctx.POINTS, vertices=self.count)


class TextPanel(_TexturedQuad):
    """Lines of text on a translucent dark panel, drawn at a window position."""

    def __init__(self, ctx, font):
        super().__init__(ctx)
        self.font = font
        self.lines: list[str] | None = None
        self.size = (0, 0)

    def set_lines(self, lines: list[str]) -> bool:
        """Returns whether the text changed."""
        if lines == self.lines:
            return False  # re-rasterising text every display frame would cost more than drawing
        import pygame

        self.lines = list(lines)
        pad, line_h = 6, self.font.get_linesize()
        width = max((self.font.size(t)[0] for t in lines), default=0) + 2 * pad
        height = line_h * len(lines) + 2 * pad
        surface = pygame.Surface((max(width, 1), max(height, 1)), pygame.SRCALPHA)
        surface.fill((0, 0, 0, 150))
        for i, text in enumerate(lines):
            surface.blit(self.font.render(text, True, (240, 240, 240)), (pad, pad + i * line_h))
        self.size = surface.get_size()
        self.upload(np.frombuffer(pygame.image.tobytes(surface, "RGBA"), np.uint8).reshape(
            self.size[1], self.size[0], 4))
        return True

    def draw_at(self, left: int, top: int, window_h: int) -> None:
        w, h = self.size
        if not w or not h:
            return
        self.draw((left, window_h - top - h, w, h))


class Screen:
    """Everything drawn in one display frame."""

    def __init__(self, ctx, font):
        self.ctx = ctx
        self.frame = FrameLayer(ctx)
        self.points = PointLayer(ctx)
        self.marks = PointLayer(ctx)  # drags and pins, larger, on top
        self.hud = TextPanel(ctx, font)
        self.help = TextPanel(ctx, font)
        self.viewport = (0, 0, 1, 1)

    def draw(self, window_size: tuple[int, int], show_points: bool, show_hud: bool, show_help: bool) -> None:
        ctx = self.ctx
        W, H = window_size
        ctx.viewport = (0, 0, W, H)
        ctx.clear(0.06, 0.06, 0.07)
        ctx.enable(ctx.BLEND)
        ctx.blend_func = ctx.SRC_ALPHA, ctx.ONE_MINUS_SRC_ALPHA
        if self.frame.size is not None:
            fw, fh = self.frame.size
            self.viewport = letterbox(W, H, fw, fh)
            self.frame.draw(self.viewport)
            if show_points:
                point_px = max(3.0, min(12.0, self.viewport[2] / fw * 1.6 + 2))
                self.points.draw(self.viewport, (fw, fh), point_px)
                self.marks.draw(self.viewport, (fw, fh), point_px * 2.2)
        if show_hud:
            self.hud.draw_at(8, 8, H)
        if show_help:
            w, h = self.help.size
            self.help.draw_at(max(0, (W - w) // 2), max(0, (H - h) // 2), H)

    def release(self) -> None:
        for layer in (self.frame, self.points, self.marks, self.hud, self.help):
            layer.release()

    def read(self, window_size: tuple[int, int]) -> np.ndarray:
        """The window's pixels, top row first: uint8 [H, W, 3]."""
        w, h = window_size
        data = np.frombuffer(self.ctx.screen.read(viewport=(0, 0, w, h), components=3, alignment=1), np.uint8)
        return data.reshape(h, w, 3)[::-1].copy()
