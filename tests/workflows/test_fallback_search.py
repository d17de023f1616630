"""The fallback's greedy search (``workflows.fallback``) with a stand-in quantizer: which layers it keeps in
float, in what order it tries them, that it drops layers not needed, and how it gives up. The real converter
path is covered end to end in ``runtime_tests/test_export_fallback.py``."""

import json

import numpy as np
import pytest

from edgeflow.check.parity import RunOutput, compare
from edgeflow.export.mixed import LayerScore
from edgeflow.workflows import fallback

rng = np.random.default_rng(0)
REF = rng.normal(size=(100, 10)).astype(np.float32)
LABELS = REF.argmax(1)
X = np.zeros((100, 1, 2, 2), np.float32)
LAYERS = [LayerScore("matmul", "BATCH_MATMUL", 9.0), LayerScore("dw", "DEPTHWISE_CONV_2D", 3.0),
          LayerScore("conv", "CONV_2D", 0.4)]


class FakeQuantizer:
    """``build`` writes the float set into the 'model'; ``flips`` says how many top-1s it then gets wrong."""

    def __init__(self, flips):
        self.flips, self.built = flips, []

    def ranked(self):
        return list(LAYERS)

    def build(self, keep_float):
        self.built.append(list(keep_float))
        return json.dumps(sorted(keep_float)).encode()


def _logits(flips: int) -> np.ndarray:
    y = REF.copy()
    y[:flips] = -y[:flips]  # each flipped row changes its argmax
    return y


@pytest.fixture
def search(monkeypatch, tmp_path):
    def go(flips, gates, max_tries=fallback.MAX_TRIES):
        quantizer = FakeQuantizer(flips)
        # the mixed "model" on disk names its float layers; running it gives the logits they would
        monkeypatch.setattr(fallback, "run", lambda runner, x: RunOutput(
            runner.name, runner.precision, _logits(flips(set(json.loads(runner.path.read_bytes()))))))
        ref = RunOutput("pytorch", "fp32", REF)
        int8_row = compare(ref, [RunOutput("tflite", "int8", _logits(flips(set())))], LABELS, gates=gates).rows[0]
        found = fallback.find_mixed(quantizer, tmp_path / "model_mixed.tflite", None, ref, X, LABELS, gates,
                                    int8_row, max_tries=max_tries)
        return found, quantizer, int8_row
    return go


def test_mixed_gates_are_the_int8_gates_renamed():
    assert fallback.mixed_gates({"int8_min_agreement": 0.99, "int8_max_accuracy_drop_pp": 1.0,
                                 "fp32_max_abs_diff": 1e-4}) == {"mixed_min_agreement": 0.99,
                                                                 "mixed_max_accuracy_drop_pp": 1.0}


def test_keeps_the_fewest_layers_that_meet_the_gate(search, tmp_path):
    """The worst-ranked layer does not help; the second does: it alone is kept after the clean-up pass."""
    found, q, int8_row = search(lambda keep: 3 - 2 * ("dw" in keep), {"int8_min_agreement": 0.985})
    assert int8_row.failures and int8_row.agreement == 0.97
    assert found.met and found.tried == 2
    assert q.built == [["matmul"], ["matmul", "dw"], ["dw"]]  # greedy, then "matmul" dropped again
    assert [k["tensor"] for k in found.kept] == ["dw"]
    assert found.kept[0]["agreement_without"] == 0.97 and found.kept[0]["agreement_with"] == 0.99
    assert json.loads((tmp_path / "model_mixed.tflite").read_bytes()) == ["dw"]  # the file is the model reported
    assert found.artifact.precision.value == "mixed" and found.output.precision == "mixed"
    assert not list(tmp_path.glob(".*try"))  # the scratch file is gone


def test_keeps_every_layer_the_gate_needs(search):
    found, q, _ = search(lambda keep: 3 - ("matmul" in keep) - 2 * ("dw" in keep), {"int8_min_agreement": 1.0})
    assert found.met and [k["tensor"] for k in found.kept] == ["matmul", "dw"]
    effects = {k["tensor"]: k for k in found.kept}
    assert effects["matmul"]["agreement_without"] == 0.99 and effects["dw"]["agreement_without"] == 0.98
    assert all(k["agreement_with"] == 1.0 for k in found.kept)


def test_the_clean_up_pass_may_drop_the_last_layer_added_too(search, tmp_path):
    """Not monotone (seen on a per-channel net): the first layer hurts, so only with all three does the gate
    hold; without the first, the second alone is enough and the third goes too."""
    found, q, _ = search(lambda keep: 3 + ("matmul" in keep) - 2 * ("dw" in keep) - ("conv" in keep),
                         {"int8_min_agreement": 0.99})
    assert q.built == [["matmul"], ["matmul", "dw"], ["matmul", "dw", "conv"], ["dw", "conv"], ["conv"], ["dw"]]
    assert found.met and found.tried == 3 and [k["tensor"] for k in found.kept] == ["dw"]
    assert json.loads((tmp_path / "model_mixed.tflite").read_bytes()) == ["dw"]


def test_gives_up_after_max_tries_with_a_message(search, tmp_path):
    found, q, _ = search(lambda keep: 3 - ("conv" in keep), {"int8_min_agreement": 0.99}, max_tries=2)
    assert not found.met and found.tried == 2 and len(q.built) == 2
    assert "no mixed model met the int8 gate with up to 2 layer(s) in float" in found.message
    assert "top-1 agreement 97.00 % < 99.00 %" in found.message
    assert (tmp_path / "model_mixed.tflite").is_file()  # the last model tried, shown as a failing row
