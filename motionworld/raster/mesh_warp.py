"""The "3D photo" baseline: a still image lifted onto its depth as a triangle mesh and rendered
from new cameras with moderngl (headless EGL). A generator like the neural one:

    warp = MeshWarpRenderer()
    warp.start(image, depth, K)                 # uint8 [H,W,3], depth [H,W] (camera z), K [3,3]
    frames = warp.step(c2w)                     # c2w [T,4,4] relative to the first camera -> uint8 [T,H,W,3]
    frames, valid = warp.step(c2w, validity=True)   # and float32 [T,H,W]: 1 where the picture is seen

Mesh: one vertex per pixel centre plus a ring on the image border (x = -0.5 and W - 0.5), so the
first camera sees every pixel centre exactly at a vertex and reproduces the image bit for bit.
`mesh_step=s` puts one vertex per s x s block instead (its nearest pixel's depth and object, so the
front surface wins at edges) and samples the picture affinely on screen, which keeps the first
camera exact: the colour keeps the picture's full resolution while the rasteriser draws s² times
fewer triangles (the guided student's warp at twice the model's size uses s = 2: one vertex per
model pixel, 3x faster on the CPU's software renderer).
Triangles across a depth discontinuity (largest/smallest corner depth > (1 + `edge_ratio`) to the
power of the corners' spacing in pixels, so a coarse mesh keeps a slanted floor a surface) are
either dropped (`discontinuity="drop"`: holes show black; at the identity pose a pixel right on a
depth edge may be left uncovered) or kept as a rubber sheet that is always drawn behind real
surfaces (`"stretch"`, the default: holes take the smeared colours of the two sides). Triangles
joining different objects (object masks) are sheets that stay with the static world, so a moving
object separates cleanly from its surroundings and leaves a hole (black) where it was.

Validity: 1 where the picture itself is seen, 0 outside the picture, on holes and on sheets
stretched to twice their size or more (across a depth edge the camera opened up, and between a
moving object and its surroundings, so also where the object used to be). A sheet less stretched
than that still shows the picture's own neighbouring pixels: at the first camera every sheet is one
pixel wide. It is written as the colour's alpha by the same draw, so each output pixel takes the
triangle covering its centre (no antialiasing) and the map is exactly 0 or 1.
"""
from __future__ import annotations

import numpy as np

from ..errors import MotionWorldError
from ..geometry.camera import CV_TO_GL, gl_projection, invert_pose
from .gl import OffscreenTarget, gl_context

MAX_MESH_OBJECTS = 8  # moving objects the warp shader takes (a uniform array per object)

VERTEX = """
#version 330
uniform mat4 proj;
uniform mat4 views[%d];  // per slot: camera-0 point -> this frame's camera (w2c * object * c2w0)
in vec3 pos; in vec2 uv; in float slot;
out vec2 v_uv;
noperspective out vec2 v_uv_screen;  // affine on screen: how much a triangle is stretched there
void main() {
    gl_Position = proj * (views[int(slot + 0.5)] * vec4(pos, 1.0));
    v_uv = uv;
    v_uv_screen = uv;
}
""" % (1 + MAX_MESH_OBJECTS)  # noqa: UP031 - braces are GLSL's own

FRAGMENT = """
#version 330
uniform sampler2D image;
uniform float behind;  // 0 for real surfaces, 1 for stretched discontinuity triangles
uniform float affine;  // 1: sample the picture affinely on screen (coarse meshes: exact at the first camera)
in vec2 v_uv;
noperspective in vec2 v_uv_screen;
out vec4 colour;

float least_texels_per_pixel() {  // the smallest singular value of d(texel)/d(pixel) over the triangle
    vec2 t = v_uv_screen * vec2(textureSize(image, 0));
    vec2 dx = dFdx(t), dy = dFdy(t);
    float s = dot(dx, dx) + dot(dy, dy), d = dx.x * dy.y - dx.y * dy.x;
    return sqrt(max(0.5 * (s - sqrt(max(s * s - 4.0 * d * d, 0.0))), 0.0));
}

void main() {
    // alpha = validity: a real surface is the picture seen; so is a sheet stretched to less than
    // twice its size (at the first camera every sheet is one pixel wide and shows the picture itself)
    float seen = behind < 0.5 ? 1.0 : step(0.5, least_texels_per_pixel());
    colour = vec4(texture(image, mix(v_uv, v_uv_screen, affine)).rgb, seen);
    gl_FragDepth = 0.5 * (gl_FragCoord.z + behind);  // surfaces in [0, 0.5), sheets in [0.5, 1)
}
"""


