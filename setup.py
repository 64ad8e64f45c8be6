"""The build's one rule pyproject.toml cannot say: the top-level scenes/ and weights/ folders are
installed as package data inside motionworld (motionworld.shipped.scenes / .weights), so the
shipped scene and weights are found through importlib.resources, not the repository root."""
from setuptools import find_packages, setup

SHIPPED = {"motionworld.shipped.scenes": "scenes", "motionworld.shipped.weights": "weights"}

setup(
    packages=find_packages(include=["motionworld*", "controllers*"]) + list(SHIPPED),
    package_dir=SHIPPED,
    package_data={
        "motionworld.shipped.scenes": ["*/scene.yaml", "*/*.png", "*/*.npy", "*/*.npz"],
        "motionworld.shipped.weights": ["student.safetensors", "depth.safetensors", "MANIFEST.json", "README.md"],
        "motionworld.play.web": ["static/*.html", "static/*.js", "static/*.css"],
    },
)
