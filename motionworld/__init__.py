"""motionworld: walk into a still image. Controls -> camera -> point tracks -> video model -> frames."""
from . import plugins
from .backends import Chunk, Generator, NeuralGenerator, TrackPreviewGenerator, WarpGenerator
from .checks import ContractError, check_backend, check_depth_source, check_stage
from .errors import MotionWorldError, SceneError
from .geometry import paths
from .geometry.actions import actions_to_c2w, parse_actions
from .geometry.camera import Camera, look_at, pose_from_ypr
from .geometry.object_path import ObjectKeyframe, ObjectPath
from .geometry.path_io import load_path_file, save_nerfstudio
from .geometry.paths import CameraPath, Keyframe
from .geometry.rig import CameraRig, ControlCommand
from .geometry.trackfield import TrackField, TrackResult
from .play.session import Session
from .scene import Scene, check_scene, load_scene
from .video import VideoWriter
from .world import World

__version__ = "0.1.0"

_MODEL_NAMES = {"StreamingStudent", "BlockCausal", "CausalWanTransformer", "TinyVAE", "TrackEncoder"}


def __getattr__(name):
    # the model stack imports torch; load it only when asked for, so `import motionworld` stays light
    if name in _MODEL_NAMES:
        from . import model

        return getattr(model, name)
    raise AttributeError(f"module 'motionworld' has no attribute {name!r}")

__all__ = ["MotionWorldError", "SceneError", "paths", "actions_to_c2w", "parse_actions", "Camera", "look_at",
           "pose_from_ypr", "ObjectKeyframe", "ObjectPath", "load_path_file", "save_nerfstudio", "CameraPath",
           "Keyframe", "CameraRig", "ControlCommand", "TrackField", "TrackResult", "Scene", "check_scene",
           "load_scene", "World", "Session", "Chunk", "Generator", "WarpGenerator", "NeuralGenerator",
           "TrackPreviewGenerator", "VideoWriter", "plugins", "check_backend", "check_depth_source", "check_stage",
           "ContractError"]
