"""Frames out: overlays drawn on frames and video files."""
from .overlay import draw_points, track_colors
from .video import VideoWriter, write_video

__all__ = ["draw_points", "track_colors", "VideoWriter", "write_video"]
