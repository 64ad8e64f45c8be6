"""The config budget: what a student (or teacher) configuration asks for, judged from the config
alone before any tensor is built or loaded.

A weights manifest's config is hashed (`config_sha256`), but a forger recomputes the hash, and the
shape check only compares parameters: `chunk: 100000` (activations and KV cache), `num_layers:
1048576` (a DiT built layer by layer), 100,000 sampler steps, 8192x8192 frames or a 3-value
`latent_mean` all passed it and then were killed for memory, hung, or ended in a traceback. So:

1. `check_student_config` checks every count against what the architecture can use (the bounds
   are in `motionworld.limits`, the invariants are the ones the modules assume: an 8x VAE with a
   time stride of 4, patches that tile the latent grid, RoPE tables long enough for the cache's
   positions, statistics with one value per channel, a non-empty descending list of noise levels).
2. `estimate` counts the parameters from the dims (exactly what `TrackVideoModules` builds) and
   sizes the KV cache and one chunk's activations; a config whose estimate is over
   `memory_budget()` is refused.

Each refusal is one MotionWorldError naming the key path, e.g.
`weights/MANIFEST.json: student.safetensors config dit.num_layers 1048576: at most 64 layers`."""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, replace

from .. import limits
from ..errors import MotionWorldError
from ..frames import TIME_STRIDE
from .config import DiTConfig, StudentConfig, TextConfig, TrackConfig, VAEConfig, WarpConfig

VAE_STRIDE = 8  # pixels per latent cell: 3 stride-2 stages in the encoder, 3 x2 upsamplings in the decoder
VAE_STAGES = 3
BYTES = 4  # the estimate is at float32: what a manifest's tensors load as and the default dtype
GROW_CAPACITY = 8  # chunks a growing window (`configure(window=None)`) allocates at first (kv_cache.py)


class Refused(ValueError):
    """A config value out of bounds: `key` (a dotted path), the value, and why."""

    def __init__(self, key: str, value, why: str):
        self.key, self.value, self.why = key, value, why
        super().__init__(f"{key} {_shown(value)}: {why}")


def _shown(value) -> str:
    if isinstance(value, (list, tuple)):
        return f"({len(value)} values)" if len(value) > 6 else "[" + ", ".join(
            repr(round(v, 4)) if isinstance(v, float) else repr(v) for v in value) + "]"
    return repr(value) if isinstance(value, str) else str(value)


# ----- 1. counts and invariants ------------------------------------------------------------------
def _int(key, value, low, high=None, why=None):
    if not (isinstance(value, int) and not isinstance(value, bool)):
        raise Refused(key, value, "must be a whole number")
    if value < low:
        raise Refused(key, value, f"must be in [{low}, {high}]" if high is not None else f"must be at least {low}")
    if high is not None and value > high:
        raise Refused(key, value, why or f"must be in [{low}, {high}]")


def _exactly(key, value, want: int, what: str):
    if value != want or isinstance(value, bool):
        raise Refused(key, value, f"must be {want} ({what})")


def _ints(key, values, low, count=None, most=None):
    if count is not None and len(values) != count:
        raise Refused(key, values, f"must have {count} values")
    if most is not None and len(values) > most:
        raise Refused(key, values, f"at most {most} values")
    for v in values:
        if not (isinstance(v, int) and not isinstance(v, bool)) or v < low:
            raise Refused(key, values, f"each value must be a whole number of at least {low}")


def _numbers(key, values, count, positive=False, per=""):
    if len(values) != count:
        raise Refused(key, values, f"needs {count} values{per}")
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or (positive and v <= 0):
            raise Refused(key, values, "each value must be a finite number" + (" above 0" if positive else ""))


def _stats(prefix: str, mean_key: str, std_key: str, mean, std, count: int, per: str):
    """Measured statistics: none (identity), or one mean and one std (> 0) per channel."""
    if not mean and not std:
        return
    if not std:  # the VAE applies them when std is given
        raise Refused(f"{prefix}{std_key}", std, f"is empty while {prefix}{mean_key} is not")
    _numbers(f"{prefix}{mean_key}", mean, count, per=per)
    _numbers(f"{prefix}{std_key}", std, count, positive=True, per=per)