def _blocks(depth: np.ndarray, label: np.ndarray, step: int) -> tuple[np.ndarray, np.ndarray]:
    """Depth and label per step x step block: its nearest pixel's (the front surface wins, as in a
    z-buffer), so a block on an object's edge goes with the object."""
    H, W = depth.shape
    d = depth.reshape(H // step, step, W // step, step).transpose(0, 2, 1, 3).reshape(H // step, W // step, -1)
    lab = label.reshape(H // step, step, W // step, step).transpose(0, 2, 1, 3).reshape(H // step, W // step, -1)
    near = d.argmin(-1)[..., None]
    return np.take_along_axis(d, near, -1)[..., 0], np.take_along_axis(lab, near, -1)[..., 0]


def _grid_mesh(depth: np.ndarray, K: np.ndarray, label: np.ndarray, edge_ratio: float, step: int = 1):
    """Vertices [2 * (h+2)*(w+2), 6] (x, y, z camera-0 point, u, v, slot) and triangle index
    arrays (surface, sheet), both int32 [M, 3]; one vertex per `step` x `step` pixels (h = H / step).

    The vertex grid is stored twice: the second copy has every slot set to 0, and triangles that
    join different objects use it, so the sheet between an object and its surroundings stays with
    the static world when the object moves."""
    H, W = depth.shape
    if step > 1:
        depth, label = _blocks(depth, label, step)
    h, w = depth.shape
    centre = (step - 1) / 2  # a block's centre, in pixels
    xs = np.concatenate([[-0.5], centre + step * np.arange(w, dtype=float), [W - 0.5]])
    ys = np.concatenate([[-0.5], centre + step * np.arange(h, dtype=float), [H - 0.5]])
    d = np.pad(depth, 1, mode="edge")
    lab = np.pad(label, 1, mode="edge")
    gx, gy = np.meshgrid(xs, ys)
    pts = np.stack([(gx - K[0, 2]) / K[0, 0] * d, (gy - K[1, 2]) / K[1, 1] * d, d], -1)
    uv = np.stack([(gx + 0.5) / W, (gy + 0.5) / H], -1)
    verts = np.concatenate([pts, uv, lab[..., None]], -1).reshape(-1, 6)
    static = verts.copy()
    static[:, 5] = 0
    cols = w + 2
    i, j = np.meshgrid(np.arange(h + 1), np.arange(w + 1), indexing="ij")
    a = (i * cols + j).ravel()
    b, c, e = a + 1, a + cols, a + cols + 1
    tris = np.concatenate([np.stack([a, b, c], -1), np.stack([b, e, c], -1)])
    dz = d.ravel()[tris]
    labs = lab.ravel()[tris]
    same_object = (labs[:, 0] == labs[:, 1]) & (labs[:, 1] == labs[:, 2])
    # edge_ratio is per pixel: corners `step` pixels apart may differ by it `step` times over, so a
    # coarse mesh keeps a slanted floor as surface exactly where a per-pixel one does
    smooth = dz.max(1) <= dz.min(1) * (1.0 + edge_ratio) ** step
    surface = tris[same_object & smooth]
    sheets = np.concatenate([tris[same_object & ~smooth], tris[~same_object] + len(verts)])
    return np.concatenate([verts, static]).astype(np.float32), surface.astype(np.int32), sheets.astype(np.int32)


class MeshWarpRenderer:
    def __init__(self, discontinuity: str = "stretch", edge_ratio: float = 0.05, near: float | None = None,
                 mesh_step: int = 1):
        if discontinuity not in ("stretch", "drop"):
            raise ValueError(f"discontinuity must be 'stretch' or 'drop', got {discontinuity!r}")
        if int(mesh_step) < 1:
            raise ValueError(f"mesh_step must be >= 1, got {mesh_step}")
        self.discontinuity, self.edge_ratio, self.near = discontinuity, float(edge_ratio), near
        self.mesh_step = int(mesh_step)
        self.ctx = None
        self._resources: list = []

    def start(self, image: np.ndarray, depth: np.ndarray, K: np.ndarray, c2w0: np.ndarray | None = None,
              object_masks: list[np.ndarray] | None = None) -> None:
        """Lift `image` (uint8 [H,W,3]) with `depth` ([H,W] camera z, finite and > 0) seen by K from
        c2w0 (default identity). Pixels of object_masks[k] move with object k in `step`."""
        image = np.asarray(image)
        depth = np.asarray(depth, dtype=np.float64)
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise MotionWorldError(f"warp: image must be uint8 [H, W, 3], got {image.dtype} {image.shape}")
        if depth.shape != image.shape[:2]:
            raise MotionWorldError(f"warp: depth shape {depth.shape} does not match the image {image.shape[:2]}")
        if not np.all(np.isfinite(depth)) or np.any(depth <= 0):
            raise MotionWorldError("warp: depth must be finite and positive everywhere")
        if depth.shape[0] % self.mesh_step or depth.shape[1] % self.mesh_step:
            raise MotionWorldError(f"warp: a {depth.shape[1]}x{depth.shape[0]} picture does not split into "
                                   f"{self.mesh_step}x{self.mesh_step} mesh blocks")
        masks = list(object_masks or [])
        if len(masks) > MAX_MESH_OBJECTS:
            raise MotionWorldError(f"warp: at most {MAX_MESH_OBJECTS} objects, got {len(masks)}")
        self.release()
        H, W = depth.shape
        self.height, self.width = H, W
        self.K = np.asarray(K, dtype=float)
        self.c2w0 = np.eye(4) if c2w0 is None else np.asarray(c2w0, dtype=float)
        self.num_objects = len(masks)
        label = np.zeros((H, W))
        for k in reversed(range(len(masks))):  # earlier objects win where masks overlap
            label[np.asarray(masks[k], bool)] = k + 1
        # Vertices stay in camera-0 coordinates; each frame's full transform is composed in float64,
        # so the first camera gets an exact identity and reproduces the picture bit for bit.
        verts, surface, sheets = _grid_mesh(depth, self.K, label, self.edge_ratio, self.mesh_step)
        self.near_plane = self.near or 0.01 * float(depth.min())
        self.far_plane = 100.0 * float(depth.max())
        self.ctx = ctx = gl_context()
        import moderngl

        self.prog = ctx.program(vertex_shader=VERTEX, fragment_shader=FRAGMENT)
        self.tex = ctx.texture((W, H), 3, np.ascontiguousarray(image).tobytes())
        self.tex.filter = (moderngl.LINEAR, moderngl.LINEAR)
        self.tex.repeat_x = self.tex.repeat_y = False
        self.vbo = ctx.buffer(verts.tobytes())
        self.vaos = []
        for tris, behind in ((surface, 0.0), (sheets if self.discontinuity == "stretch" else sheets[:0], 1.0)):
            if len(tris):
                ibo = ctx.buffer(tris.tobytes())
                vao = ctx.vertex_array(self.prog, [(self.vbo, "3f 2f 1f", "pos", "uv", "slot")], index_buffer=ibo,
                                       index_element_size=4)
                self.vaos.append((vao, behind))
                self._resources += [ibo, vao]
        self.target = OffscreenTarget(ctx, W, H, data_components=0)
        self._resources += [self.prog, self.tex, self.vbo]

    def step(self, c2w: np.ndarray, K: np.ndarray | None = None, object_transforms: np.ndarray | None = None,
             validity: bool = False):
        """Render cameras c2w [T,4,4] (or [4,4]) in the same world frame as `start`'s c2w0.

        K: [3,3] or [T,3,3] (default: the start K). object_transforms: [T,K,4,4] world transforms
        of the objects (default: none move). Returns uint8 [T,H,W,3]; with `validity`, also the
        validity map float32 [T,H,W] (see the module's docstring)."""
        import moderngl

        if self.ctx is None:
            raise MotionWorldError("warp: call start(image, depth, K) before step()")
        c2w = np.asarray(c2w, dtype=float).reshape(-1, 4, 4)
        if not np.all(np.isfinite(c2w)):
            raise MotionWorldError("warp: camera poses contain NaN or infinity")
        T = len(c2w)
        Ks = np.broadcast_to(self.K if K is None else np.asarray(K, dtype=float), (T, 3, 3))
        objs = np.repeat(np.eye(4)[None, None], T, axis=0).repeat(1 + MAX_MESH_OBJECTS, axis=1)
        if object_transforms is not None and self.num_objects:
            objs[:, 1:1 + self.num_objects] = np.asarray(object_transforms, dtype=float)[:, :self.num_objects]
        out = np.empty((T, self.height, self.width, 3), np.uint8)
        valid = np.empty((T, self.height, self.width), np.float32) if validity else None
        ctx = self.ctx
        ctx.enable(moderngl.DEPTH_TEST)
        ctx.disable(moderngl.CULL_FACE)
        self.tex.use(0)
        self.prog["image"].value = 0
        self.prog["affine"].value = 1.0 if self.mesh_step > 1 else 0.0
        w2c = invert_pose(c2w)
        for t in range(T):
            proj = gl_projection(Ks[t], self.width, self.height, self.near_plane, self.far_plane) @ CV_TO_GL
            views = w2c[t][None] @ objs[t] @ self.c2w0[None]
            self.prog["proj"].write(np.ascontiguousarray(proj.T, np.float32).tobytes())
            self.prog["views"].write(np.ascontiguousarray(views.transpose(0, 2, 1), np.float32).tobytes())
            self.target.colour_pass(alpha=0.0)  # nothing drawn: outside the picture, not valid
            for vao, behind in self.vaos:
                self.prog["behind"].value = behind
                vao.render(moderngl.TRIANGLES)
            self.target.read_rgb(out=out[t])
            if validity:
                valid[t] = self.target.last_alpha() > 127
        return (out, valid) if validity else out

    def release(self) -> None:
        for r in self._resources:
            r.release()
        self._resources = []
        if getattr(self, "target", None) is not None:
            self.target.release()
            self.target = None
        self.ctx = None
