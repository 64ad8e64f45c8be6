"""Video files: MP4/MKV/MOV (H.264) and WebM (VP9) through ffmpeg, GIF through Pillow, or a folder of PNGs.

Frames are uint8 [H, W, 3]. The output is written under a temporary name that is unique to this
run (`.NAME.XXXXXX.tmp…` beside it) and moved into place when complete, so a failed or killed render
never leaves a truncated video where a good one was, and a later run never mixes in a killed run's
frames. The writer never deletes what the user did not ask for (`outputs.check_output_target`): a
folder output must be new or empty, and `.`, `..`, roots and the working folder are refused.
A failed write (ffmpeg stopped, the disk full) is one MotionWorldError naming the output and the
cause. A GIF is built in memory (Pillow writes it whole), so it is bounded by MAX_GIF_BYTES.
"""
from __future__ import annotations

import errno
import functools
import os
import re
import shutil
import subprocess
import tempfile
from fractions import Fraction
from pathlib import Path

import numpy as np

from .errors import MotionWorldError
from .frames import FPS
from .limits import MAX_GIF_BYTES
from .outputs import as_created, check_output_target, temporary_beside

VIDEO_SUFFIXES = (".mp4", ".mkv", ".webm", ".mov")
LOW_SPACE_BYTES = 4 << 20  # a write that fails with less than this free on the output's device failed for space
# ffmpeg's lines that follow from an error rather than say it
_CONSEQUENCES = ("Error sending frames to consumers", "Task finished with error code", "Terminating thread with",
                 "Nothing was written into output file", "Conversion failed", "Could not write header",
                 "Error while filtering", "Error while processing the decoded data")