def check_vae_config(c: VAEConfig, prefix: str = "vae.") -> None:
    """The tiny VAE's structure: 3 stages of 2x in space and 4x in time in all (frames.TIME_STRIDE),
    bounded blocks and guide layers, statistics with one value per channel."""
    p = prefix
    _int(f"{p}latent_channels", c.latent_channels, 1)
    _int(f"{p}encoder_width", c.encoder_width, 1)
    _int(f"{p}encoder_blocks", c.encoder_blocks, 0, limits.MAX_MODEL_BLOCKS)
    _int(f"{p}decoder_blocks", c.decoder_blocks, 0, limits.MAX_MODEL_BLOCKS)
    _ints(f"{p}decoder_widths", c.decoder_widths, 1, count=VAE_STAGES + 1)
    for key, flags in (("encoder_time_downscale", c.encoder_time_downscale),
                       ("decoder_time_upscale", c.decoder_time_upscale)):
        if len(flags) != VAE_STAGES or not all(isinstance(f, bool) for f in flags) or 2 ** sum(flags) != TIME_STRIDE:
            raise Refused(f"{p}{key}", flags, f"must be {VAE_STAGES} true/false values, {int(math.log2(TIME_STRIDE))} "
                                              f"of them true (the VAE's time stride is {TIME_STRIDE})")
    _stats(p, "latent_mean", "latent_std", c.latent_mean, c.latent_std, c.latent_channels,
           f", one per latent channel ({p}latent_channels)")
    _stats(p, "colour_mean", "colour_std", c.colour_mean, c.colour_std, 3, ", one per colour axis")
    _ints(f"{p}guide_widths", c.guide_widths, 1, most=limits.MAX_MODEL_BLOCKS)
    if not isinstance(c.guide_fill, bool):
        raise Refused(f"{p}guide_fill", c.guide_fill, "must be true or false")
    if c.guided:
        _int(f"{p}output_scale", c.output_scale, 1)
    else:
        _int(f"{p}output_scale", c.output_scale, 1, 1, why="must be 1 without a guided decoder (guide_widths)")


def _check_dit(d: DiTConfig, c: StudentConfig) -> None:
    _ints("dit.patch_size", d.patch_size, 1, count=3)
    _int("dit.num_layers", d.num_layers, 1, limits.MAX_MODEL_LAYERS, why=f"at most {limits.MAX_MODEL_LAYERS} layers")
    _int("dit.num_attention_heads", d.num_attention_heads, 1)
    _int("dit.attention_head_dim", d.attention_head_dim, 2)
    if d.attention_head_dim % 2:
        raise Refused("dit.attention_head_dim", d.attention_head_dim, "must be even (rotary position embedding)")
    _int("dit.in_channels", d.in_channels, 1)
    if d.in_channels != c.vae.latent_channels:
        raise Refused("dit.in_channels", d.in_channels, f"must equal vae.latent_channels ({c.vae.latent_channels})")
    if d.out_channels != d.in_channels:
        raise Refused("dit.out_channels", d.out_channels, f"must equal dit.in_channels ({d.in_channels}): the DiT "
                                                           "predicts a velocity of the latents")
    _int("dit.text_dim", d.text_dim, 1)
    _int("dit.freq_dim", d.freq_dim, 2)
    if d.freq_dim % 2:
        raise Refused("dit.freq_dim", d.freq_dim, "must be even (cosines and sines of the timestep)")
    _int("dit.ffn_dim", d.ffn_dim, 1)
    if not isinstance(d.cross_attn_norm, bool):
        raise Refused("dit.cross_attn_norm", d.cross_attn_norm, "must be true or false")
    if not 0 < d.eps < 1:
        raise Refused("dit.eps", d.eps, "must be in (0, 1)")
    if d.image_channels not in (0, d.in_channels + 4):
        raise Refused("dit.image_channels", d.image_channels, f"must be 0 or in_channels + 4 ({d.in_channels + 4})")
    if d.track_channels != c.tracks.out_channels:
        raise Refused("dit.track_channels", d.track_channels,
                      f"must equal tracks.out_channels ({c.tracks.out_channels})")
    _int("dit.warp_channels", d.warp_channels, 0)
    if d.warp_channels:
        if c.warp.out_channels != d.warp_channels:
            raise Refused("warp.out_channels", c.warp.out_channels, f"must equal dit.warp_channels ({d.warp_channels})")
        if c.warp.encoder == "vae" and d.warp_channels != c.vae.latent_channels + 1:
            raise Refused("dit.warp_channels", d.warp_channels, "a warp read through the VAE has latent_channels + 1 "
                                                                 f"= {c.vae.latent_channels + 1} channels")
        if c.warp.encoder == "learned" and len(c.warp.widths) != VAE_STAGES:
            raise Refused("warp.widths", c.warp.widths, f"must have {VAE_STAGES} values (halving to the VAE's "
                                                        f"{VAE_STRIDE}x grid)")


