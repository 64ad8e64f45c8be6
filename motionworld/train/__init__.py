"""Training: synthetic worlds, datasets, and (later) the VAE / teacher / causal-init / DMD trainers."""
