import numpy as np
import pytest
import torch

from edgeflow.layers import KroneckerLinear


@pytest.mark.parametrize("q,n,p,m,rank", [(8, 9, 10, 1, 1), (4, 6, 3, 2, 2), (16, 49, 10, 1, 3)])
def test_forward_equals_dense_kron_matmul(q, n, p, m, rank):
    torch.manual_seed(0)
    layer = KroneckerLinear(q=q, n=n, p=p, m=m, rank=rank)
    with torch.no_grad():
        layer.bias.normal_()
    x = torch.randn(5, q, n, 1)  # an NCHW map with H·W = n
    dense = x.flatten(1) @ layer.weight().t() + layer.bias
    torch.testing.assert_close(layer(x), dense, rtol=1e-5, atol=1e-5)


def test_weight_is_the_kronecker_product():
    layer = KroneckerLinear(q=3, n=4, p=2, m=2)
    w = layer.weight()
    assert w.shape == (4, 12)
    a, b = layer.A[0], layer.B[0]
    # block (i, j) of A ⊗ B is a_ij * B (B is stored scaled by n = 4)
    torch.testing.assert_close(w[2:4, 4:8], a[1, 1] * b / 4)


def test_has_fewer_parameters_than_dense():
    layer = KroneckerLinear(q=256, n=49, p=10)
    assert sum(p.numel() for p in layer.parameters()) == 10 * 256 + 49 + 10
    assert layer.weight().numel() == 10 * 256 * 49


def test_exports_to_onnx_and_matches(tmp_path):
    import onnxruntime as ort

    layer = KroneckerLinear(q=8, n=16, p=10, rank=2).eval()
    x = torch.randn(1, 8, 4, 4)
    torch.onnx.export(layer, (x,), str(tmp_path / "k.onnx"), opset_version=17, dynamo=False)
    sess = ort.InferenceSession(str(tmp_path / "k.onnx"), providers=["CPUExecutionProvider"])
    (y,) = sess.run(None, {sess.get_inputs()[0].name: x.numpy()})
    np.testing.assert_allclose(y, layer(x).detach().numpy(), rtol=1e-5, atol=1e-6)
