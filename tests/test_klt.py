"""The classical tracker that EPE is measured with (motionworld/metrics/klt.py), on videos whose true
motion is known: smooth random textures moved by sub-pixel shifts."""
import torch
import torch.nn.functional as F

from motionworld.metrics.klt import lucas_kanade


def _texture(seed: int, size: int = 64, channels: int = 3) -> torch.Tensor:
    """[channels, size, size] smooth random texture in [0, 1]."""
    g = torch.Generator().manual_seed(seed)
    x = F.avg_pool2d(torch.rand(1, channels, size + 4, size + 4, generator=g), 5, stride=1)[0]
    return (x - x.amin()) / (x.amax() - x.amin())


def _shifted(tex: torch.Tensor, shifts) -> torch.Tensor:
    """Frames [T, C, H, W]: `tex` moved by each (dx, dy) of `shifts` (pixels), bilinear, edges clamped."""
    C, H, W = tex.shape
    ys, xs = torch.meshgrid(torch.arange(H, dtype=torch.float32), torch.arange(W, dtype=torch.float32), indexing="ij")
    out = []
    for dx, dy in shifts:
        g = torch.stack([(xs - dx + 0.5) / W * 2 - 1, (ys - dy + 0.5) / H * 2 - 1], -1)
        out.append(F.grid_sample(tex[None], g[None], mode="bilinear", padding_mode="border", align_corners=False)[0])
    return torch.stack(out)


def _grid_points(size: int = 64, margin: int = 16, step: int = 4) -> torch.Tensor:
    r = torch.arange(margin, size - margin, step, dtype=torch.float32)
    return torch.stack(torch.meshgrid(r, r, indexing="xy"), -1).reshape(-1, 2)


SHIFTS = [(1.3 * t, -0.7 * t) for t in range(6)]


def test_tracker_recovers_a_known_sub_pixel_motion():
    video = _shifted(_texture(0), SHIFTS)
    start = _grid_points()
    found = lucas_kanade(video, start)
    truth = start[None] + torch.tensor(SHIFTS)[:, None]
    err = (found - truth).norm(dim=-1)
    assert err[0].max() == 0
    assert err.median() < 0.05 and err.max() < 0.3


def test_a_still_video_leaves_every_point_where_it_started():
    video = _shifted(_texture(1), [(0.0, 0.0)] * 4)
    start = _grid_points()
    assert torch.equal(lucas_kanade(video, start), start[None].expand(4, -1, -1))


def test_forward_backward_check_holds_points_in_a_frame_they_cannot_be_followed_into():
    """A cut to an unrelated picture: unchecked, the tracker pulls points towards whatever matches
    there; checked, the round trip fails and the points stay where the last good frame left them."""
    tex, other = _texture(2), _texture(3)
    video = torch.cat([_shifted(tex, SHIFTS[:3]), _shifted(other, [(0.0, 0.0)])])
    start = _grid_points()
    checked = lucas_kanade(video, start)
    unchecked = lucas_kanade(video, start, fb_threshold=None)
    truth2 = start + torch.tensor(SHIFTS[2])
    assert (checked[2] - truth2).norm(dim=-1).max() < 0.3  # the frames before the cut are followed either way
    held = (checked[3] - checked[2]).norm(dim=-1) < 1e-6
    moved = (unchecked[3] - unchecked[2]).norm(dim=-1) > 0.5
    assert held.float().mean() > 0.8 and moved.float().mean() > 0.8


def test_colour_lets_the_tracker_follow_an_edge_the_grey_image_does_not_show():
    """A texture that varies only along a direction of equal luminance (red against green) is flat in
    grey: the grey tracker sees no motion, the colour tracker follows it."""
    s = _texture(4, channels=1)
    luma_free = torch.tensor([0.587, -0.299, 0.0])[:, None, None]  # 0.299 R + 0.587 G + 0.114 B unchanged
    tex = 0.5 + 0.4 * (s - 0.5) * luma_free / 0.587
    video = _shifted(tex, SHIFTS)
    start = _grid_points()
    truth = start[None] + torch.tensor(SHIFTS)[:, None]
    colour = (lucas_kanade(video, start) - truth).norm(dim=-1)
    grey = (lucas_kanade(video, start, colour=False) - truth).norm(dim=-1)
    assert colour.median() < 0.15 and colour.max() < 1.0
    assert grey[-1].median() > 0.9 * torch.tensor(SHIFTS[-1]).norm()  # it did not move
