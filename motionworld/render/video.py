"""Video files: MP4/MKV/WebM through imageio-ffmpeg, GIF through Pillow, or a folder of PNGs.

Frames are uint8 [H, W, 3]. The file is written under a temporary name and moved into place when
complete, so a failed render never leaves a truncated video where a good one was.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np

from ..errors import MotionWorldError

VIDEO_SUFFIXES = (".mp4", ".mkv", ".webm", ".mov")


class VideoWriter:
    def __init__(self, path: str | Path, fps: float = 16.0, quality: int = 8):
        self.path = Path(path)
        self.fps = float(fps)
        self.quality = quality
        self.count = 0
        self._writer = None
        self._frames: list[np.ndarray] = []
        suffix = self.path.suffix.lower()
        if suffix in VIDEO_SUFFIXES:
            self.kind = "video"
        elif suffix == ".gif":
            self.kind = "gif"
        elif suffix == "":
            self.kind = "png"
        else:
            raise MotionWorldError(f"unsupported output {self.path.name!r}: use .mp4, .mkv, .webm, .mov, .gif or a folder name")
        if not self.path.parent.exists():
            raise MotionWorldError(f"output folder does not exist: {self.path.parent}")
        self.tmp = self.path.with_name(f".{self.path.stem}.tmp{self.path.suffix}")

    def __enter__(self) -> "VideoWriter":
        return self

    def write(self, frame: np.ndarray) -> None:
        frame = np.ascontiguousarray(frame, dtype=np.uint8)
        if frame.ndim != 3 or frame.shape[-1] != 3:
            raise ValueError(f"frames must be [H, W, 3] uint8, got {frame.shape}")
        if self.kind == "video":
            h, w = frame.shape[:2]
            if h % 2 or w % 2:  # yuv420p needs even sizes: pad by one edge pixel
                frame = np.pad(frame, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")
            if self._writer is None:
                import imageio.v2 as iio

                self._writer = iio.get_writer(self.tmp, format="FFMPEG", fps=self.fps, codec="libx264",
                                              quality=self.quality, macro_block_size=1, pixelformat="yuv420p")
            self._writer.append_data(frame)
        elif self.kind == "gif":
            self._frames.append(frame)
        else:
            from PIL import Image

            self.tmp.mkdir(parents=True, exist_ok=True)
            Image.fromarray(frame).save(self.tmp / f"frame_{self.count:05d}.png")
        self.count += 1

    def close(self) -> None:
        if self.kind == "video" and self._writer is not None:
            self._writer.close()
        elif self.kind == "gif" and self._frames:
            from PIL import Image

            ims = [Image.fromarray(f) for f in self._frames]
            ims[0].save(self.tmp, save_all=True, append_images=ims[1:], duration=round(1000 / self.fps), loop=0)
        if self.count == 0:
            raise MotionWorldError("no frames were written")
        if self.kind == "png" and self.path.exists():
            shutil.rmtree(self.path)
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        if self._writer is not None:
            try:
                self._writer.close()
            except Exception:
                pass
        if self.tmp.is_dir():
            shutil.rmtree(self.tmp, ignore_errors=True)
        elif self.tmp.exists():
            self.tmp.unlink()

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def write_video(path: str | Path, frames, fps: float = 16.0) -> int:
    """Write an iterable of frames; returns how many were written."""
    with VideoWriter(path, fps) as w:
        for f in frames:
            w.write(f)
    return w.count
