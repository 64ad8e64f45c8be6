"""Training configurations: YAML files under configs/ (e.g. configs/micro/teacher.yaml), read with
yaml.safe_load and validated with unknown keys rejected; errors name the file, key path and line."""
from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, create_model, field_validator, model_validator

from .. import plugins
from ..errors import MotionWorldError
from ..inputs import note_input
from ..limits import check_file_size
from ..strict_yaml import StrictModel, YAMLReadError, field_names, read_yaml, validation_problems


def section_of(stage: str) -> str:
    """The key of a stage's own settings in a training config: its name with '_' for '-'."""
    return stage.replace("-", "_")


class WarpDepthMix(StrictModel):
    """How often each depth a training warp is built from is drawn (`motionworld.data.warps`)."""
    true: float = Field(0.4, ge=0)
    disparity: float = Field(0.3, ge=0)
    prior: float = Field(0.15, ge=0)
    network: float = Field(0.0, ge=0)  # our depth network's (data.warp_depth_network, default the shipped one)
    object_left_out: float = Field(0.15, ge=0)

    @model_validator(mode="after")
    def _some(self):
        if sum(self.model_dump().values()) <= 0:
            raise ValueError("at least one kind of warp depth needs a positive weight")
        return self


class DataConfig(StrictModel):
    source: Literal["squares", "synth", "shards"] = "squares"
    path: str | None = None          # shards folder (source: shards)
    heldout_path: str | None = None  # shards folder for evaluation (default: generated held-out seeds)
    size: int = 64                   # clip width (and height, unless `height` is given)
    height: int | None = Field(None, ge=16)  # clip height for other aspects (synth clips), e.g. size 128, height 96
    frames: int = 9                  # video frames per clip: 1 + 4k (k latent frames after the first)
    count: int = 10_000              # clips drawn from (seeds 0..count-1 of the training split)
    heldout: int = 4                 # held-out clips used by the eval hook
    warp: bool = False               # batches carry the clip's warp and validity (synth or shards clips)
    warp_depth: WarpDepthMix = Field(default_factory=WarpDepthMix)
    warp_depth_network: str | None = None  # folder of the `network` warp depth's network (default: weights/)
    # Pixels per warp mesh vertex (MeshWarpRenderer.mesh_step): inference puts one vertex per model
    # pixel, so clips at a guided decoder's output size (its VAE stage) use its output_scale, 1 elsewhere.
    warp_mesh_step: int = Field(1, ge=1, le=8)
    # Processes that make the clips and warps ahead of the trainer (spawned DataLoader workers; the
    # batches are the same as without). 0: the training process makes them between steps, which
    # keeps a GPU waiting; on a GPU host give it most of the cores (and /dev/shm room for a few batches).
    workers: int = Field(0, ge=0, le=64)

    @property
    def frame_size(self) -> tuple[int, int]:
        """(width, height) of the clips."""
        return self.size, self.size if self.height is None else self.height


class OptimConfig(StrictModel):
    steps: int = Field(100, ge=1, le=100_000_000)
    batch_size: int = Field(2, ge=1, le=4096)
    lr: float = Field(1e-4, ge=0, le=10)  # 0: a run that only measures (its weights stay as they were)
    betas: tuple[float, float] = (0.9, 0.999)
    weight_decay: float = 0.0
    grad_clip: float = Field(1.0, gt=0)
    warmup: int = Field(0, ge=0, le=100_000_000)
    # After warm-up the lr stays (constant) or falls along a cosine or a line to min_lr_ratio x lr at
    # the last step: a run that has levelled off at its lr goes lower with a decay (the CPU teacher).
    decay: Literal["constant", "cosine", "linear"] = "constant"
    min_lr_ratio: float = Field(default=0.1, ge=0, le=1)
    ema: float = Field(0.0, ge=0, lt=1)  # EMA decay of the trained weights (0 = off)
    parallel: Literal["ddp", "fsdp"] = "ddp"   # across ranks: replicate (DDP) or shard (FSDP) the trained modules


