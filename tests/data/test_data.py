import gzip
import pickle

import numpy as np
import pytest

from edgeflow.data import load_dataset, preprocess
from edgeflow.data.idx import read_idx
from edgeflow.data.sources import DEBIAN_FASHION_DIR
from edgeflow.errors import EdgeflowError


def _write_idx(path, arr, compress=False):
    header = bytes([0, 0, 0x08, arr.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    data = header + arr.astype(np.uint8).tobytes()
    (gzip.open if compress else open)(path, "wb").write(data)


@pytest.mark.parametrize("compress", [False, True])
def test_read_idx_roundtrip(tmp_path, compress):
    arr = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    path = tmp_path / ("a.idx.gz" if compress else "a.idx")
    _write_idx(path, arr, compress)
    np.testing.assert_array_equal(read_idx(path), arr)


def test_read_idx_rejects_bad_magic_and_truncation(tmp_path):
    (tmp_path / "bad").write_bytes(b"\x01\x02\x03\x04")
    with pytest.raises(EdgeflowError, match="bad magic"):
        read_idx(tmp_path / "bad")
    arr = np.zeros((4, 4), np.uint8)
    _write_idx(tmp_path / "t", arr)
    (tmp_path / "t").write_bytes((tmp_path / "t").read_bytes()[:-3])
    with pytest.raises(EdgeflowError, match="truncated"):
        read_idx(tmp_path / "t")


def test_embedded_subset_is_real_fashion_mnist():
    test = load_dataset("fashion-mnist-embedded", "test")
    train = load_dataset("fashion-mnist-embedded", "train")
    assert test.images.shape == (10000, 1, 28, 28) and train.images.shape == (2000, 1, 28, 28)
    assert np.bincount(test.labels).tolist() == [1000] * 10
    assert np.bincount(train.labels).tolist() == [200] * 10
    assert test.classes[9] == "Ankle boot"
    # equal to the Debian package's test set, byte for byte
    full = load_dataset("fashion-mnist", "test")
    np.testing.assert_array_equal(full.images, test.images)
    assert full.sha256() == test.sha256()


def test_full_fashion_mnist_from_debian_package():
    assert DEBIAN_FASHION_DIR.is_dir(), "make test installs dataset-fashion-mnist"
    train = load_dataset("fashion-mnist", "train")
    assert train.images.shape == (60000, 1, 28, 28)
    assert np.bincount(train.labels).tolist() == [6000] * 10


def test_missing_dataset_says_how_to_get_it(tmp_path):
    with pytest.raises(EdgeflowError, match="apt-get install dataset-fashion-mnist"):
        load_dataset("fashion-mnist", "test", tmp_path)
    with pytest.raises(EdgeflowError, match="needs --data-dir"):
        load_dataset("cifar10", "test")
    with pytest.raises(EdgeflowError, match="unknown dataset"):
        load_dataset("imagenet", "test")


def test_cifar10_torchvision_layout(tmp_path):
    base = tmp_path / "cifar-10-batches-py"
    base.mkdir()
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        pickle.dump({"data": rng.integers(0, 255, (3, 3072), dtype=np.uint8), "labels": [0, 1, 2]},
                    open(base / name, "wb"))
    pickle.dump({"label_names": [f"c{i}" for i in range(10)]}, open(base / "batches.meta", "wb"))
    ds = load_dataset("cifar10", "train", tmp_path)
    assert ds.images.shape == (15, 3, 32, 32) and ds.labels.tolist() == [0, 1, 2] * 5


def test_image_folder(tmp_path):
    from PIL import Image

    for cls in ("cat", "dog"):
        (tmp_path / "train" / cls).mkdir(parents=True)
        for i in range(3):
            Image.new("RGB", (40, 30), (i * 50, 10, 200)).save(tmp_path / "train" / cls / f"{i}.png")
    ds = load_dataset(str(tmp_path), "train", img_size=32, in_chans=3)
    assert ds.images.shape == (6, 3, 32, 32) and ds.classes == ("cat", "dog")
    assert ds.labels.tolist() == [0, 1, 0, 1, 0, 1]  # interleaved: the first N images cover every class
    assert sorted(ds.subset(2).labels.tolist()) == [0, 1]


def test_preprocess_matches_card_normalisation():
    x = preprocess(np.array([[[[0, 255]]]], np.uint8), (0.5,), (0.25,))
    np.testing.assert_allclose(x, [[[[-2.0, 2.0]]]])
