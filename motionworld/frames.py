"""Frame arithmetic of the latent video, from the VAE's time stride s (4 for Wan 2.1's VAE and the
tiny VAE): latent frame 0 is the first video frame alone, every later latent frame covers s frames.

So L latents from the start of a stream cover s·L − (s − 1) video frames, a later chunk of C
latents s·C frames, and a stream of whole chunks has (s·C − s + 1) + s·C·k frames: 9 + 12k for
s = 4, C = 3. Every count of that kind in the project comes from here."""
from __future__ import annotations

FPS = 16  # the native video rate (Wan's): 12 frames a chunk are 0.75 s
TIME_STRIDE = 4  # video frames per latent frame
CHUNK_LATENTS = 3  # latent frames per chunk by default: 12 video frames, 9 for the first


def video_frames(latents: int, from_start: bool = True, stride: int = TIME_STRIDE) -> int:
    """Video frames that `latents` latent frames cover; from the start of a stream the first covers one."""
    return stride * latents - (stride - 1 if from_start else 0)


def chunk_frames(chunk_index: int, chunk_latents: int, stride: int = TIME_STRIDE) -> int:
    """Video frames of chunk `chunk_index` (0 is the first, which includes the start picture)."""
    return video_frames(chunk_latents, from_start=chunk_index == 0, stride=stride)


def latent_of_frame(frame: int, stride: int = TIME_STRIDE) -> int:
    """The latent frame that video frame `frame` (0-based, counted from the stream's start) falls in."""
    return (frame + stride - 1) // stride


def is_whole_latents(frames: int, stride: int = TIME_STRIDE) -> bool:
    """True when `frames` from a stream's start fill whole latent frames (1 + s·k)."""
    return frames >= 1 and (frames - 1) % stride == 0


def is_whole_chunks(frames: int, chunk_latents: int, stride: int = TIME_STRIDE) -> bool:
    """True when `frames` from a stream's start are whole chunks (9 + 12k for s = 4, C = 3)."""
    first, later = chunk_frames(0, chunk_latents, stride), chunk_frames(1, chunk_latents, stride)
    return frames >= first and (frames - first) % later == 0


def whole_chunks_text(chunk_latents: int, stride: int = TIME_STRIDE) -> str:
    """'9 + 12k': how a user is told which lengths are whole chunks."""
    return f"{chunk_frames(0, chunk_latents, stride)} + {chunk_frames(1, chunk_latents, stride)}k"
