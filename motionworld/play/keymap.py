"""The window's controls, in one table: the `?` overlay and the README's key map both come from it
(a test checks the README lists every row)."""

CONTROLS = [
    ("W A S D", "walk forward / left / back / right"),
    ("Q / E", "move down / up"),
    ("arrows, I J K L", "turn left / right, look up / down"),
    ("Shift", "faster (sprint)"),
    ("M", "capture the mouse: moving it looks around (M or Esc releases)"),
    ("middle drag", "look around without capturing the mouse"),
    ("left drag", "drag a point or an object (green track; objects follow the cursor)"),
    ("right click", "pin a point in place (red)"),
    ("C", "clear pins"),
    ("gamepad", "left stick move, right stick look, triggers down / up, stick click sprint (hot-plug)"),
    ("Space", "pause / resume"),
    ("R", "restart from the first frame"),
    ("Tab", "show / hide the track overlay (hidden at first)"),
    ("H", "show / hide the HUD"),
    ("F8", "save the input log so far (replay it with `motionworld replay`)"),
    ("F9", "start / stop recording an MP4 of the generated frames"),
    ("F12", "screenshot of the window (PNG)"),
    ("?", "show / hide this list"),
    ("Esc", "release the mouse, or quit"),
]


def help_lines() -> list[str]:
    width = max(len(k) for k, _ in CONTROLS)
    return [f"{k.ljust(width)}  {what}" for k, what in CONTROLS]
