"""The shipped scenes. Installed as package data (motionworld.shipped.scenes; see setup.py), so an
installed motionworld finds them without the repository."""
