"""Measures shared by the training stages' eval hooks and the evaluation: frame quality (PSNR,
SSIM) and the classical KLT tracker that scores how well a video follows its tracks."""
