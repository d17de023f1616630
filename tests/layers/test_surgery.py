import pytest
import torch

from edgeflow.errors import EdgeflowError
from edgeflow.layers.surgery import depthwise_decompose, prune_bottlenecks
from edgeflow.layers.bottleneck import Bottleneck
from edgeflow.nets.cresnet import ResNet50


def test_depthwise_decomposition_is_exact_for_rank_one_kernels():
    block = Bottleneck(32, 16, 1).eval()
    u, v = torch.randn(16, 16), torch.randn(16, 9)  # per input channel i: W[:, i] = u_i v_iᵀ (rank 1)
    with torch.no_grad():
        block.conv2.weight.copy_(torch.einsum("io,ik->oik", u, v).reshape(16, 16, 3, 3))
    x = torch.randn(2, 32, 8, 8)
    decomposed = depthwise_decompose(block).eval()
    assert decomposed.conv2[0].groups == 16 and decomposed.conv2[1].kernel_size == (1, 1)
    torch.testing.assert_close(decomposed(x), block(x), rtol=1e-4, atol=1e-4)


def test_bn_gamma_pruning_keeps_the_largest_channels():
    block = Bottleneck(32, 8, 1).eval()
    with torch.no_grad():
        block.bn1.weight.copy_(torch.tensor([0.1, 5, 0.2, 4, 0.3, 3, 0.4, 2.0]))
    pruned = prune_bottlenecks(block, 0.5)
    assert pruned.conv1.out_channels == 4 and pruned.conv2.in_channels == 4
    torch.testing.assert_close(pruned.bn1.weight, torch.tensor([5, 4, 3, 2.0]))
    torch.testing.assert_close(pruned.conv1.weight, block.conv1.weight[[1, 3, 5, 7]])
    assert block.conv1.out_channels == 8  # the input model is left unchanged


def test_pruned_resnet_runs_and_is_smaller():
    base = ResNet50(num_classes=10, in_chans=1, img_size=28).eval()
    small = depthwise_decompose(prune_bottlenecks(base, 0.5, "l1")).eval()
    assert small(torch.zeros(1, 1, 28, 28)).shape == (1, 10)
    assert sum(p.numel() for p in small.parameters()) < 0.4 * sum(p.numel() for p in base.parameters())


def test_bad_arguments():
    with pytest.raises(EdgeflowError, match="ratio"):
        prune_bottlenecks(Bottleneck(8, 4, 1), 1.0)
    with pytest.raises(EdgeflowError, match="criterion"):
        prune_bottlenecks(Bottleneck(8, 4, 1), 0.5, "random")
    with pytest.raises(EdgeflowError, match="no bottleneck"):
        prune_bottlenecks(torch.nn.Linear(2, 2), 0.5)


def test_cresnet50_at_224_px_rgb():
    from edgeflow.zoo.registry import create_model

    model = create_model("cresnet50", num_classes=10, in_chans=3, img_size=224).eval()
    with torch.no_grad():
        assert model(torch.zeros(1, 3, 224, 224)).shape == (1, 10)
