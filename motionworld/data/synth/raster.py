"""Draws a `WorldSpec` with moderngl: colour frames plus, per pixel, camera depth and which moving
object and which solid it shows.

The whole world is one vertex buffer (materials ride along as vertex attributes) drawn in one call
per pass: moving objects keep local coordinates and pick their transform from a uniform array by
a per-vertex slot (0 = the static world). Each frame has a colour pass (multisampled, resolved)
and a single-sample data pass writing (z, object slot, solid index).
"""
from __future__ import annotations

import numpy as np

from ...geometry.camera import CV_TO_GL, gl_projection, invert_pose
from ...raster.gl import OffscreenTarget, gl_context
from . import meshes
from .textures import TextureBank
from .world_spec import MAX_MOVING, Solid, WorldSpec

NEAR, FAR = 0.02, 400.0
MODE_PALETTE, MODE_NATURAL, MODE_SKY = 0.0, 1.0, 2.0

MAX_SOLIDS = 64

VERTEX = """
#version 330
uniform mat4 proj;        // OpenCV camera -> clip
uniform mat4 w2c;         // world -> OpenCV camera
uniform mat4 objects[%d];
in vec3 pos; in vec3 nrm; in vec2 uv; in float slot; in float solid;
out vec3 v_world; out vec3 v_nrm; out vec2 v_uv; out float v_z;
flat out int f_slot; flat out int f_solid;
void main() {
    mat4 M = objects[int(slot + 0.5)];
    vec4 world = M * vec4(pos, 1.0);
    vec4 cam = w2c * world;
    gl_Position = proj * cam;
    v_world = world.xyz; v_nrm = mat3(M) * nrm; v_uv = uv; v_z = cam.z;
    f_slot = int(slot + 0.5); f_solid = int(solid + 0.5);
}
""" % (1 + MAX_MOVING)  # noqa: UP031 - braces are GLSL's own

# Materials live in a uniform array indexed by solid (3 vec4 each) rather than in vertex
# attributes: fewer varyings make llvmpipe's triangle setup markedly cheaper.
COLOUR = """
#version 330
uniform sampler2DArray bank;
uniform vec4 materials[%d];  // per solid: (layer, detail, mode, detail scale), (a.rgb, detail amount), (b.rgb, -)
uniform vec3 cam_pos; uniform vec3 sun_dir; uniform vec3 sun_color; uniform vec3 ambient;
uniform vec3 horizon; uniform vec3 zenith; uniform float clouds;
in vec3 v_world; in vec3 v_nrm; in vec2 v_uv; in float v_z;
flat in int f_slot; flat in int f_solid;
layout(location = 0) out vec4 colour;
layout(location = 1) out vec4 data;
void main() {
    data = vec4(v_z, float(f_slot), float(f_solid), 1.0);
    vec4 m0 = materials[3 * f_solid], m1 = materials[3 * f_solid + 1], m2 = materials[3 * f_solid + 2];
    float d = texture(bank, vec3(v_uv * m0.w, m0.y)).r;
    if (m0.z > 1.5) {  // sky: vertical gradient plus clouds
        vec3 dir = normalize(v_world);
        float up = clamp(-dir.y, 0.0, 1.0);
        vec3 sky = mix(horizon, zenith, pow(up, 0.6));
        float c = texture(bank, vec3(v_uv, m0.x)).r;
        float cover = smoothstep(1.0 - clouds, 1.0, c) * smoothstep(0.0, 0.15, up);
        colour = vec4(mix(sky, vec3(0.92) * (0.85 + 0.15 * d), cover), 1.0);
        return;
    }
    vec3 t = texture(bank, vec3(v_uv, m0.x)).rgb;
    vec3 albedo = m0.z > 0.5 ? t * m1.rgb : mix(m1.rgb, m2.rgb, t.r);
    albedo *= mix(1.0, 0.5 + d, m1.w);
    vec3 n = normalize(v_nrm);
    if (dot(n, cam_pos - v_world) < 0.0) n = -n;  // two-sided: panels are seen from both sides
    float sun = max(dot(n, sun_dir), 0.0);
    vec3 light = ambient * (0.75 + 0.25 * max(-n.y, 0.0)) + sun_color * sun;
    colour = vec4(clamp(albedo * light, 0.0, 1.0), 1.0);
}
""" % (3 * MAX_SOLIDS)  # noqa: UP031 - braces are GLSL's own

