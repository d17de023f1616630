import pytest
import torch

from edgeflow.layers.attention import SimAM


def _simam_by_the_formula(x: torch.Tensor, lam: float = 1e-4) -> torch.Tensor:
    n = x.shape[2] * x.shape[3] - 1
    d = (x - x.mean(dim=(2, 3), keepdim=True)) ** 2
    v = d.sum(dim=(2, 3), keepdim=True) / n
    return x * torch.sigmoid(d / (4 * (v + lam)) + 0.5)


@pytest.mark.parametrize("size", [2, 7, 28])
def test_simam_is_the_papers_formula(size):
    x = 3 * torch.randn(2, 8, size, size)
    x[:, 0] = 0.5  # a constant channel: zero variance
    torch.testing.assert_close(SimAM()(x), _simam_by_the_formula(x), rtol=1e-5, atol=1e-5)
