"""The browser front-end: `motionworld serve` (server.py), its messages (protocol.py) and the page
it serves (static/: plain HTML, JavaScript and CSS, no build step)."""