class VAESettings(StrictModel):
    l2_weight: float = 1.0
    l1_weight: float = 1.0
    # A fresh VAE measures the training clips' colour statistics and works (and is scored) in
    # whitened opponent colours (VAEConfig.colour_mean/std); see there for why.
    whiten_colours: bool = False
    # Scales the whitened luminance axis's error (L1 by w, L2 by w²). Whitening divides luminance by
    # its std (~3.5x the colour axes'), so per unit of RGB error it counts ~12x less in L2 than
    # red-green; the tracker and the eye follow luminance edges. Needs whitened colours.
    luminance_weight: float = Field(default=1.0, gt=0)
    # Fine-tune only the decoder of init.vae: the encoder, and so the latent space the later stages
    # learnt, stays as it was; `train ship --vae` then puts the new decoder into the shipped models.
    decoder_only: bool = False
    # Train only the guided decoder (VAEConfig.guide_widths) on the frozen encoder and decoder of
    # init.vae (one without a guide gets a fresh one): the latents later stages learnt stay.
    guide_only: bool = False
    # A guided decoder also learns without the warp (validity 0 on this fraction of clips): what a
    # stream gives it when the geometry shows nothing, e.g. the camera turned away.
    warp_dropout: float = Field(0.0, ge=0, le=1)


class TeacherSettings(StrictModel):
    text_dropout: float = 0.1
    track_dropout: float = 0.1
    finetune_steps: int = Field(0, ge=0)  # the last N steps also zero the tracks of random middle chunks
    chunk_track_dropout: float = 0.2
    guidance_text: float = 3.0
    guidance_motion: float = 1.5
    sample_steps: int = Field(16, ge=1, le=1000)  # Euler steps of the eval sampler
    logit_normal: bool = True        # timestep density (else uniform)
    cache_latents: bool = False      # encode every clip once before step 1 (RUN/latents.safetensors)
    warp_dropout: float = 0.1        # a model that sees the warp is also trained without it (nothing valid)


class CausalInitSettings(StrictModel):
    trajectories: int = Field(64, ge=1, le=1_000_000)  # teacher ODE trajectories generated before regression
    ode_steps: int = Field(16, ge=1, le=1000)
    sinks: list[int] = Field(default_factory=lambda: [0, 1])
    windows: list[int] = Field(default_factory=lambda: [1, 2])


class DistillSettings(StrictModel):
    critic_updates: int = Field(5, ge=1, le=100)
    critic_lr: float | None = None   # default: the generator's lr
    rollout_chunks: tuple[int, int] = (2, 4)   # random rollout length in chunks (inclusive)
    timestep_min: float = 0.02
    timestep_max: float = 0.98


class GuideSettings(StrictModel):
    rollouts: int = Field(64, ge=1)  # clips the frozen student streams before the first step
    frames_per_clip: int = Field(8, ge=1)  # frames of each chosen rollout in a step's batch
    widths: list[int] | None = None  # the guide's conv widths (default: the student's guide's)
    fill: bool = True                # the guide also reads the warp filled across its holes
    warp_dropout: float = Field(0.05, ge=0, le=1)  # clips whose warp is hidden (validity 0)
    l1_weight: float = 1.0
    l2_weight: float = 1.0


class DepthSettings(StrictModel):
    """The depth network (`model.depth_net`) on single views of synthetic worlds (`data.depth_views`);
    data.size / data.height are the size of its augmented training crops, data.count the world seeds."""
    render_size: tuple[int, int] = (256, 192)   # views are rendered at this size, then cropped and resized
    widths: list[int] = Field(default_factory=lambda: [24, 40, 80, 128, 192])
    blocks: list[int] = Field(default_factory=lambda: [1, 1, 2, 2, 2])
    decoder: list[int] = Field(default_factory=lambda: [128, 80, 48, 32])
    heads: int = Field(4, ge=1)
    # disparity: scale-and-shift invariant (MiDaS); log_disparity: scale invariant only, so the
    # network also learns the depth range a picture spans (what a warp needs; docs/depth.md)
    output: Literal["disparity", "log_disparity"] = "disparity"
    gradient_weight: float = Field(0.5, ge=0)   # gradient matching of the residual, beside the SSI L1
    scales: int = Field(4, ge=1, le=6)

    @model_validator(mode="after")
    def _buildable(self):
        from ..model.depth_net import DepthNetConfig

        DepthNetConfig(widths=tuple(self.widths), blocks=tuple(self.blocks), decoder=tuple(self.decoder),
                       heads=self.heads, output=self.output).check()
        return self


