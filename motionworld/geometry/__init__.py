"""Geometry: cameras, depth, camera and object paths, action strings, the camera rig, tracks."""
from . import paths
from .camera import Camera, invert_pose, look_at, pose_from_ypr
from .object_path import ObjectKeyframe, ObjectPath
from .paths import CameraPath, Keyframe
from .rig import CameraRig, ControlCommand
from .trackfield import TrackField, TrackResult

__all__ = ["paths", "Camera", "invert_pose", "look_at", "pose_from_ypr", "ObjectKeyframe", "ObjectPath",
           "CameraPath", "Keyframe", "CameraRig", "ControlCommand", "TrackField", "TrackResult"]
