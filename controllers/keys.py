"""SDL scancodes (USB HID usage ids). Bound by position, so WASD sits under the same fingers on
AZERTY, Dvorak or any layout; pygame reports these as `event.scancode` (pygame.KSCAN_*)."""
A, D, E, I, J, K, L, Q, S, W = 4, 7, 8, 12, 13, 14, 15, 20, 22, 26
RIGHT, LEFT, DOWN, UP = 79, 80, 81, 82
LSHIFT, RSHIFT = 225, 229

# The same keys as a browser names them (KeyboardEvent.code, also by position): the web page sends
# these scancodes, so the window's controllers read the page's input unchanged.
BROWSER_CODES = {
    "KeyA": A, "KeyD": D, "KeyE": E, "KeyI": I, "KeyJ": J, "KeyK": K, "KeyL": L, "KeyQ": Q, "KeyS": S, "KeyW": W,
    "ArrowRight": RIGHT, "ArrowLeft": LEFT, "ArrowDown": DOWN, "ArrowUp": UP, "ShiftLeft": LSHIFT, "ShiftRight": RSHIFT,
}
