import pytest
import torch

from edgeflow.errors import EdgeflowError
from edgeflow.nets._registry import register_model
from edgeflow.zoo.registry import create_model, list_models


def test_seed_nets_registered():
    assert {"sep_res18_s3", "cov_res18_s3", "vgg10"} <= set(list_models())
    assert list_models("sep*") == ["sep_res18_s3"]


def test_duplicate_name_raises():
    with pytest.raises(ValueError, match="already registered"):
        @register_model
        def sep_res18_s3():  # noqa: F811
            return torch.nn.Identity()


def test_unknown_name_suggests_close_ones():
    with pytest.raises(EdgeflowError, match="Did you mean: sep_res18_s3"):
        create_model("sep_res18_s4")


@pytest.mark.parametrize("name", list_models())
@pytest.mark.parametrize("shape", [(1, 28), (3, 32)])
def test_forward_shape_and_finite(name, shape):
    chans, size = shape
    model = create_model(name, num_classes=7, in_chans=chans, img_size=size).eval()
    with torch.no_grad():
        y = model(torch.randn(2, chans, size, size))
    assert y.shape == (2, 7)
    assert torch.isfinite(y).all()
