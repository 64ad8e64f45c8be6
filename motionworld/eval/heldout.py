"""The evaluation's data: held-out synthetic worlds (a seed range training never uses) and the long
streams for the horizon tests.

Held-out clips come from `SynthClipDataset(split="heldout")`: generated on the fly, or read from
shards written with `motionworld data synth --split heldout`. The long stream is one held-out world
made static, with a camera that keeps moving but stays near its start (it sways, turns back and
forth, steps forward and back), so most of what it sees stays what the first frame showed. The
walk-away stream turns its back on the first view for 10 s (by default) and comes back to it: what a
cache that forgot the picture cannot repaint.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from ..data.shards import read_manifest
from ..data.synth.generator import HELDOUT_SEED_START, SynthWorlds, object_motion, split_seeds
from ..data.synth.ground_truth import surface_tracks
from ..data.synth.motion import CameraMotion
from ..data.synth.raster import NEAR
from ..errors import MotionWorldError
from ..frames import FPS
from ..geometry.camera import pose_from_ypr, ypr_from_rotation

EVAL_SEED_START = 1000  # held-out worlds 0.. are what training's eval hook watches; the report uses others


def check_heldout_shards(root, count: int, frames: int, size: int) -> None:
    """Refuse shards that are not a held-out split, or too few, too short or the wrong size."""

    m = read_manifest(root)
    cfg, settings = m["settings"]["config"], m["settings"]
    seeds = [s for shard in m["shards"] for s in shard["seeds"]]
    if settings.get("split") != "heldout" or min(seeds, default=0) < HELDOUT_SEED_START:
        raise MotionWorldError(f"{root}: not a held-out split (made with split {settings.get('split')!r}); "
                               "write one with `motionworld data synth --split heldout`")
    if len(seeds) < count or cfg["frames"] < frames or cfg["size"] != size:
        raise MotionWorldError(f"{root}: {len(seeds)} clips of {cfg['frames']} frames at {cfg['size']}px; the "
                               f"evaluation needs {count} of {frames} frames at {size}px")


def heldout_items(count: int, frames: int = 81, size: int | tuple[int, int] = 128, root=None,
                  seed_start: int = EVAL_SEED_START) -> list[dict]:
    """`count` held-out clips as dataset items (numpy arrays; see SynthClipDataset)."""
    from ..data.dataset import SynthClipDataset

    if root is not None:
        check_heldout_shards(root, count, frames, size)
        ds = SynthClipDataset(root)
    else:
        ds = SynthClipDataset(count=count, split="heldout", seed_start=seed_start, size=size, frames=frames)
    items = []
    for i in range(count):
        item = {k: (v.numpy() if hasattr(v, "numpy") else v) for k, v in ds[i].items()}
        if len(item["video"]) < frames:
            raise ValueError(f"held-out clip {i} has {len(item['video'])} frames, the evaluation needs {frames}")
        for key in ("video", "depth", "tracks", "visibility", "c2w", "object_motion"):
            if key in item:
                item[key] = item[key][:frames]
        item["moving_objects"] = bool((item["object_ids"] > 0).any())
        items.append(item)
    return items


def sway_poses(start: np.ndarray, frames: int, fps: float = FPS) -> np.ndarray:
    """Camera poses [T, 4, 4] that wander near `start`: yaw within ±15°, pitch ±4°, sideways ±0.3
    and forward 0..0.5 units, on incommensurate periods so the stream never simply repeats."""
    t = np.arange(frames) / fps
    x0, y0, z0 = start[:3, 3]
    yaw0, pitch0, roll0 = ypr_from_rotation(start[:3, :3])
    yaw = yaw0 + 15.0 * np.sin(2 * np.pi * t / 9.0)
    pitch = pitch0 + 4.0 * np.sin(2 * np.pi * t / 7.0)
    a = np.radians(yaw0)
    forward, right = np.array([np.sin(a), 0, np.cos(a)]), np.array([np.cos(a), 0, -np.sin(a)])
    side = 0.3 * np.sin(2 * np.pi * t / 11.0)
    ahead = 0.25 * (1 - np.cos(2 * np.pi * t / 13.0))
    out = []
    for i in range(frames):
        pos = np.array([x0, y0, z0]) + side[i] * right + ahead[i] * forward
        out.append(pose_from_ypr(pos, yaw[i], pitch[i], roll0))
    return np.stack(out)


# The walk-away stream's timeline, seconds: the first view held, a turn away, ~10 s elsewhere, the
# turn back, the first view held again.
AWAY_HOLD, AWAY_TURN, AWAY_STAY = 1.5, 2.5, 10.0
AWAY_YAW_DEG = 120.0


def away_and_back_poses(start: np.ndarray, frames: int, fps: float = FPS, stay: float = AWAY_STAY) -> np.ndarray:
    """Camera poses [T, 4, 4] that hold the first view, turn 120° away and walk a little there for
    `stay` seconds (the first view wholly out of sight), then come back and hold the first view again."""
    t = np.arange(frames) / fps
    x0, y0, z0 = start[:3, 3]
    yaw0, pitch0, roll0 = ypr_from_rotation(start[:3, :3])
    leave, back = AWAY_HOLD, AWAY_HOLD + AWAY_TURN + stay

    def ease(u):  # 0 -> 1, smooth at both ends
        u = np.clip(u, 0.0, 1.0)
        return u * u * (3 - 2 * u)

    away = ease((t - leave) / AWAY_TURN) - ease((t - back) / AWAY_TURN)  # 0 at the first view, 1 away
    wander = np.sin(np.pi * np.clip((t - leave - AWAY_TURN) / stay, 0, 1))  # 0 -> 1 -> 0 while away
    yaw = yaw0 + AWAY_YAW_DEG * away + 12.0 * np.sin(2 * np.pi * t / 5.0) * wander
    a = np.radians(yaw0)
    right = np.array([np.cos(a), 0, -np.sin(a)])
    out = []
    for i in range(frames):
        pos = np.array([x0, y0, z0]) + 0.4 * wander[i] * right
        out.append(pose_from_ypr(pos, yaw[i], pitch0, roll0))
    return np.stack(out)


def away_frames(fps: float = FPS, stay: float = AWAY_STAY) -> int:
    """Frames of the walk-away stream (`stay` seconds away): the whole timeline and the first view
    held as long again after the return, rounded up to whole chunks (9 + 12k)."""
    seconds = 2 * AWAY_HOLD + 2 * AWAY_TURN + stay + 2.0
    n = int(np.ceil(seconds * fps))
    return 9 + 12 * int(np.ceil((n - 9) / 12))


class _Frozen:
    """An object motion held at its pose at t = 0 (moving solids are modelled about their own origin,
    so dropping the motion would put them at the world origin, on the camera)."""

    def __init__(self, motion):
        self.motion = motion

    def matrices(self, times: np.ndarray) -> np.ndarray:
        return np.repeat(self.motion.matrices(np.zeros(1)), len(times), axis=0)


def long_stream(seed: int, frames: int = 2000, size: int | tuple[int, int] = 128, grid: int = 50,
                poses=sway_poses, caption: str = "the camera sways and looks around") -> dict:
    """A held-out world with its objects held still, seen along `poses(start, frames, fps)`
    (`sway_poses`, or `away_and_back_poses`): an item like the dataset's (video, depth, tracks,
    visibility, object_ids, K, c2w, caption)."""

    worlds = SynthWorlds(size=size, frames=frames, grid=grid)
    world_seed = int(split_seeds("heldout", seed, 1)[0])
    spec = worlds.world(world_seed)
    poses = poses(spec.camera.c2w[0], frames, spec.fps)
    # Objects and the sun hold still: over two minutes a drifting sun would change what the first
    # frame showed, which no model could know.
    spec = dataclasses.replace(spec, camera=CameraMotion(poses, caption, "sway"),
                               motions=[_Frozen(m) for m in spec.motions],
                               lighting=dataclasses.replace(spec.lighting, drift=0.0))
    video, depth, slot0, _ = worlds.renderer.render(spec)
    tracks, vis, _, ids = surface_tracks(depth, slot0, spec.K, spec.camera.c2w, spec.object_matrices(),
                                         grid=grid, near=NEAR)
    return {"video": video, "depth": depth, "tracks": tracks, "visibility": vis, "object_ids": ids,
            "K": spec.K.astype(np.float32), "c2w": poses.astype(np.float32), "seed": world_seed,
            "caption": caption, "moving_objects": False,
            "object_slots": slot0.astype(np.uint8), "object_motion": object_motion(spec.object_matrices())}
