"""Output formats and how pictures are read (issue 37, items 7 and 10): a WebM gets a codec WebM
takes, a failed write is one line naming the output and the cause (a full disk said as such, never
"Broken pipe"), a GIF is bounded in memory, and a phone photo's EXIF orientation is applied."""
from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from motionworld import video
from motionworld.errors import MotionWorldError
from motionworld.images import read_mask, read_rgb
from motionworld.video import write_video
from tests.conftest import one_error, run_cli


def smooth_frames(count: int, width: int = 64, height: int = 48) -> np.ndarray:
    """Gentle gradients sliding a little each frame: what a video codec keeps well."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    return np.stack([np.stack([x * 3 + 4 * t, y * 4 + 2 * t, (x + y) * 2], -1) % 256
                     for t in range(count)]).astype(np.uint8)


def read_back(path: Path) -> tuple[np.ndarray, str]:
    """The frames of a video file and its codec, as ffmpeg reads them."""
    import imageio.v2 as iio

    with iio.get_reader(path, format="FFMPEG") as reader:
        return np.stack([frame for frame in reader]), reader.get_meta_data()["codec"].split()[0].rstrip(",")


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return 10 * np.log10(255.0**2 / mse)


def fake_ffmpeg(tmp_path: Path, monkeypatch, stderr: str = "") -> None:
    """IMAGEIO_FFMPEG_EXE: an "ffmpeg" that says `stderr` and exits 1 without reading its input."""
    exe = tmp_path / "bin" / "ffmpeg"
    exe.parent.mkdir()
    exe.write_text("#!/bin/sh\ncat >&2 <<'END'\n" + stderr + "END\nexit 1\n")
    exe.chmod(0o755)
    monkeypatch.setenv("IMAGEIO_FFMPEG_EXE", str(exe))


def no_space_left(monkeypatch) -> None:
    monkeypatch.setattr(shutil, "disk_usage", lambda path: SimpleNamespace(total=1 << 30, used=1 << 30, free=0))


# --- WebM: VP9 (VP8 where ffmpeg lacks it), not H.264 -------------------------------------------
def test_webm_output_is_vp9_and_reads_back(tmp_path):
    frames = smooth_frames(9)
    assert write_video(tmp_path / "a.webm", frames) == 9
    back, codec = read_back(tmp_path / "a.webm")
    assert codec == "vp9" and back.shape == frames.shape
    assert psnr(back, frames) > 25
    assert os.listdir(tmp_path) == ["a.webm"]


def test_webm_falls_back_to_vp8_where_ffmpeg_has_no_vp9(tmp_path, monkeypatch):
    monkeypatch.setattr(video, "_encoders", lambda exe: frozenset({"libx264", "libvpx"}))
    frames = smooth_frames(5)
    write_video(tmp_path / "a.webm", frames)
    back, codec = read_back(tmp_path / "a.webm")
    assert codec == "vp8" and len(back) == 5 and psnr(back, frames) > 25


def test_render_to_webm_as_the_readme_says(garden, tmp_path, capsys):
    rc, err, out = run_cli(capsys, "render", garden, "--backend", "tracks", "--size", "32", "--seconds", "0.5",
                           "-o", tmp_path / "walk.webm")
    assert rc == 0, err
    back, codec = read_back(tmp_path / "walk.webm")
    assert codec == "vp9" and len(back) == 9


# --- a failed write is one line naming the output and the cause ----------------------------------
def test_an_ffmpeg_failure_is_one_line_with_its_cause(garden, tmp_path, monkeypatch, capsys):
    fake_ffmpeg(tmp_path, monkeypatch, "[libx264 @ 0x55d0c0ffee00] frame size 32x32 refused by the encoder\n"
                                       "[vf#0:0 @ 0x55d0c0ffee10] Error sending frames to consumers: Invalid argument\n"
                                       "Conversion failed!\n")
    out = tmp_path / "out"
    out.mkdir()
    line = one_error(capsys, "render", garden, "--backend", "tracks", "--size", "32", "--seconds", "0.5",
                     "-o", out / "walk.mp4", match="walk.mp4")
    assert line.endswith("ffmpeg failed: [libx264] frame size 32x32 refused by the encoder"), line
    assert os.listdir(out) == []


def test_a_full_disk_is_said_as_such_not_broken_pipe(garden, tmp_path, monkeypatch, capsys):
    fake_ffmpeg(tmp_path, monkeypatch)  # dies at once: our next write meets a closed pipe
    no_space_left(monkeypatch)
    out = tmp_path / "out"
    out.mkdir()
    for name in ("walk.mp4", "walk.webm"):
        line = one_error(capsys, "render", garden, "--backend", "tracks", "--size", "32", "--seconds", "0.5",
                         "-o", out / name)
        assert line == f"error: cannot write {out / name}: no space left on the device holding {out / name} (0 MB free)"
        assert os.listdir(out) == []


def test_ffmpegs_own_words_for_a_full_disk_are_enough(tmp_path, monkeypatch):
    fake_ffmpeg(tmp_path, monkeypatch, "[out#0/mp4 @ 0x5] Error writing trailer: No space left on device\n")
    with pytest.raises(MotionWorldError, match=r"^cannot write .*a\.mp4: no space left on the device holding") as e:
        write_video(tmp_path / "a.mp4", smooth_frames(3))
    assert "\n" not in str(e.value)
    assert sorted(os.listdir(tmp_path)) == ["bin"]


@pytest.mark.parametrize("name", ["a.gif", "frames"])
def test_a_full_disk_writing_a_gif_or_png_frames_is_one_line(tmp_path, monkeypatch, name):
    from PIL import Image

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", full)
    no_space_left(monkeypatch)
    with pytest.raises(MotionWorldError) as e:
        write_video(tmp_path / name, smooth_frames(3))
    assert str(e.value) == (f"cannot write {tmp_path / name}: no space left on the device holding {tmp_path / name} "
                            "(0 MB free)")
    assert os.listdir(tmp_path) == []


# --- a GIF is bounded in memory -------------------------------------------------------------------
def test_a_gif_is_refused_before_it_outgrows_its_memory_budget(tmp_path, monkeypatch):
    frames = smooth_frames(4, 20, 10)
    monkeypatch.setattr(video, "MAX_GIF_BYTES", 3 * frames[0].nbytes)
    assert write_video(tmp_path / "short.gif", frames[:3]) == 3
    with pytest.raises(MotionWorldError, match=r"would hold 4 frames of 20x10 .* use \.mp4 or \.webm") as e:
        write_video(tmp_path / "long.gif", frames)
    assert "\n" not in str(e.value)
    assert os.listdir(tmp_path) == ["short.gif"]


# --- EXIF orientation: a portrait phone photo is read upright -----------------------------------
def _blocks(width: int, height: int) -> np.ndarray:
    """Four flat colours, one a quadrant: which way up it is survives JPEG."""
    a = np.zeros((height, width, 3), np.uint8)
    a[: height // 2, : width // 2] = (250, 20, 20)
    a[: height // 2, width // 2:] = (20, 250, 20)
    a[height // 2:, : width // 2] = (20, 20, 250)
    a[height // 2:, width // 2:] = (240, 240, 240)
    return a


def _save_turned(path: Path, pixels: np.ndarray, orientation: int) -> Path:
    from PIL import Image

    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(pixels).save(path, exif=exif, **({"quality": 95} if path.suffix == ".jpg" else {}))
    return path


def test_a_phone_photo_stored_sideways_is_read_upright(tmp_path):
    stored = _blocks(48, 32)  # landscape, as the phone's sensor wrote it
    photo = read_rgb(_save_turned(tmp_path / "portrait.jpg", stored, 6))  # 6: turn 90 degrees clockwise to show
    upright = np.rot90(stored, k=-1)
    assert photo.shape == (48, 32, 3)
    assert np.abs(photo.astype(int) - upright).mean() < 4
    mirrored = read_rgb(_save_turned(tmp_path / "mirrored.jpg", stored, 2))  # 2: mirrored left to right
    assert np.abs(mirrored.astype(int) - stored[:, ::-1]).mean() < 4
    mask = np.zeros((32, 48, 3), np.uint8)
    mask[:8, :8] = 255  # the top-left corner, as stored
    shown = read_mask(_save_turned(tmp_path / "mask.png", mask, 6))
    assert shown.shape == (48, 32) and shown[:8, -8:].all() and shown.sum() == 64  # now top right


def test_the_size_limit_names_the_upright_size(tmp_path):
    picture = _save_turned(tmp_path / "tall.jpg", np.zeros((10, 20000, 3), np.uint8), 6)
    with pytest.raises(MotionWorldError, match=r"tall\.jpg is 10x20000 "):
        read_rgb(picture)
