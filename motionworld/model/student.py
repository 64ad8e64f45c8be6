"""`StreamingStudent`: the causal few-step generator behind `motionworld play`.

start(image, prompt, seed) encodes the first frame and the prompt and resets the cache; each
step(tracks, visibility) produces one chunk: C latent frames denoised in a few 1-NFE steps against
[sink | window] in the KV cache, a clean pass (t = 0) that writes the chunk's K/V, a roll of the
window, and a streaming VAE decode -> uint8 frames [4C, H, W, 3] (4C - 3 for the first chunk,
whose first frame is the start image itself)."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

from ..errors import MotionWorldError, TrackError
from ..frames import chunk_frames
from ..images import size_for_budget
from .attention import BlockCausal
from .budget import check_layout, check_student_config
from .bundles import BUNDLE_FILES, STUDENT_KIND, load_modules
from .conditioning import condition_channels, warp_at_model_size
from .config import StudentConfig, preset
from .modules import TrackVideoModules
from .rollout import generate_chunk
from .sampler import shifted_levels
from .tiny_vae import to_uint8_frames
from .track_encoder import ID_RANGE, occluded_tracks, sample_appearance, sinusoidal_codes
from .weights import save_bundle


class StreamingStudent:
    def __init__(self, config: StudentConfig | str = "cpu", modules: TrackVideoModules | None = None, device="cpu",
                 dtype=torch.float32, text_encoder=None, seed: int = 0):
        self.config = preset(config) if isinstance(config, str) else config
        # counts and memory before anything is built (a config may come from a user: bench --size)
        check_student_config(self.config, f"model preset {config!r}" if isinstance(config, str) else "model config")
        if modules is None:
            torch.manual_seed(seed)
            modules = TrackVideoModules(self.config)
        self.device, self.dtype = torch.device(device), dtype
        self.modules = modules.to(self.device, dtype).eval()
        self.text_encoder = text_encoder or self.modules.text
        if self.text_encoder is None:
            raise MotionWorldError(f"the DiT expects text of dim {self.config.dit.text_dim}; pass a text_encoder "
                                   "(e.g. UMT5TextEncoder) since the built-in one is sized differently")
        if self.config.aspect not in ("fixed", "picture"):
            raise MotionWorldError(f"aspect must be 'fixed' or 'picture', got {self.config.aspect!r}")
        self._size = (self.config.height, self.config.width)
        self.layout = BlockCausal(self.config.chunk, self.config.sink, self.config.window)
        self.sigmas = shifted_levels(self.config.steps, self.config.shift)
        self.last_timing: dict[str, float] = {}
        self._started = False
        self.cache = None

    # ----- configuration
    @property
    def height(self) -> int:
        """The frames' height: the config's, or (aspect "picture") that of the last start's image."""
        return self._size[0]

    @property
    def width(self) -> int:
        return self._size[1]

    def size_for(self, width: int, height: int) -> tuple[int, int]:
        """(w, h) the student paints a width x height picture at: its config's size, or with aspect
        "picture" the picture's own aspect at about the config's pixel count."""
        if self.config.aspect == "fixed":
            return self.config.width, self.config.height
        return size_for_budget(width, height, self.config.width * self.config.height)

    @property
    def chunk_index(self) -> int:
        return self.cache.chunk_index if self.cache is not None else 0

    def frames_for_next_chunk(self) -> int:
        return chunk_frames(self.chunk_index, self.layout.chunk)

    def configure(self, *, chunk: int | None = None, sink: int | None = None, window: int | None | str = "keep",
                  steps: tuple | None = None) -> None:
        """Change the cache layout (window=None grows without bound) or the sampler levels; takes
        effect at the next start()."""
        layout = dict(chunk=self.layout.chunk if chunk is None else chunk,
                      sink=self.layout.sink if sink is None else sink,
                      window=self.layout.window if window == "keep" else window)
        check_layout(self.config, "cache layout", **layout, steps=self.config.steps if steps is None else steps)
        self.layout = BlockCausal(**layout)
        if steps is not None:
            self.sigmas = shifted_levels(steps, self.config.shift)
        self._started = False

    # ----- streaming
    @torch.no_grad()
    def start(self, image: np.ndarray, prompt: str = "", seed: int = 0) -> None:
        image = np.asarray(image)
        if (self.config.aspect == "picture" and image.ndim == 3
                and image.shape[0] % 16 == 0 and image.shape[1] % 16 == 0):
            self._size = image.shape[:2]  # any size the latents tile (8x VAE, 2x patches); see size_for
        if image.shape != (self.height, self.width, 3) or image.dtype != np.uint8:
            what = ("sides multiples of 16, e.g. size_for(width, height)" if self.config.aspect == "picture"
                    else "the model's resolution")
            raise MotionWorldError(f"start image must be uint8 [{self.height}, {self.width}, 3] ({what}), "
                                   f"got {image.dtype} {list(image.shape)}")
        m = self.modules
        frame = torch.tensor(image).to(self.device).permute(2, 0, 1)[None, None].to(self.dtype) / 255.0
        self.first_latent = m.vae.encode(frame)[:, 0].float()            # [1, C, h, w]
        text = self.text_encoder([prompt])
        self.text_kv = m.dit.text_kv(text.to(self.device))
        self.noise_generator = torch.Generator().manual_seed(int(seed))
        self.track_ids = torch.randperm(ID_RANGE, generator=torch.Generator().manual_seed(int(seed) + 1))
        self._codes: torch.Tensor | None = None
        self._appearance: torch.Tensor | None = None
        h, w = self.height // 8, self.width // 8
        _, ph, pw = self.config.dit.patch_size
        if self.cache is None or self.cache.layout != self._token_layout() or self.cache.hw != (h // ph, w // pw):
            self.cache = m.dit.new_cache(self.layout, 1, h, w)
        self.cache.reset()
        self.decoder = m.vae.streaming_decoder()
        self.warp_memory: dict = {}  # a warp encoder's state across chunks (the VAE-encoder kind has one)
        self._started = True

    def _token_layout(self) -> BlockCausal:
        pt = self.config.dit.patch_size[0]
        return BlockCausal(self.layout.chunk // pt, self.layout.sink, self.layout.window)

    def reset(self) -> None:
        """Back to the first frame: the next step() generates the first chunk again."""
        if not self._started:
            raise MotionWorldError("reset() before start()")
        self.cache.reset()
        self.decoder.reset()
        self.warp_memory = {}

    def _codes_for(self, n: int) -> torch.Tensor:
        if n > ID_RANGE:
            raise TrackError(f"at most {ID_RANGE} tracks, got {n}")
        if self._codes is None or self._codes.shape[0] < n:
            self._codes = sinusoidal_codes(self.track_ids[:max(n, 1)], self.config.tracks.code_dim).to(self.device)
        return self._codes[:n]

    def _appearance_for(self, tracks: torch.Tensor, first: bool, looks: int | None) -> torch.Tensor | None:
        """Each track's first-frame latent, sampled at the first chunk's frame 0 for its first `looks`
        tracks (default all); tracks after those (drags, pins, anything added later) carry none."""
        if not self.config.tracks.appearance_dim:
            return None
        n = tracks.shape[1]
        if first:
            k = n if looks is None else int(looks)
            if not 0 <= k <= n:
                raise TrackError(f"looks={looks}: the first chunk has {n} tracks")
            self._appearance = sample_appearance(self.first_latent, tracks[None, 0, :k].to(self.device),
                                                 self.config.tracks.spatial_stride)
        k = self._appearance.shape[1]
        if n < k:
            raise TrackError(f"chunk {self.cache.chunk_index} brings {n} tracks, fewer than the {k} the stream "
                             f"started with (this model carries each of those tracks' first-frame look)")
        if n == k:  # the usual chunk: no copy
            return self._appearance
        extra = self._appearance.new_zeros(1, n - k, self._appearance.shape[2])
        return torch.cat([self._appearance, extra], 1)

    @property
    def sees_warp(self) -> bool:
        """Whether the model takes the warp of the picture (as DiT channels or in its guided decoder)."""
        return bool(self.config.dit.warp_channels) or self.config.vae.guided

    @property
    def output_size(self) -> tuple[int, int]:
        """(height, width) of the frames step() returns: the model's size times the guided decoder's
        output_scale (tracks stay in the model's pixels, the warp comes at this size)."""
        s = self.config.vae.output_scale
        return self.height * s, self.width * s

    def _warp_inputs(self, warp, valid, n_frames: int):
        """The chunk's warp [1, T, 3, H, W] in [0, 1] and validity [1, T, H, W] at the output size;
        none given = nothing valid."""
        H, W = self.output_size
        if warp is None:
            return (torch.zeros(1, n_frames, 3, H, W, device=self.device, dtype=self.dtype),
                    torch.zeros(1, n_frames, H, W, device=self.device, dtype=self.dtype))
        frames = torch.as_tensor(np.asarray(warp))
        mask = torch.as_tensor(np.asarray(valid, dtype=np.float32)) if valid is not None else None
        shape = (n_frames, H, W)
        if frames.shape != (*shape, 3) or frames.dtype != torch.uint8 or mask is None or mask.shape != shape:
            raise TrackError(f"chunk {self.chunk_index} needs warp uint8 [{n_frames}, {H}, {W}, 3] "
                             f"and warp_valid [{n_frames}, {H}, {W}]")
        frames = frames.permute(0, 3, 1, 2)[None].to(self.device, self.dtype) / 255.0
        return frames, mask[None].to(self.device, self.dtype)

    def _noise(self, shape) -> torch.Tensor:
        return torch.randn(shape, generator=self.noise_generator).to(self.device)

    def _sync(self) -> float:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        return time.perf_counter()

    @torch.no_grad()
    def condition(self, tracks: torch.Tensor, visibility: torch.Tensor, looks: int | None = None, occluded=None,
                  warp_in: tuple[torch.Tensor, torch.Tensor] | None = None, timing: dict | None = None,
                  started: float | None = None) -> torch.Tensor:
        """The DiT's condition channels [1, extra, C, h, w] for the next chunk (`condition_channels`,
        the function training builds them with): its tracks with their states, the picture's latent
        on the stream's first frame, and the warp (`_warp_inputs`, at the output size; None: nothing
        valid) at the model's. step() calls it; called on its own it still advances a warp encoder's
        memory as that chunk would. With `timing`, the tracks' seconds count from `started` (default: now)."""
        if timing is not None and started is None:
            started = self._sync()
        first = self.cache.chunk_index == 0
        occ = None
        if self.config.tracks.occlusion:
            occ = (occluded_tracks(tracks, visibility, self.height, self.width) if occluded is None
                   else torch.as_tensor(np.asarray(occluded, dtype=bool)))
            if occ.shape != visibility.shape:
                raise TrackError(f"occluded must be [{visibility.shape[0]}, N] like visibility; got {list(occ.shape)}")
            occ = occ[None].to(self.device)
        warp = valid = None
        if self.config.dit.warp_channels:
            warp_in = warp_in or self._warp_inputs(None, None, tracks.shape[0])
            warp, valid = warp_at_model_size(*warp_in, self.config.vae.output_scale)
        appearance = self._appearance_for(tracks, first, looks)
        return condition_channels(self.modules, self.config, (self.height, self.width), tracks[None].to(self.device),
                                  visibility[None].to(self.device), self._codes_for(tracks.shape[1])[None],
                                  self.layout.chunk, occluded=occ, appearance=appearance,
                                  first_latent=self.first_latent if first else None, warp=warp, warp_valid=valid,
                                  from_start=first, warp_memory=self.warp_memory, timing=timing, clock=self._sync,
                                  started=started)

    @torch.no_grad()
    def step(self, tracks, visibility, looks: int | None = None, occluded=None, warp=None,
             warp_valid=None) -> np.ndarray:
        """tracks [T, N, 2] pixel (x, y) in the model's resolution, visibility [T, N]; T = 4C (4C-3 for
        the first chunk). Off-screen or NaN points count as invisible. With a model whose tracks carry
        the first frame's look, the first chunk's first `looks` tracks (default: all of them) keep it
        for the whole stream and must lead every later chunk; further tracks carry none. With a model
        that tells occluded tracks from unspecified ones (`tracks.occlusion`), `occluded` [T, N] says
        which invisible tracks are hidden behind a surface; by default every finite, on-screen,
        invisible track is (give NaN for a point to say nothing about it). With a model that sees the
        warp of the picture (`dit.warp_channels` or a guided decoder), `warp` uint8 [T, H, W, 3] and
        `warp_valid` [T, H, W] at the output size (`output_size`) are the chunk's warp frames and
        validity (`MeshWarpRenderer.step(..., validity=True)`); without them the model is told nothing
        is known (validity 0). Returns uint8 [T, H, W, 3] at the output size."""
        if not self._started:
            raise MotionWorldError("step() before start()")
        first = self.cache.chunk_index == 0
        n_frames = self.frames_for_next_chunk()
        tr = torch.as_tensor(np.asarray(tracks, dtype=np.float32))
        vis = torch.as_tensor(np.asarray(visibility, dtype=bool))
        if tr.ndim != 3 or tr.shape[0] != n_frames or tr.shape[2] != 2 or vis.shape != tr.shape[:2]:
            raise TrackError(f"chunk {self.cache.chunk_index} needs tracks [{n_frames}, N, 2] and visibility "
                             f"[{n_frames}, N]; got {list(tr.shape)} and {list(vis.shape)}")
        m, c = self.modules, self.layout.chunk
        h, w = self.height // 8, self.width // 8
        timing = {}
        t0 = self._sync()
        warp_in = self._warp_inputs(warp, warp_valid, n_frames) if self.sees_warp else None
        t1 = self._sync()
        condition = self.condition(tr, vis, looks=looks, occluded=occluded, warp_in=warp_in, timing=timing, started=t1)
        if "warp" in timing:  # the warp's features: its frames to the device, then the encoder
            timing["warp"] += t1 - t0

        shape = (1, self.config.dit.in_channels, c, h, w)
        x0 = generate_chunk(m.dit, self.cache, self.text_kv, condition, shape, self.sigmas, lambda: self._noise(shape),
                            first_latent=self.first_latent if first else None, timing=timing, clock=self._sync)
        t3 = self._sync()
        frames = self.decoder(x0.transpose(1, 2), *(warp_in or ()))[0]
        out = to_uint8_frames(frames).numpy()
        timing["decode"] = self._sync() - t3
        timing["total"] = sum(timing.values())
        self.last_timing = timing
        return out

    # ----- persistence
    def save(self, folder: str | Path, extra: dict | None = None) -> Path:
        tensors = {k: v.float() if v.is_floating_point() else v for k, v in self.modules.state_dict().items()}
        return save_bundle(folder, tensors, self.config.to_dict(), kind=STUDENT_KIND,
                           filename=BUNDLE_FILES[STUDENT_KIND], extra=extra)

    @classmethod
    def load(cls, folder: str | Path, device="cpu", dtype=torch.float32, text_encoder=None) -> StreamingStudent:
        modules, config = load_modules(folder, STUDENT_KIND)
        return cls(config, modules, device=device, dtype=dtype, text_encoder=text_encoder)
