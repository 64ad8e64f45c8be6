"""Training and evaluation data: synthetic worlds with exact ground truth (`synth`), shards written
to disk and the datasets that read them, the moving-squares toy data, and the `motionworld data`
commands. Used by `train/` and `eval/` alike."""
