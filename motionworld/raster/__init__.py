"""The GL/raster core: a headless GL context and offscreen targets, the mesh-warp renderer (the
picture on its depth mesh), and track points drawn onto frames. No window: the play side and the
synthetic-world generator both build on it."""
