"""Video files: MP4/MKV/WebM through imageio-ffmpeg, GIF through Pillow, or a folder of PNGs.

Frames are uint8 [H, W, 3]. The output is written under a temporary name that is unique to this
run (`.NAME.XXXXXX.tmp…` beside it) and moved into place when complete, so a failed or killed render
never leaves a truncated video where a good one was, and a later run never mixes in a killed run's
frames. The writer never deletes what the user did not ask for (`outputs.check_output_target`): a
folder output must be new or empty, and `.`, `..`, roots and the working folder are refused.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np

from .errors import MotionWorldError
from .frames import FPS
from .outputs import as_created, check_output_target, temporary_beside

VIDEO_SUFFIXES = (".mp4", ".mkv", ".webm", ".mov")


class VideoWriter:
    def __init__(self, path: str | Path, fps: float = FPS, quality: int = 8):
        self.path = Path(path)
        self.fps = float(fps)
        self.quality = quality
        self.count = 0
        self._writer = None
        self._frames: list[np.ndarray] = []
        self.tmp: Path | None = None  # made at the first frame, unique to this run
        suffix = self.path.suffix.lower()
        if suffix in VIDEO_SUFFIXES:
            self.kind = "video"
        elif suffix == ".gif":
            self.kind = "gif"
        elif suffix == "":
            self.kind = "png"
        else:
            raise MotionWorldError(f"unsupported output {self.path.name!r}: use .mp4, .mkv, .webm, .mov, .gif or a folder name")
        check_output_target(self.path, folder=self.kind == "png")

    def __enter__(self) -> VideoWriter:
        return self

    def write(self, frame: np.ndarray) -> None:
        frame = np.ascontiguousarray(frame, dtype=np.uint8)
        if frame.ndim != 3 or frame.shape[-1] != 3:
            raise ValueError(f"frames must be [H, W, 3] uint8, got {frame.shape}")
        if self.tmp is None:
            self.tmp = temporary_beside(self.path, folder=self.kind == "png")  # ffmpeg's -y overwrites it
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

            Image.fromarray(frame).save(self.tmp / f"frame_{self.count:05d}.png")
        self.count += 1

    def close(self) -> None:
        """Finish the file and move it into place; on any failure the temporary output is removed."""
        try:
            self._finish()
        except BaseException:
            self.abort()
            raise

    def _finish(self) -> None:
        if self.kind == "video" and self._writer is not None:
            writer, self._writer = self._writer, None
            writer.close()
        elif self.kind == "gif" and self._frames:
            from PIL import Image

            ims = [Image.fromarray(f) for f in self._frames]
            ims[0].save(self.tmp, save_all=True, append_images=ims[1:], duration=round(1000 / self.fps), loop=0)
        if self.count == 0:
            raise MotionWorldError("no frames were written")
        if self.kind == "png":
            check_output_target(self.path, folder=True)  # still new or empty: nothing of the user's is replaced
            if self.path.is_dir():
                self.path.rmdir()
            os.rename(as_created(self.tmp), self.path)
        else:
            os.replace(as_created(self.tmp), self.path)
        self.tmp = None

    def abort(self) -> None:
        """Drop the unfinished output: the temporary file or folder this run made, nothing else."""
        if self._writer is not None:
            writer, self._writer = self._writer, None
            try:
                writer.close()
            except Exception:  # ffmpeg may already be gone (killed, disk full); the file is dropped anyway
                pass
        tmp, self.tmp = self.tmp, None
        if tmp is None:
            return
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        elif tmp.exists():
            tmp.unlink()

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def write_video(path: str | Path, frames, fps: float = FPS) -> int:
    """Write an iterable of frames; returns how many were written."""
    with VideoWriter(path, fps) as w:
        for f in frames:
            w.write(f)
    return w.count
