"""The shipped weights. Installed as package data (motionworld.shipped.weights; see setup.py), so an
installed motionworld finds them without the repository."""