def _check_tracks(t: TrackConfig, c: StudentConfig) -> None:
    _int("tracks.code_dim", t.code_dim, 2)
    if t.code_dim % 2:
        raise Refused("tracks.code_dim", t.code_dim, "must be even (sines and cosines of the track's ID)")
    if t.appearance_dim not in (0, c.vae.latent_channels):
        raise Refused("tracks.appearance_dim", t.appearance_dim,
                      f"must be 0 or vae.latent_channels ({c.vae.latent_channels})")
    _int("tracks.hidden", t.hidden, 1)
    _int("tracks.out_channels", t.out_channels, 1)
    _exactly("tracks.spatial_stride", t.spatial_stride, VAE_STRIDE, "the latent grid")
    _exactly("tracks.temporal_stride", t.temporal_stride, TIME_STRIDE, "the VAE's time stride")
    if not isinstance(t.occlusion, bool):
        raise Refused("tracks.occlusion", t.occlusion, "must be true or false")


def _check_text(t: TextConfig) -> None:
    _int("text.dim", t.dim, 1)
    _int("text.heads", t.heads, 1)
    if t.dim % t.heads:
        raise Refused("text.heads", t.heads, f"must divide text.dim ({t.dim})")
    _int("text.layers", t.layers, 0, limits.MAX_MODEL_LAYERS, why=f"at most {limits.MAX_MODEL_LAYERS} layers")
    _int("text.max_tokens", t.max_tokens, 1)
    _int("text.hash_buckets", t.hash_buckets, 1)
    if not all(isinstance(w, str) for w in t.vocab):
        raise Refused("text.vocab", t.vocab, "must be a list of words")


def _check_warp(w: WarpConfig) -> None:
    if w.encoder not in ("learned", "vae"):
        raise Refused("warp.encoder", w.encoder, "must be 'learned' or 'vae'")
    _ints("warp.widths", w.widths, 1, most=limits.MAX_MODEL_BLOCKS)
    _int("warp.out_channels", w.out_channels, 0)
    _exactly("warp.temporal_stride", w.temporal_stride, TIME_STRIDE, "the VAE's time stride")


