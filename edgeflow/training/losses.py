"""Losses: cross-entropy, teacher→student distillation, and self-distillation across exits."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def distill_kl(student: torch.Tensor, teacher: torch.Tensor, temperature: float) -> torch.Tensor:
    """Hinton's soft-target loss: T² · KL(softmax(teacher/T) ‖ softmax(student/T)); teacher not trained."""
    t = temperature
    return F.kl_div(F.log_softmax(student / t, 1), F.softmax(teacher.detach() / t, 1),
                    reduction="batchmean") * t * t


def teacher_student_loss(student: torch.Tensor, teacher: torch.Tensor, labels: torch.Tensor, *,
                         alpha: float, temperature: float, label_smoothing: float = 0.0) -> torch.Tensor:
    """(1 − α) · CE(student, labels) + α · KD(student, teacher)."""
    ce = F.cross_entropy(student, labels, label_smoothing=label_smoothing)
    return (1 - alpha) * ce + alpha * distill_kl(student, teacher, temperature)


def self_distill_loss(logits: list[torch.Tensor], features: list[torch.Tensor], labels: torch.Tensor, *,
                      alpha: float, temperature: float, hint_weight: float,
                      label_smoothing: float = 0.0) -> torch.Tensor:
    """"Be Your Own Teacher": the deepest exit learns from the labels; every shallow exit i learns from
    (1 − α) · CE + α · KD(exit i, deepest) + λ · ‖features_i − features_deepest‖² (deepest detached)."""
    deepest, deep_features = logits[-1], features[-1]
    loss = F.cross_entropy(deepest, labels, label_smoothing=label_smoothing)
    for out, feat in zip(logits[:-1], features[:-1]):
        loss = loss + teacher_student_loss(out, deepest, labels, alpha=alpha, temperature=temperature,
                                           label_smoothing=label_smoothing)
        loss = loss + hint_weight * F.mse_loss(feat, deep_features.detach())
    return loss