class TrainConfig(StrictModel):
    """A training config; each stage's own settings are under its section (`section_of`). The
    stages are `plugins.STAGES`; `config_model()` adds the sections of stages registered beyond ours."""
    stage: str
    model: str = "tiny"              # a model preset (motionworld.model.config.preset)
    vae_model: str | None = None     # use another preset's VAE (e.g. "cpu": the slim VAE)
    size: int | None = None          # override the preset's resolution (square)
    chunk: int | None = None         # override the preset's chunk (latent frames)
    shift: float | None = None       # override the preset's timestep shift (Wan's 5 suits 480p;
                                     # less for smaller frames)
    track_appearance: bool | None = None   # tracks carry the first frame's latent (None: as the preset has it)
    track_occlusion: bool | None = None    # occluded tracks differ from unspecified ones (None: as the preset)
    warp_channels: int | None = Field(None, ge=0)  # DiT channels for the warp of the picture (data.warp feeds them)
    seed: int = 0
    out: str = "runs/train"
    init: dict[str, str] = Field(default_factory=dict)   # stage results to start from: vae, teacher, student
    data: DataConfig = Field(default_factory=DataConfig)
    optim: OptimConfig = Field(default_factory=OptimConfig)
    checkpoint_every: int = 50
    eval_every: int = 50
    log_every: int = 1
    vae: VAESettings = Field(default_factory=VAESettings)
    teacher: TeacherSettings = Field(default_factory=TeacherSettings)
    causal_init: CausalInitSettings = Field(default_factory=CausalInitSettings)
    distill: DistillSettings = Field(default_factory=DistillSettings)
    guide: GuideSettings = Field(default_factory=GuideSettings)
    depth: DepthSettings = Field(default_factory=DepthSettings)

    @field_validator("stage")
    @classmethod
    def _registered(cls, value: str) -> str:
        known = plugins.names(plugins.STAGES)
        if value not in known:
            raise ValueError(f"unknown stage {value!r} (one of {', '.join(known)})")
        return value

    @property
    def settings(self):
        """The settings of this config's stage (its section)."""
        return getattr(self, section_of(self.stage))


def config_model() -> type[TrainConfig]:
    """TrainConfig with a section for every registered stage: ours are its fields; a stage registered
    beyond them brings its `Settings` (imported only then; one that does not load brings none, and
    is refused by name only where a config asks for it)."""
    added = {}
    for name in plugins.names(plugins.STAGES):
        section = section_of(name)
        stage = plugins.try_load(plugins.STAGES, name)[0] if section not in TrainConfig.model_fields else None
        settings = getattr(stage, "Settings", None)
        if isinstance(settings, type) and issubclass(settings, StrictModel):
            added[section] = (settings, Field(default_factory=settings))
    return create_model("TrainConfig", __base__=TrainConfig, **added) if added else TrainConfig


def load_config(path: str | Path, overrides: dict | None = None, labels: dict | None = None) -> TrainConfig:
    """A training config file with `overrides` (dotted key -> value) set over it. A problem with an
    overridden value is told as the option that gave it (`labels[key]`, default `--set KEY`), not
    as a line of the file."""
    path = note_input(path, "training config")
    if not path.is_file():
        raise MotionWorldError(f"training config not found: {path}")
    try:
        check_file_size(path)
        data, root = read_yaml(path.read_text(encoding="utf-8"))
    except YAMLReadError as e:
        where = f"{path}:{e.line}" if e.line else str(path)
        raise MotionWorldError(f"{where}: {e}") from None
    except (OSError, ValueError) as e:  # unreadable, not UTF-8, or too large
        raise MotionWorldError(f"{path}: cannot read training config ({e})") from None
    data = {} if data is None else data
    if not isinstance(data, dict):
        raise MotionWorldError(f"{path}: a training config is a mapping of keys")
    for key, value in (overrides or {}).items():
        node = data
        *parents, last = key.split(".")
        for i, p in enumerate(parents):
            node = node.setdefault(p, {})
            if not isinstance(node, dict):
                raise MotionWorldError(f"--set {key}: {'.'.join(parents[:i + 1])} is a value, not a section of keys")
        node[last] = value
    model = config_model()
    try:
        return model(**data)
    except ValidationError as e:
        first = validation_problems(e, str(path), root, known=field_names(model))[0]
        for key in overrides or {}:
            if first.key_path == key or first.key_path.startswith(key + "."):
                label = (labels or {}).get(key, f"--set {key}")
                raise MotionWorldError(f"{label}: {first.message}") from None
        raise MotionWorldError(str(first)) from None