# Multisampled colour needs a separate single-sample pass for the per-pixel data.
DATA = """
#version 330
in vec3 v_world; in vec3 v_nrm; in vec2 v_uv; in float v_z;
flat in int f_slot; flat in int f_solid;
out vec4 data;
void main() { data = vec4(v_z, float(f_slot), float(f_solid), 1.0); }
"""

ATTRIBUTES = ("pos", "nrm", "uv", "slot", "solid")
LAYOUT = "3f 3f 2f 1f 1f"
STRIDE = 10
# Draw order: solids near to far, then backdrops, ground, sky, so early depth tests reject most
# hidden fragments.
DRAW_ORDER = {"solid": 0, "backdrop": 1, "ground": 2, "sky": 3}


def solid_mesh(s: Solid) -> meshes.Mesh:
    if s.shape == "ground":
        return meshes.ground(s.size[0], divisions=24)
    if s.shape == "sky":
        return meshes.sphere(s.size[0], segments=32, rings=16, inside=True)
    if s.shape in ("box", "slab"):
        return meshes.box(*s.size)
    if s.shape in ("sphere", "hill"):
        return meshes.sphere(s.size[0], segments=20 if s.shape == "sphere" else 28,
                             rings=12 if s.shape == "sphere" else 14)
    if s.shape == "cylinder":
        return meshes.cylinder(*s.size)
    if s.shape == "cone":
        return meshes.cone(*s.size)
    if s.shape == "panel":
        return meshes.quad(*s.size)
    raise ValueError(f"unknown shape {s.shape!r}")


def world_vertices(spec: WorldSpec) -> np.ndarray:
    """All solids as one float32 vertex array [V, 10] (static solids in world coordinates, moving
    ones in their local frames), drawn near to far."""
    parts = []
    order = sorted(range(len(spec.solids)), key=lambda i: (DRAW_ORDER[spec.solids[i].role],
                                                           float(np.linalg.norm(spec.solids[i].position))))
    for index in order:
        s = spec.solids[index]
        pos, nrm, uv = solid_mesh(s)
        if not s.moving and s.shape != "sky":
            pos = pos @ s.rotation.T + s.position
            nrm = nrm @ s.rotation.T
        m = s.material
        c, sn = np.cos(m.angle), np.sin(m.angle)
        uv = (uv @ np.array([[c, -sn], [sn, c]])) / m.tile
        v = np.empty((len(pos), STRIDE), np.float32)
        v[:, 0:3], v[:, 3:6], v[:, 6:8], v[:, 8], v[:, 9] = pos, nrm, uv, s.moving, index
        parts.append(v)
    return np.concatenate(parts)


def material_table(spec: WorldSpec) -> np.ndarray:
    """[MAX_SOLIDS * 3, 4] float32 material rows indexed by solid."""
    if len(spec.solids) > MAX_SOLIDS:
        raise ValueError(f"a world may hold at most {MAX_SOLIDS} solids, this one has {len(spec.solids)}")
    table = np.zeros((MAX_SOLIDS, 3, 4), np.float32)
    for i, s in enumerate(spec.solids):
        m = s.material
        mode = MODE_SKY if s.role == "sky" else (MODE_NATURAL if m.natural else MODE_PALETTE)
        table[i, 0] = (m.layer, m.detail, mode, m.detail_scale)
        table[i, 1] = (*m.color_a, m.detail_amount)
        table[i, 2, :3] = m.color_b
    return table.reshape(-1, 4)


def _mat(m: np.ndarray) -> bytes:
    return np.ascontiguousarray(np.asarray(m, np.float32).T).tobytes()  # GLSL wants column-major


