"""Evaluation: the held-out suite (`motionworld eval`: the student against the warp, the held
picture and the teacher), the model benchmark (`motionworld bench --model`) and their reports."""