@functools.cache
def _encoders(ffmpeg: str) -> frozenset[str]:
    """The encoder names this ffmpeg binary lists (empty if it cannot say)."""
    try:
        listing = subprocess.run([ffmpeg, "-hide_banner", "-encoders"], capture_output=True, text=True,
                                 timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    return frozenset(parts[1] for parts in map(str.split, listing.splitlines())
                     if len(parts) > 1 and len(parts[0]) == 6 and parts[0][0] in "VAS")


def codec_args(suffix: str, quality: int, ffmpeg: str) -> list[str]:
    """ffmpeg's encoder options for a container: WebM takes only VP8/VP9/AV1, so VP9 (VP8 where this
    ffmpeg lacks it); the others H.264. `quality` (1-10, imageio's scale) maps linearly onto each
    encoder's CRF range: 8 is CRF 10 of H.264's 51 (what imageio gave) and 12 of VP9's 63."""
    if suffix.lower() != ".webm":
        return ["-c:v", "libx264", "-crf", str(int((1 - quality / 10) * 51))]
    crf = int((1 - quality / 10) * 63)
    # realtime at its fastest: 65 frames of 640x384 in 0.3 s on 2 CPU cores (H.264: 0.4 s), 37 dB on a panned photo
    fast = ["-deadline", "realtime", "-cpu-used", "8"]
    if "libvpx-vp9" in _encoders(ffmpeg):
        return ["-c:v", "libvpx-vp9", "-b:v", "0", "-crf", str(crf), *fast, "-row-mt", "1"]
    return ["-c:v", "libvpx", "-b:v", "8M", "-crf", str(max(4, crf)), *fast]  # VP8: CRF under a bitrate cap


class _Ffmpeg:
    """One ffmpeg process encoding raw RGB frames fed on its stdin into `target`. What it says goes
    to an unnamed temporary file (a pipe nobody reads could fill and stall it) for the error message."""

    def __init__(self, target: Path, width: int, height: int, fps: float, quality: int):
        import imageio_ffmpeg

        exe = imageio_ffmpeg.get_ffmpeg_exe()
        self.shape = (height, width)
        rate = Fraction(fps).limit_denominator()
        cmd = [exe, "-hide_banner", "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24",
               "-s", f"{width}x{height}", "-r", str(rate), "-i", "-", "-an",
               *codec_args(target.suffix, quality, exe), "-pix_fmt", "yuv420p", str(target)]
        self.log = tempfile.TemporaryFile()
        try:
            # its own session: Ctrl+C in the terminal reaches us, and we stop it (abort)
            self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self.log,
                                         start_new_session=True)
        except BaseException:
            self.log.close()
            raise

    def write(self, frame: np.ndarray) -> None:
        self.proc.stdin.write(memoryview(frame).cast("B"))

    def finish(self) -> int:
        """Close its input and wait for it to write the file; its exit status."""
        try:
            self.proc.stdin.close()
        finally:
            self.stop(timeout=None)
        return self.proc.returncode

    def stop(self, timeout: float | None = 10.0) -> None:
        """Wait up to `timeout` seconds for it to end (None: as long as it takes), then kill it."""
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()

    def close(self) -> None:
        """Release it: killed if it still runs (its file is being dropped), its pipe and log closed."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        try:
            self.proc.stdin.close()
        except OSError:  # its unwritten buffer has nowhere to go
            pass
        self.log.close()

    def said(self) -> str:
        """What it wrote on stderr (its first MB)."""
        self.log.seek(0)
        return self.log.read(1 << 20).decode("utf-8", "replace")

    def cause(self) -> str:
        """Its error in one line: the first line that says the cause (not what followed from it),
        without the `@ 0x…` addresses; else how it ended."""
        lines = [line.strip() for line in re.sub(r" @ 0x[0-9a-fA-F]+", "", self.said()).splitlines()]
        lines = [line for line in lines if line]
        causes = [line for line in lines if not any(c in line for c in _CONSEQUENCES)] or lines
        if causes:
            return causes[0]
        rc = self.proc.returncode
        return f"it was killed (signal {-rc})" if rc is not None and rc < 0 else f"it exited with status {rc}"


class VideoWriter:
    """Writes frames to a video file, a GIF or a folder of PNGs, which appears only when complete
    (see the module's docstring). Use it as a context manager, or call `write` per frame, then
    `close` (or `abort` to drop the output); `count` is the frames written so far.

    `path` is the output: .mp4, .mkv or .mov (H.264), .webm (VP9), .gif, or a name without a suffix
    for a new or empty folder of frame_00000.png, ...; `fps` the frame rate in frames per second
    (default 16); `quality` the video encoder's quality from 1 to 10, imageio's scale (default 8:
    CRF 10 for H.264), unused for GIF and PNG."""

    def __init__(self, path: str | Path, fps: float = FPS, quality: int = 8):
        self.path = Path(path)
        self.fps = float(fps)
        self.quality = quality
        self.count = 0
        self._encoder: _Ffmpeg | None = None
        self._frames: list = []  # a GIF's frames, as Pillow images
        self._gif_bytes = 0  # their raw size (H x W x 3 each), against MAX_GIF_BYTES
        self.tmp: Path | None = None  # made at the first frame, unique to this run
        suffix = self.path.suffix.lower()
        if suffix in VIDEO_SUFFIXES:
            self.kind = "video"
        elif suffix == ".gif":
            self.kind = "gif"
        elif suffix == "":
            self.kind = "png"
        else:
            raise MotionWorldError(f"unsupported output {self.path.name!r}: "
                                   "use .mp4, .mkv, .webm, .mov, .gif or a folder name")
        check_output_target(self.path, folder=self.kind == "png")

    def __enter__(self) -> VideoWriter:
        return self

    def write(self, frame: np.ndarray) -> None:
        """Add `frame`, uint8 [H, W, 3]; every frame of a video has the first one's size."""
        frame = np.ascontiguousarray(frame, dtype=np.uint8)
        if frame.ndim != 3 or frame.shape[-1] != 3:
            raise ValueError(f"frames must be [H, W, 3] uint8, got {frame.shape}")
        if self.kind == "gif":
            self._check_gif_budget(frame)
        if self.tmp is None:
            self.tmp = temporary_beside(self.path, folder=self.kind == "png")  # ffmpeg's -y overwrites it
        if self.kind == "video":
            h, w = frame.shape[:2]
            if h % 2 or w % 2:  # yuv420p needs even sizes: pad by one edge pixel
                frame = np.pad(frame, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")
            if self._encoder is None:
                try:
                    self._encoder = _Ffmpeg(self.tmp, frame.shape[1], frame.shape[0], self.fps, self.quality)
                except (RuntimeError, OSError) as e:  # imageio-ffmpeg found no ffmpeg binary, or it would not start
                    raise MotionWorldError(f"cannot write {self.path}: cannot start ffmpeg: {e}") from None
            elif frame.shape[:2] != self._encoder.shape:
                raise ValueError(f"all frames of a video must have one size: {frame.shape[1]}x{frame.shape[0]} after "
                                 f"{self._encoder.shape[1]}x{self._encoder.shape[0]}")
            try:
                self._encoder.write(frame)
            except OSError as e:  # ffmpeg is gone (it failed, was killed, or the disk is full)
                raise self._ffmpeg_failed(e) from None
        elif self.kind == "gif":
            from PIL import Image

            self._frames.append(Image.fromarray(frame))
            self._gif_bytes += frame.nbytes
        else:
            from PIL import Image

            try:
                Image.fromarray(frame).save(self.tmp / f"frame_{self.count:05d}.png")
            except OSError as e:
                raise self._write_failed(e) from None
        self.count += 1

    def _check_gif_budget(self, frame: np.ndarray) -> None:
        """Refuse the frame that would take the GIF's frames held in memory over MAX_GIF_BYTES."""
        if self._gif_bytes + frame.nbytes <= MAX_GIF_BYTES:
            return
        h, w = frame.shape[:2]
        raise MotionWorldError(
            f"{self.path}: a GIF is made in memory, and it would hold {self.count + 1} frames of {w}x{h} "
            f"({(self._gif_bytes + frame.nbytes) / 2**30:.1f} GiB, over the {MAX_GIF_BYTES / 2**30:g} GiB limit); "
            "use .mp4 or .webm for long videos")

    def _no_space(self, error: OSError | None, said: str = "") -> str | None:
        """'no space left…' when the output's device is full (by the error, ffmpeg's words or the
        space left now), else None."""
        try:
            free = shutil.disk_usage(self.path.parent).free
        except OSError:
            free = None
        full = (error is not None and error.errno == errno.ENOSPC) or "No space left on device" in said
        if not full and (free is None or free >= LOW_SPACE_BYTES):
            return None
        left = "" if free is None else f" ({free / 1e6:.0f} MB free)"
        return f"no space left on the device holding {self.path}{left}"

    def _write_failed(self, error: OSError) -> MotionWorldError:
        """One line for a failed write of a GIF or a PNG frame."""
        return MotionWorldError(f"cannot write {self.path}: {self._no_space(error) or error.strerror or error}")

    def _ffmpeg_failed(self, error: OSError | None) -> MotionWorldError:
        """One line for ffmpeg's failure (a write to it failed, or it exited non-zero): what it said,
        or that the disk is full. The encoder is stopped; the temporary file is left to abort()."""
        encoder, self._encoder = self._encoder, None
        encoder.stop()
        said, cause = encoder.said(), encoder.cause()
        encoder.close()
        return MotionWorldError(f"cannot write {self.path}: {self._no_space(error, said) or 'ffmpeg failed: ' + cause}")

    def close(self) -> None:
        """Finish the file and move it into place; on any failure the temporary output is removed."""
        try:
            self._finish()
        except BaseException:
            self.abort()
            raise

    def _finish(self) -> None:
        if self.kind == "video" and self._encoder is not None:
            try:
                status = self._encoder.finish()
            except OSError as e:  # the last frames could not reach it
                raise self._ffmpeg_failed(e) from None
            if status != 0:
                raise self._ffmpeg_failed(None)
            encoder, self._encoder = self._encoder, None
            encoder.close()
        elif self.kind == "gif" and self._frames:
            ims, self._frames = self._frames, []
            try:
                ims[0].save(self.tmp, save_all=True, append_images=ims[1:], duration=round(1000 / self.fps), loop=0)
            except OSError as e:
                raise self._write_failed(e) from None
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
        """Drop the unfinished output: stop ffmpeg, remove the temporary file or folder this run
        made, nothing else."""
        self._frames, self._gif_bytes = [], 0
        if self._encoder is not None:
            encoder, self._encoder = self._encoder, None
            encoder.close()
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
