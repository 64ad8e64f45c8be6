"""SDL scancodes (USB HID usage ids). Bound by position, so WASD sits under the same fingers on
AZERTY, Dvorak or any layout; pygame reports these as `event.scancode` (pygame.KSCAN_*)."""
A, D, E, I, J, K, L, Q, S, W = 4, 7, 8, 12, 13, 14, 15, 20, 22, 26
RIGHT, LEFT, DOWN, UP = 79, 80, 81, 82
LSHIFT, RSHIFT = 225, 229
