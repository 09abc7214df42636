"""The training loss: L1 and DSSIM inside the face mask, plus a term for the mask itself."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def masked_l1(predicted: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean absolute error over the pixels inside `mask` (N, 1, H, W) in [0, 1]."""
    weight = mask.expand_as(target)
    return (weight * (predicted - target).abs()).sum() / weight.sum().clamp_min(1.0)


def _gaussian(size: int, sigma: float, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    x = torch.arange(size, device=device, dtype=dtype) - (size - 1) / 2
    g = torch.exp(-(x**2) / (2 * sigma**2))
    g = g / g.sum()
    return (g[:, None] * g[None, :]).expand(3, 1, size, size).contiguous()


def dssim(predicted: torch.Tensor, target: torch.Tensor, window: int = 7, sigma: float = 1.5) -> torch.Tensor:
    """Structural dissimilarity (1 - SSIM) / 2, averaged; images (N, 3, H, W) in [0, 1]."""
    kernel = _gaussian(window, sigma, predicted.device, predicted.dtype)

    def blur(x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, kernel, padding=window // 2, groups=3)

    mu_p, mu_t = blur(predicted), blur(target)
    var_p = blur(predicted * predicted) - mu_p**2
    var_t = blur(target * target) - mu_t**2
    cov = blur(predicted * target) - mu_p * mu_t
    c1, c2 = 0.01**2, 0.03**2
    ssim = ((2 * mu_p * mu_t + c1) * (2 * cov + c2)) / ((mu_p**2 + mu_t**2 + c1) * (var_p + var_t + c2))
    return ((1 - ssim) / 2).mean()


def swap_loss(colour: torch.Tensor, mask_out: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """What one decoder is trained on: its face inside the mask, the rest of the crop, and the mask."""
    inside = masked_l1(colour, target, mask) + dssim(colour * mask, target * mask)
    return inside + 0.25 * (colour - target).abs().mean() + F.l1_loss(mask_out, mask)