def _check_layout(c: StudentConfig, window: int | None) -> None:
    """Resolution, cache layout and sampler levels."""
    pt, ph, pw = c.dit.patch_size
    for key, side, patch in (("height", c.height, ph), ("width", c.width, pw)):
        step = VAE_STRIDE * patch
        _int(key, side, step, limits.MAX_MODEL_SIDE, why=f"must be in [{step}, {limits.MAX_MODEL_SIDE}] pixels")
        if side % step:
            raise Refused(key, side, f"must be a multiple of {step} (the VAE's {VAE_STRIDE}x times the patch {patch})")
    s = c.vae.output_scale
    if max(c.height, c.width) * s > limits.MAX_PICTURE_SIDE or c.height * c.width * s * s > limits.MAX_PICTURE_PIXELS:
        raise Refused("vae.output_scale", s,
                      f"frames of {c.width * s}x{c.height * s} are over the limit for a picture "
                      f"({limits.MAX_PICTURE_PIXELS / 1e6:g} MP, {limits.MAX_PICTURE_SIDE} a side)")
    if c.aspect not in ("fixed", "picture"):
        raise Refused("aspect", c.aspect, "must be 'fixed' or 'picture'")
    if c.aspect == "picture" and (ph > 2 or pw > 2):
        raise Refused("dit.patch_size", c.dit.patch_size, "aspect 'picture' sizes frames in multiples of 16: "
                                                           "patches of at most 2x2")
    _int("chunk", c.chunk, 1, limits.MAX_CHUNK_LATENTS, why=f"at most {limits.MAX_CHUNK_LATENTS} latent frames a chunk")
    if c.chunk % pt:
        raise Refused("chunk", c.chunk, f"must be a multiple of the DiT's temporal patch ({pt})")
    _int("sink", c.sink, 0, limits.MAX_SINK_CHUNKS, why=f"at most {limits.MAX_SINK_CHUNKS} chunks")
    if window is not None:
        _int("window", window, 0, limits.MAX_WINDOW_CHUNKS, why=f"at most {limits.MAX_WINDOW_CHUNKS} chunks")
    steps = c.steps
    if not isinstance(steps, (list, tuple)) or not steps:
        raise Refused("steps", steps, "needs at least one noise level (e.g. [1.0, 0.667, 0.333])")
    if len(steps) > limits.MAX_SAMPLER_STEPS:
        raise Refused("steps", steps, f"at most {limits.MAX_SAMPLER_STEPS} sampler steps")
    for v in steps:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < v <= 1:
            raise Refused("steps", steps, "each noise level must be a number in (0, 1]")
    if any(b >= a for a, b in zip(steps, steps[1:])):
        raise Refused("steps", steps, "noise levels must be strictly decreasing")
    if isinstance(c.shift, bool) or not 0 < c.shift <= 1000:
        raise Refused("shift", c.shift, "must be in (0, 1000]")
    # RoPE tables: frame positions up to the cache's last slot, the token grid's rows and columns
    slots = c.sink + (GROW_CAPACITY if window is None else window) + 1
    need = max(slots * c.chunk // pt, c.height // (VAE_STRIDE * ph), c.width // (VAE_STRIDE * pw))
    _int("dit.rope_max_seq_len", c.dit.rope_max_seq_len, need, limits.MAX_ROPE_POSITIONS,
         why=f"must be in [{need}, {limits.MAX_ROPE_POSITIONS}]: at least the positions this cache layout and "
             "resolution use")


def check_structure(c: StudentConfig, window: int | None = "config") -> None:
    """Every count and invariant of a student config (Refused otherwise). `window`: the cache window
    in use when it differs from the config's (None: the growing comparison mode)."""
    window = c.window if window == "config" else window
    check_vae_config(c.vae)
    _check_text(c.text)
    _check_warp(c.warp)
    _check_tracks(c.tracks, c)
    _check_dit(c.dit, c)
    _check_layout(c, window)


# ----- 2. what it costs --------------------------------------------------------------------------
def _conv(n_in: int, n_out: int, k: int = 9, bias: bool = True) -> int:
    return k * n_in * n_out + (n_out if bias else 0)


def _linear(n_in: int, n_out: int) -> int:
    return n_in * n_out + n_out


def dit_parameters(d: DiTConfig) -> int:
    D, F, P = d.dim, d.ffn_dim, math.prod(d.patch_size)
    embed = _conv(d.patch_in_channels, D, k=P)
    condition = _linear(d.freq_dim, D) + _linear(D, D) + _linear(D, 6 * D) + _linear(d.text_dim, D) + _linear(D, D)
    attention = 4 * _linear(D, D) + 2 * D  # q, k, v, out; RMSNorm of q and k
    block = 2 * attention + (2 * D if d.cross_attn_norm else 0) + _linear(D, F) + _linear(F, D) + 6 * D
    return embed + condition + d.num_layers * block + _linear(D, d.out_channels * P) + 2 * D


def vae_parameters(c: VAEConfig) -> int:
    n, lc, w = c.encoder_width, c.latent_channels, c.decoder_widths
    mem = lambda ch: _conv(2 * ch, ch) + 2 * _conv(ch, ch)  # noqa: E731  (MemBlock, no skip at equal widths)
    total = _conv(3, n) + _conv(n, lc)
    for down in c.encoder_time_downscale:
        total += n * n * (2 if down else 1) + _conv(n, n, bias=False) + c.encoder_blocks * mem(n)
    total += _conv(lc, w[0]) + _conv(w[-1], 3)
    for i, up in enumerate(c.decoder_time_upscale):
        total += c.decoder_blocks * mem(w[i]) + w[i] * w[i] * (2 if up else 1) + _conv(w[i], w[i + 1], bias=False)
    if c.guided:
        width = 16 if c.guide_fill else 10
        for out in c.guide_widths:
            total += _conv(width, out)
            width = out
        total += _conv(width, 5 if c.guide_fill else 4)
    return total


def track_parameters(t: TrackConfig) -> int:
    per_frame = t.code_dim + (t.appearance_dim + 1 if t.appearance_dim else 0) + int(t.occlusion)
    return _conv(per_frame * t.temporal_stride, t.hidden, k=1) + _conv(t.hidden, t.out_channels, k=1)


def text_parameters(t: TextConfig) -> int:
    d = t.dim
    layer = _linear(d, 3 * d) + _linear(d, d) + _linear(d, 4 * d) + _linear(4 * d, d) + 4 * d
    return (2 + len(set(t.vocab)) + t.hash_buckets) * d + t.max_tokens * d + t.layers * layer + 2 * d


def warp_parameters(w: WarpConfig) -> int:
    if w.encoder == "vae":  # the model's own VAE encoder: nothing of its own
        return 0
    total, width = 0, 4
    for out in w.widths:
        total += _conv(width, out)
        width = out
    return total + _conv(width * w.temporal_stride, w.out_channels, k=1)


def estimate_parameters(c: StudentConfig) -> dict[str, int]:
    """Parameters per module of `TrackVideoModules(c)`, from the dims alone."""
    return {"dit": dit_parameters(c.dit), "tracks": track_parameters(c.tracks), "vae": vae_parameters(c.vae),
            "text": text_parameters(c.text) if c.text.dim == c.dit.text_dim else 0,
            "warp": warp_parameters(c.warp) if c.dit.warp_channels else 0}


@dataclass(frozen=True)
class Estimate:
    """Memory a config asks for, in bytes at `bytes_per_value` (float32 by default)."""
    parameters: int
    parameter_bytes: int
    kv_cache_bytes: int
    activation_bytes: int

    @property
    def load_bytes(self) -> int:
        """Loading holds the file's tensors and the built model at once."""
        return 2 * self.parameter_bytes

    @property
    def run_bytes(self) -> int:
        """Streaming holds the model, the KV cache and one chunk's activations."""
        return self.parameter_bytes + self.kv_cache_bytes + self.activation_bytes

    @property
    def total_bytes(self) -> int:
        return max(self.load_bytes, self.run_bytes)


def estimate(c: StudentConfig, window: int | None = "config", bytes_per_value: int = BYTES) -> Estimate:
    """Parameters, KV cache and one chunk's peak activations of streaming `c` (see `check_structure`
    for `window`). Activations are an upper-side sum of the DiT pass's widest tensors, the text keys
    and values, the chunk's conditions and the VAE decode's widest stage (flash / memory-efficient
    attention: no token x token scores)."""
    window = c.window if window == "config" else window
    d, v = c.dit, c.vae
    pt, ph, pw = d.patch_size
    h, w = c.height // VAE_STRIDE, c.width // VAE_STRIDE
    D = d.dim
    tokens = (c.chunk // pt) * (h // ph) * (w // pw)
    b = bytes_per_value
    params = sum(estimate_parameters(c).values())
    win = GROW_CAPACITY if window is None else window
    slots = 2 * (c.sink + win + 1) + (win + 1 if window is not None else 0)  # K and V of every slot; raw window keys
    kv = slots * tokens * d.num_layers * D * b
    text_tokens = c.text.max_tokens if c.text.dim == d.text_dim else 512  # umT5's 512 otherwise
    text_kv = d.num_layers * 2 * text_tokens * D  # held for the whole stream
    rope = d.rope_max_seq_len * d.attention_head_dim * 8  # float64 tables while they are built
    # a chunk's inputs, held through it: track features per video frame, the warp at the output size
    s, out_frames = v.output_scale, TIME_STRIDE * c.chunk
    t = c.tracks
    inputs = out_frames * h * w * (t.code_dim + t.appearance_dim + 2) + d.patch_in_channels * c.chunk * h * w
    if d.warp_channels or v.guided:
        inputs += out_frames * c.height * c.width * s * s * 4
    # then one at a time: a DiT pass (a block's widest tensors), the decode, an encode of video frames
    dit_pass = tokens * (12 * D + 2 * d.ffn_dim)
    frames, hh, ww, decode = c.chunk, h, w, 0
    widths = v.decoder_widths
    for i, up in enumerate(v.decoder_time_upscale):  # MemBlocks see ~5 maps of their width
        decode = max(decode, 5 * frames * hh * ww * widths[i])
        hh, ww, frames = 2 * hh, 2 * ww, frames * (2 if up else 1)
        decode = max(decode, 2 * frames * hh * ww * (widths[i] + widths[i + 1]))
    if v.guided:  # its convs at the decode's size, then ~24 maps at the output size
        decode += frames * hh * ww * (21 + 2 * max(v.guide_widths)) + frames * hh * ww * s * s * 24
    encoded = out_frames if (d.warp_channels and c.warp.encoder == "vae") else TIME_STRIDE  # the start frame: 4 copies
    encode = encoded * c.height * c.width * v.encoder_width * 2
    activations = (text_kv + rope + inputs + max(dit_pass, decode, encode)) * b
    return Estimate(params, params * b, kv, activations)


def memory_budget() -> int:
    """Bytes a config may ask for: this machine's memory, but never less than MODEL_MEMORY_FLOOR.

    The machine's memory because a config over it cannot load here at all: it would be killed for
    memory, which is what a forged manifest did. The floor because a supported configuration (Wan
    1.3B at 832x480, about 19.4 GB estimated at float32) must load everywhere the code runs; on a
    smaller machine it fails like any workload too big for it, but it is not an absurd config."""
    try:
        physical = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # not a POSIX system: the floor alone
        physical = 0
    return max(int(limits.MODEL_MEMORY_FLOOR), int(physical))


def _gb(n: int) -> str:
    return f"{n / 1e9:.1f} GB"


def check_student_config(c: StudentConfig, where: str, window: int | None = "config",
                         budget: int | None = None) -> Estimate:
    """`check_structure`, then `estimate` against `budget` (default `memory_budget()`); a refusal is
    one MotionWorldError "{where} {key} {value}: {why}". Returns the estimate."""
    try:
        check_structure(c, window)
    except Refused as e:
        raise MotionWorldError(f"{where} {e}") from None
    est = estimate(c, window)
    budget = memory_budget() if budget is None else budget
    if est.total_bytes > budget:
        layout = (f"{c.width}x{c.height}, chunk {c.chunk}, sink {c.sink}, "
                  f"window {c.window if window == 'config' else window}")
        raise MotionWorldError(
            f"{where}: needs about {_gb(est.total_bytes)} at float32 ({est.parameters / 1e6:,.1f} M parameters: "
            f"{_gb(est.parameter_bytes)}, KV cache {_gb(est.kv_cache_bytes)} "
            f"and activations {_gb(est.activation_bytes)} "
            f"at {layout}), over the memory budget of {_gb(budget)} (this machine's memory, at least "
            f"{_gb(int(limits.MODEL_MEMORY_FLOOR))})")
    return est


def check_layout(c: StudentConfig, where: str, *, chunk: int, sink: int, window: int | None, steps) -> None:
    """A cache layout or sampler levels asked for at run time (`StreamingStudent.configure`), with the
    same bounds and budget as a config's own."""
    changed = replace(c, chunk=chunk, sink=sink, window=c.window if window is None else window, steps=tuple(steps))
    check_student_config(changed, where, window=window)
