"""Captions of synthetic worlds, built from what frame 0 shows and how things move:
"a red striped ball in front of a grey brick wall on grass, a blue crate moves left, the camera
walks forward"."""
from __future__ import annotations

import numpy as np

from .world_spec import WorldSpec, colour_name, material_phrase

GROUND_WORDS = {"grass": "grass", "gravel": "gravel", "brick": "brick paving"}
MIN_COVER = 0.01  # a solid must fill 1 % of frame 0 to be mentioned


def _article(phrase: str) -> str:
    return ("an " if phrase[:1] in "aeiou" else "a ") + phrase


def caption(spec: WorldSpec, solid0: np.ndarray) -> str:
    """solid0: the solid index of every pixel of frame 0."""
    cover = np.bincount(solid0.ravel(), minlength=len(spec.solids)) / solid0.size
    solids, backdrops = [], []
    for i, s in enumerate(spec.solids):
        if cover[i] >= MIN_COVER and s.role in ("solid", "backdrop") and not s.moving:
            (solids if s.role == "solid" else backdrops).append((cover[i], i))
    parts = []
    main = max(solids)[1] if solids else None
    back = max(backdrops)[1] if backdrops else None
    if main is not None:
        s = spec.solids[main]
        phrase = _article(material_phrase(s.material, s.noun))
        if back is not None:
            b = spec.solids[back]
            phrase += " in front of " + _article(material_phrase(b.material, b.noun))
        parts.append(phrase)
    elif back is not None:
        b = spec.solids[back]
        parts.append(_article(material_phrase(b.material, b.noun)))
    ground = next(s for s in spec.solids if s.role == "ground")
    gm = ground.material
    ground_text = GROUND_WORDS.get(gm.words) if gm.natural else None
    ground_text = ground_text or material_phrase(gm, "ground")
    sky = colour_name(spec.lighting.zenith)
    if parts:
        parts[0] += f" on {ground_text}"
    else:
        parts.append(f"{ground_text} under a {sky} sky")
    for k, motion in enumerate(spec.motions):
        s = next(s for s in spec.solids if s.moving == k + 1)
        words = motion.words(spec.camera.c2w[0], (spec.frames - 1) / spec.fps)
        name = colour_name((s.material.color_a + s.material.color_b) / 2) if not s.material.natural else ""
        parts.append(_article(f"{name} {s.noun}".strip()) + " " + words)
    parts.append(f"the camera {spec.camera.words}")
    return ", ".join(parts)
