"""Training: the four stages (VAE, teacher, causal init, DMD distillation) behind `motionworld train`,
their trainer loop and runtime (single process, DDP or FSDP over torch.distributed), checkpoints,
logs, and `ship` (a run's export -> the shipped weights folder). Data comes from `motionworld.data`."""
