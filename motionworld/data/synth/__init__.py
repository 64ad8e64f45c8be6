"""Synthetic worlds: procedurally generated 3D scenes rendered with moderngl (headless EGL), every
frame with exact ground truth (depth, poses, point tracks with visibility, object ids, caption)."""
from .generator import HELDOUT_SEED_START, Clip, SynthWorlds, split_seeds

__all__ = ["HELDOUT_SEED_START", "Clip", "SynthWorlds", "split_seeds"]
