"""The model stack: causal Wan DiT, sink + rolling KV cache, track encoder, tiny VAE, text encoders,
sampler, and the streaming student that runs them chunk by chunk."""
from .attention import BlockCausal
from .config import DiTConfig, StudentConfig, TextConfig, TrackConfig, VAEConfig, preset
from .kv_cache import SinkRollingKVCache
from .modules import TrackVideoModules
from .sampler import euler, few_step, joint_guidance, shift_sigma, step_levels
from .student import StreamingStudent
from .text_encoder import UMT5TextEncoder, WordTextEncoder
from .tiny_vae import StreamingDecoder, TinyVAE
from .track_encoder import TrackEncoder
from .transformer import CausalWanTransformer
from .wan_weights import load_wan_weights

__all__ = [
           "BlockCausal",
           "CausalWanTransformer",
           "DiTConfig",
           "SinkRollingKVCache",
           "StreamingDecoder",
           "StreamingStudent",
           "StudentConfig",
           "TrackVideoModules",
           "TextConfig",
           "TinyVAE",
           "TrackConfig",
           "TrackEncoder",
           "UMT5TextEncoder",
           "VAEConfig",
           "WordTextEncoder",
           "euler",
           "few_step",
           "joint_guidance",
           "load_wan_weights",
           "preset",
           "shift_sigma",
           "step_levels",
]
