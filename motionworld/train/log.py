"""Training logs: one JSON object per line (losses every step, eval metrics when they run), and a
PNG of the curves (`motionworld train plot LOG`), drawn with PIL."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from ..errors import MotionWorldError
from ..inputs import note_input
from ..outputs import replacing


class JSONLLog:
    def __init__(self, path: str | Path, append: bool):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.file = open(self.path, "a" if append else "w")

    def write(self, record: dict) -> None:
        self.file.write(json.dumps(record) + "\n")
        self.file.flush()

    def close(self) -> None:
        self.file.close()


def read_log(path: str | Path) -> list[dict]:
    path = note_input(path, "log")
    if not path.is_file():
        raise MotionWorldError(f"log not found: {path}")
    out = []
    for i, line in enumerate(path.read_text().splitlines(), 1):
        if line.strip():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                raise MotionWorldError(f"{path}:{i}: not a JSON line") from None
    return out


def plot_log(path: str | Path, output: str | Path, width: int = 900, panel_height: int = 220) -> list[str]:
    """One panel per numeric key (x = step); returns the keys drawn."""
    from PIL import Image, ImageDraw

    records = read_log(path)
    keys = sorted({k for r in records for k, v in r.items()
                   if k not in ("step", "time") and isinstance(v, (int, float)) and not isinstance(v, bool)})
    if not keys:
        raise MotionWorldError(f"{path}: no numeric values to plot")
    img = Image.new("RGB", (width, panel_height * len(keys)), "white")
    draw = ImageDraw.Draw(img)
    left, right, top, bottom = 70, 20, 24, 28
    for p, key in enumerate(keys):
        pts = np.array([(r["step"], r[key]) for r in records if key in r and math.isfinite(r[key])], float)
        y0 = p * panel_height
        draw.text((left, y0 + 4), key, fill="black")
        box = (left, y0 + top, width - right, y0 + panel_height - bottom)
        draw.rectangle(box, outline="grey")
        if len(pts) == 0:
            continue
        xs, ys = pts[:, 0], pts[:, 1]
        xlo, xhi = xs.min(), max(xs.max(), xs.min() + 1)
        ylo, yhi = ys.min(), ys.max()
        if yhi - ylo < 1e-12:
            ylo, yhi = ylo - 1, yhi + 1
        px = box[0] + (xs - xlo) / (xhi - xlo) * (box[2] - box[0])
        py = box[3] - (ys - ylo) / (yhi - ylo) * (box[3] - box[1])
        line = list(zip(px.tolist(), py.tolist()))
        if len(line) > 1:
            draw.line(line, fill=(30, 90, 200), width=2)
        for x, y in line if len(line) < 40 else []:
            draw.ellipse((x - 2, y - 2, x + 2, y + 2), fill=(30, 90, 200))
        draw.text((4, box[1]), f"{yhi:.4g}", fill="black")
        draw.text((4, box[3] - 10), f"{ylo:.4g}", fill="black")
        draw.text((box[0], box[3] + 4), f"step {xlo:.0f}", fill="black")
        draw.text((box[2] - 70, box[3] + 4), f"step {xhi:.0f}", fill="black")
    with replacing(output) as tmp:  # never over the log itself (an input), never half a PNG
        img.save(tmp)
    return keys
