"""Training: the six stages behind `motionworld train` (vae, teacher, causal-init, distill, guide and
depth; the list is `plugins.STAGES`), their trainer loop and runtime (single process, DDP or FSDP over
torch.distributed), checkpoints, logs, and `ship` (a run's export -> the shipped weights folder).
Data comes from `motionworld.data`."""
