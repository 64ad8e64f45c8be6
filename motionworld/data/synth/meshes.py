"""Triangle meshes of the solids, as flat triangle lists (positions, normals, uvs) in local units.

UVs are in local length units, so a material's tile size sets the same texture density on every
face whatever the solid's size. Winding is irrelevant: the renderer does not cull.
"""
from __future__ import annotations

import numpy as np

Mesh = tuple[np.ndarray, np.ndarray, np.ndarray]  # positions [V,3], normals [V,3], uvs [V,2]


def _grid_triangles(nu: int, nv: int) -> np.ndarray:
    """Triangle vertex indices of an (nu+1) x (nv+1) vertex grid, two triangles per cell."""
    i, j = np.meshgrid(np.arange(nu), np.arange(nv), indexing="ij")
    a = (i * (nv + 1) + j).ravel()
    b, c, d = a + nv + 1, a + 1, a + nv + 2
    return np.stack([a, b, c, c, b, d], axis=-1).ravel()


def quad(width: float, height: float) -> Mesh:
    """A rectangle in the local x-y plane, centred, facing -z (towards a camera at z < 0)."""
    w, h = width / 2, height / 2
    p = np.array([[-w, -h, 0], [w, -h, 0], [-w, h, 0], [w, h, 0]], float)
    idx = np.array([0, 1, 2, 2, 1, 3])
    pos = p[idx]
    uv = pos[:, :2] + [w, h]
    return pos, np.tile([0.0, 0.0, -1.0], (6, 1)), uv


def ground(size: float, divisions: int = 8) -> Mesh:
    """A square on the y = 0 plane (world y points down, so the normal is -y), subdivided so
    perspective interpolation stays accurate far away."""
    s = np.linspace(-size / 2, size / 2, divisions + 1)
    gx, gz = np.meshgrid(s, s, indexing="ij")
    verts = np.stack([gx.ravel(), np.zeros(gx.size), gz.ravel()], -1)
    idx = _grid_triangles(divisions, divisions)
    pos = verts[idx]
    return pos, np.tile([0.0, -1.0, 0.0], (len(pos), 1)), pos[:, [0, 2]].copy()


def box(sx: float, sy: float, sz: float) -> Mesh:
    """An axis-aligned box centred on the origin with side lengths sx, sy, sz."""
    half = np.array([sx, sy, sz]) / 2
    pos, nrm, uv = [], [], []
    for axis in range(3):
        for sign in (-1.0, 1.0):
            u_ax, v_ax = [a for a in range(3) if a != axis]
            corners = []
            for cu, cv in ((-1, -1), (1, -1), (-1, 1), (1, 1)):
                c = np.zeros(3)
                c[axis], c[u_ax], c[v_ax] = sign * half[axis], cu * half[u_ax], cv * half[v_ax]
                corners.append(c)
            corners = np.array(corners)[[0, 1, 2, 2, 1, 3]]
            pos.append(corners)
            n = np.zeros(3)
            n[axis] = sign
            nrm.append(np.tile(n, (6, 1)))
            uv.append(np.stack([corners[:, u_ax] + half[u_ax], corners[:, v_ax] + half[v_ax]], -1))
    return np.concatenate(pos), np.concatenate(nrm), np.concatenate(uv)


def sphere(radius: float, segments: int = 18, rings: int = 10, inside: bool = False) -> Mesh:
    """A UV sphere; `inside` flips the normals (a sky dome seen from within)."""
    theta = np.linspace(0, np.pi, rings + 1)  # from -y (top) to +y (bottom)
    phi = np.linspace(0, 2 * np.pi, segments + 1)
    t, p = np.meshgrid(theta, phi, indexing="ij")
    n = np.stack([np.sin(t) * np.sin(p), -np.cos(t), np.sin(t) * np.cos(p)], -1).reshape(-1, 3)
    idx = _grid_triangles(rings, segments)
    uv = np.stack([p.ravel() * radius, t.ravel() * radius], -1)
    normals = n[idx] * (-1.0 if inside else 1.0)
    return n[idx] * radius, normals, uv[idx]


def cylinder(radius: float, height: float, segments: int = 18) -> Mesh:
    """A capped cylinder along the local y axis, centred."""
    phi = np.linspace(0, 2 * np.pi, segments + 1)
    h = height / 2
    ring = np.stack([radius * np.sin(phi), np.zeros_like(phi), radius * np.cos(phi)], -1)
    side_v = np.concatenate([ring + [0, -h, 0], ring + [0, h, 0]])
    side_n = np.concatenate([ring, ring]) / radius
    side_uv = np.concatenate([np.stack([phi * radius, np.zeros_like(phi)], -1),
                              np.stack([phi * radius, np.full_like(phi, height)], -1)])
    a = np.arange(segments)
    b, c, d = a + segments + 1, a + 1, a + segments + 2
    idx = np.stack([a, b, c, c, b, d], -1).ravel()
    pos, nrm, uv = [side_v[idx]], [side_n[idx]], [side_uv[idx]]
    for y, ny in ((-h, -1.0), (h, 1.0)):  # caps as fans
        centre = np.array([0.0, y, 0.0])
        tri = np.stack([np.tile(centre, (segments, 1)), ring[:-1] + [0, y, 0], ring[1:] + [0, y, 0]], 1).reshape(-1, 3)
        pos.append(tri)
        nrm.append(np.tile([0.0, ny, 0.0], (len(tri), 1)))
        uv.append(tri[:, [0, 2]] + radius)
    return np.concatenate(pos), np.concatenate(nrm), np.concatenate(uv)


def cone(radius: float, height: float, segments: int = 18) -> Mesh:
    """A cone with its base at local y = +h/2 (down) and apex at -h/2 (up)."""
    phi = np.linspace(0, 2 * np.pi, segments + 1)
    h = height / 2
    ring = np.stack([radius * np.sin(phi), np.full_like(phi, h), radius * np.cos(phi)], -1)
    apex = np.array([0.0, -h, 0.0])
    side = np.stack([np.tile(apex, (segments, 1)), ring[:-1], ring[1:]], 1).reshape(-1, 3)
    slope = radius / height
    ns = np.stack([np.sin(phi), np.full_like(phi, -slope), np.cos(phi)], -1)
    ns /= np.linalg.norm(ns, axis=-1, keepdims=True)
    mid = (ns[:-1] + ns[1:]) / 2
    side_n = np.stack([mid, ns[:-1], ns[1:]], 1).reshape(-1, 3)
    side_uv = np.stack([np.stack([(phi[:-1] + phi[1:]) / 2 * radius, np.zeros(segments)], -1),
                        np.stack([phi[:-1] * radius, np.full(segments, height)], -1),
                        np.stack([phi[1:] * radius, np.full(segments, height)], -1)], 1).reshape(-1, 2)
    centre = np.array([0.0, h, 0.0])
    base = np.stack([np.tile(centre, (segments, 1)), ring[:-1], ring[1:]], 1).reshape(-1, 3)
    pos = np.concatenate([side, base])
    nrm = np.concatenate([side_n, np.tile([0.0, 1.0, 0.0], (len(base), 1))])
    uv = np.concatenate([side_uv, base[:, [0, 2]] + radius])
    return pos, nrm, uv
