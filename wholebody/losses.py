"""Training losses: KLDiscretLoss for SimCC (RTMPose vs RTMW settings) and heatmap MSE.

Matches MMPose ``KLDiscretLoss``: per keypoint and axis
``mean_bins KL(softmax(label * label_beta) || log_softmax(pred * beta))`` times the target
weight, face (``mask``) keypoints reweighted, summed over x and y and over the batch, divided by K.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from wholebody.keypoints import get_keypoint_set


def _kl_per_keypoint(
    pred: torch.Tensor, target: torch.Tensor, beta: float, label_softmax: bool, label_beta: float
) -> torch.Tensor:
    log_pt = F.log_softmax(pred * beta, dim=-1)
    labels = F.softmax(target * label_beta, dim=-1) if label_softmax else target
    kl = torch.where(labels > 0, labels * (torch.log(labels.clamp_min(1e-30)) - log_pt), 0.0)
    return kl.mean(dim=-1)  # (B, K)


def kl_discret_loss(
    pred_x: torch.Tensor,
    pred_y: torch.Tensor,
    target_x: torch.Tensor,
    target_y: torch.Tensor,
    weights: torch.Tensor | None,
    beta: float = 10.0,
    label_softmax: bool = True,
    label_beta: float = 10.0,
    mask: np.ndarray | None = None,
    mask_weight: float = 1.0,
) -> torch.Tensor:
    """SimCC KL loss.

    Args:
        pred_x, target_x: (B, K, Wx); pred_y, target_y: (B, K, Wy).
        weights: (B, K) target weights or None (all ones).
        beta: logit temperature (RTMPose/DWPose 10, RTMW 1).
        label_softmax, label_beta: soften labels by ``softmax(label * label_beta)``.
        mask, mask_weight: keypoint indices whose loss is multiplied by ``mask_weight``
            (RTMW: face keypoints, 0.5).

    Returns:
        scalar loss (sum over batch, divided by K, as MMPose).
    """
    if pred_x.shape != target_x.shape or pred_y.shape != target_y.shape:
        raise ValueError(
            f"pred/target shapes differ: {tuple(pred_x.shape)} vs {tuple(target_x.shape)}, "
            f"{tuple(pred_y.shape)} vs {tuple(target_y.shape)}"
        )
    _, k, _ = pred_x.shape
    scale = torch.ones(pred_x.shape[:2], dtype=pred_x.dtype, device=pred_x.device)
    if weights is not None:
        if weights.shape != pred_x.shape[:2]:
            raise ValueError(
                f"weights: expected {tuple(pred_x.shape[:2])}, got {tuple(weights.shape)}"
            )
        scale = scale * weights.to(pred_x.dtype)
    if mask is not None:
        factor = torch.ones(k, dtype=pred_x.dtype, device=pred_x.device)
        factor[torch.as_tensor(np.asarray(mask), dtype=torch.long)] = mask_weight
        scale = scale * factor
    loss = pred_x.new_zeros(())
    for pred, target in ((pred_x, target_x), (pred_y, target_y)):
        loss = (
            loss + (_kl_per_keypoint(pred, target, beta, label_softmax, label_beta) * scale).sum()
        )
    return loss / k


class KLDiscretLoss(nn.Module):
    """Module form of ``kl_discret_loss`` with fixed settings."""

    def __init__(
        self,
        beta: float = 10.0,
        label_softmax: bool = True,
        label_beta: float = 10.0,
        mask: np.ndarray | None = None,
        mask_weight: float = 1.0,
    ) -> None:
        super().__init__()
        self.beta, self.label_softmax, self.label_beta = beta, label_softmax, label_beta
        self.mask = None if mask is None else np.asarray(mask)
        self.mask_weight = mask_weight

    @classmethod
    def from_config(cls, config) -> KLDiscretLoss:
        """Settings of a ``ModelConfig`` (RTMPose: beta 10; RTMW: beta 1, face x 0.5)."""
        mask = None
        if config.loss_mask_part is not None:
            mask = get_keypoint_set(config.keypoint_set).part(config.loss_mask_part)
        return cls(
            config.loss_beta, config.label_softmax, config.label_beta, mask, config.loss_mask_weight
        )

    def forward(self, pred_x, pred_y, target_x, target_y, weights=None) -> torch.Tensor:
        return kl_discret_loss(
            pred_x,
            pred_y,
            target_x,
            target_y,
            weights,
            self.beta,
            self.label_softmax,
            self.label_beta,
            self.mask,
            self.mask_weight,
        )


def keypoint_mse_loss(
    pred: torch.Tensor, target: torch.Tensor, weights: torch.Tensor | None = None
) -> torch.Tensor:
    """Heatmap MSE (MMPose ``KeypointMSELoss``): mean over (B, K, h, w) of weighted squares."""
    if pred.shape != target.shape:
        raise ValueError(f"pred {tuple(pred.shape)} and target {tuple(target.shape)} differ")
    sq = (pred - target) ** 2
    if weights is not None:
        sq = sq * weights[..., None, None].to(sq.dtype)
    return sq.mean()
