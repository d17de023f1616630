"""No data file runs code: a pickle payload planted in each file edgeflow parses is refused, and never runs.

The payload, when unpickled by plain ``pickle``, calls ``os.system("touch MARKER")``. Every test asserts
one clear EdgeflowError and that MARKER does not exist afterwards.
"""

import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch

from edgeflow.errors import EdgeflowError


class Payload:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.fixture
def marker(tmp_path):
    path = tmp_path / "PAYLOAD_RAN"
    yield path
    assert not path.exists(), "a planted payload ran"


def test_the_payload_does_run_under_plain_pickle(tmp_path):
    """The control: without a safe loader the payload runs (so the tests below can fail)."""
    target = tmp_path / "ran"
    pickle.loads(pickle.dumps(Payload(target)))
    assert target.exists()


@pytest.mark.parametrize("dataset,folder,file", [("cifar10", "cifar-10-batches-py", "test_batch"),
                                                 ("cifar100", "cifar-100-python", "test")])
def test_cifar_batch_with_payload(tmp_path, marker, dataset, folder, file):
    from edgeflow.data import load_dataset

    (tmp_path / folder).mkdir()
    with open(tmp_path / folder / file, "wb") as f:
        pickle.dump({"data": Payload(marker), "labels": [0]}, f, protocol=2)
    with pytest.raises(EdgeflowError, match="not a plain data pickle.*refused global"):
        load_dataset(dataset, "test", tmp_path)


def test_cifar_real_layout_still_loads_every_protocol(tmp_path):
    from edgeflow.data import load_dataset

    base = tmp_path / "cifar-10-batches-py"
    base.mkdir()
    for protocol, name in zip((2, 4, 5, 2, 4, 5), [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]):
        with open(base / name, "wb") as f:
            pickle.dump({"data": np.full((2, 3072), 7, np.uint8), "labels": [1, 2]}, f, protocol=protocol)
    with open(base / "batches.meta", "wb") as f:
        pickle.dump({"label_names": [f"c{i}" for i in range(10)]}, f, protocol=2)
    ds = load_dataset("cifar10", "train", tmp_path)
    assert ds.images.shape == (10, 3, 32, 32) and int(ds.images.max()) == 7


def test_checkpoint_with_payload_through_the_cli(tmp_path, marker):
    from edgeflow.zoo.checkpoint import FORMAT

    ckpt = tmp_path / "evil.pt"
    torch.save({"format": FORMAT, "model": "sep_res18_s3", "state_dict": {}, "meta": Payload(marker)}, ckpt)
    r = subprocess.run([sys.executable, "-m", "edgeflow.cli.main", "export", "sep_res18_s3", "--checkpoint",
                        str(ckpt), "--out", str(tmp_path / "out")], capture_output=True, text=True)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "corrupt" in r.stderr
    assert not (tmp_path / "out").exists()


def test_pruned_file_with_payload(tmp_path, marker):
    from edgeflow.workflows.prune import load_pruned

    path = tmp_path / "pruned.pt"
    torch.save({"format": "edgeflow-pruned-1", "x": Payload(marker)}, path)
    with pytest.raises(EdgeflowError, match="corrupt"):
        load_pruned(path)


def test_training_state_with_payload(tmp_path, marker):
    from edgeflow.training.state import load_state

    torch.save({"format": "x", "evil": Payload(marker)}, tmp_path / "last.pt")
    with pytest.raises(EdgeflowError, match="corrupt"):
        load_state(tmp_path / "last.pt", "sep_res18_s3", "fashion-mnist-embedded")


def test_embedded_npz_with_a_pickled_object_array(tmp_path, marker):
    from edgeflow.data import load_dataset

    np.savez(tmp_path / "embedded.npz", test_images=np.array([Payload(marker)], dtype=object),
             test_labels=np.zeros(1, np.uint8))
    with pytest.raises(EdgeflowError, match="not the embedded Fashion-MNIST subset"):
        load_dataset("fashion-mnist-embedded", "test", tmp_path)


def test_device_outputs_with_a_pickled_object_array(tmp_path, marker):
    from edgeflow.devices.profile import DeviceProfile
    from edgeflow.devices.transport import LocalTransport
    from edgeflow.runtimes.remote import _load_logits

    np.save(tmp_path / "logits.npy", np.array([Payload(marker)], dtype=object), allow_pickle=True)
    with pytest.raises(EdgeflowError, match="not a numeric .npy"):
        _load_logits(LocalTransport(DeviceProfile(name="d", transport="local")), tmp_path / "logits.npy")


def test_json_and_toml_loaders_refuse_a_pickle(tmp_path, marker, monkeypatch):
    """Results, stamps, profiles and cards are parsed as JSON/TOML only: a pickle there is a clear error."""
    from edgeflow.devices import arm_sysroot
    from edgeflow.devices.profile import load_profile
    from edgeflow.zoo.record import int8_accuracy

    blob = pickle.dumps(Payload(marker))
    (tmp_path / "parity.json").write_bytes(blob)
    with pytest.raises(EdgeflowError, match="not readable JSON"):
        int8_accuracy(tmp_path / "parity.json", "sep_res18_s3")
    root = tmp_path / "sysroot"
    (root / "usr" / "bin").mkdir(parents=True)
    (root / "usr" / "bin" / "python3").write_text("")
    (root / ".edgeflow-stamp.json").write_bytes(blob)
    assert "corrupt stamp" in arm_sysroot.sysroot_status(root)
    (tmp_path / "dev.toml").write_bytes(blob)
    with pytest.raises(EdgeflowError, match="device profile .* not (valid TOML|readable)"):
        load_profile(str(tmp_path / "dev.toml"))