class WorldRenderer:
    """Renders worlds at width x height; owns the GL programs, the bank texture and the target.

    samples = 1 draws colour and data in one pass (two render targets); samples > 1 antialiases
    the colour with multisampling at the cost of a second, data-only pass.
    """

    def __init__(self, width: int, height: int, bank: TextureBank, samples: int = 1):
        self.ctx = gl_context()
        self.width, self.height = int(width), int(height)
        self.samples = int(samples)
        self.colour_prog = self.ctx.program(vertex_shader=VERTEX, fragment_shader=COLOUR)
        self.data_prog = self.ctx.program(vertex_shader=VERTEX, fragment_shader=DATA) if self.samples > 1 else None
        self.bank_tex = bank.gl_texture(self.ctx)
        self.target = OffscreenTarget(self.ctx, self.width, self.height, data_components=4, samples=self.samples)

    @property
    def programs(self):
        return [p for p in (self.colour_prog, self.data_prog) if p is not None]

    @staticmethod
    def _set(prog, name, value):
        if name in prog:  # the GLSL compiler drops unused uniforms
            u = prog[name]
            if isinstance(value, bytes):
                u.write(value)
            else:
                u.value = value

    def render(self, spec: WorldSpec):
        """Frames uint8 [T,H,W,3], camera depth float32 [T,H,W], and the object slot and solid
        index of every pixel of frame 0 (int32 [H,W] each)."""
        import moderngl

        if (spec.width, spec.height) != (self.width, self.height):
            raise ValueError(f"world is {spec.width}x{spec.height}, renderer {self.width}x{self.height}")
        ctx = self.ctx
        vbo = ctx.buffer(world_vertices(spec).tobytes())
        vaos = [ctx.vertex_array(p, [(vbo, LAYOUT, *ATTRIBUTES)], skip_errors=True) for p in self.programs]
        proj = gl_projection(spec.K, self.width, self.height, NEAR, FAR) @ CV_TO_GL
        w2c = invert_pose(spec.camera.c2w)
        objects = spec.object_matrices().astype(np.float32).transpose(0, 1, 3, 2)  # column-major for GLSL
        L = spec.lighting
        T, H, W = spec.frames, self.height, self.width
        rgb = np.empty((T, H, W, 3), np.uint8)
        z = np.empty((T, H, W), np.float32)
        ctx.enable(moderngl.DEPTH_TEST)
        ctx.disable(moderngl.CULL_FACE)
        self.bank_tex.use(0)
        for prog in self.programs:
            self._set(prog, "proj", _mat(proj))
        cp = self.colour_prog
        self._set(cp, "bank", 0)
        self._set(cp, "materials", material_table(spec).tobytes())
        for name, value in (("sun_color", L.sun_color), ("ambient", L.ambient), ("horizon", L.horizon),
                            ("zenith", L.zenith)):
            self._set(cp, name, tuple(float(x) for x in value))
        self._set(cp, "clouds", float(L.clouds))
        first = None
        try:
            for t in range(T):
                a = L.drift * t / spec.fps  # the sun turns slowly about the vertical
                c, s = np.cos(a), np.sin(a)
                sun = np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]]) @ L.sun_dir
                for prog in self.programs:
                    self._set(prog, "w2c", _mat(w2c[t]))
                    self._set(prog, "objects", np.ascontiguousarray(objects[t]).tobytes())
                self._set(cp, "cam_pos", tuple(float(x) for x in spec.camera.c2w[t, :3, 3]))
                self._set(cp, "sun_dir", tuple(float(x) for x in sun))
                if self.samples > 1:
                    self.target.colour_pass()
                    vaos[0].render()
                    self.target.resolve()
                    self.target.data_pass()
                    vaos[1].render()
                else:
                    self.target.combined_pass()
                    vaos[0].render()
                self.target.read_rgb(out=rgb[t])
                data = self.target.read_data()
                z[t] = data[..., 0]
                if t == 0:
                    first = data
        finally:
            for v in vaos:
                v.release()
            vbo.release()
        slot0 = np.rint(first[..., 1]).astype(np.int32)
        solid0 = np.rint(first[..., 2]).astype(np.int32)
        return rgb, z, slot0, solid0
