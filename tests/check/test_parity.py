import numpy as np
import pytest

from edgeflow.check.parity import check_parity
from edgeflow.errors import EdgeflowError
from edgeflow.runtimes.base import Runner
from edgeflow.zoo.cards import DEFAULT_TOLERANCES


class ArrayRunner(Runner):
    """A test double: logits fixed in advance."""

    def __init__(self, name, precision, logits):
        self.name, self.precision, self.logits = name, precision, np.asarray(logits, np.float32)

    def infer(self, batch):
        return self.logits[: len(batch)]

    def infer_all(self, x, batch_size=32):
        return self.logits


rng = np.random.default_rng(0)
REF = rng.normal(size=(100, 10)).astype(np.float32)
LABELS = REF.argmax(1)  # the reference is 100 % accurate
X = np.zeros((100, 1, 2, 2), np.float32)


def run(*candidates):
    return check_parity(ArrayRunner("pytorch", "fp32", REF), list(candidates), X, LABELS, gates=DEFAULT_TOLERANCES)


def test_identical_outputs_pass():
    report = run(ArrayRunner("onnxruntime", "fp32", REF.copy()))
    assert report and report.rows[0].max_abs_diff == 0 and report.rows[0].agreement == 1.0
    assert report.rows[0].cosine == pytest.approx(1.0)


def test_fp32_diff_gate_fails_and_names_the_row():
    report = run(ArrayRunner("tflite", "fp32", REF + 1e-3))
    assert not report
    bound = 1e-4 + 1e-6 * float(np.abs(REF).max())  # the card defaults: abs + rel · max |reference logit|
    assert report.failures() == [f"tflite fp32: max abs diff 1.00e-03 > {bound:.2e}"]


def test_fp32_diff_gate_scales_with_the_logits():
    """The same 1e-6 relative rounding passes for logits at ±150 but 2e-4 absolute fails at ±3."""
    big = REF * (150 / np.abs(REF).max())
    big_run = check_parity(ArrayRunner("pytorch", "fp32", big), [ArrayRunner("tflite", "fp32", big + 2e-4)],
                           X, LABELS, gates=DEFAULT_TOLERANCES)
    assert big_run and big_run.reference.max_abs_logit == pytest.approx(150)
    assert not run(ArrayRunner("tflite", "fp32", REF + 2e-4))


def test_int8_accuracy_drop_gate():
    worse = REF.copy()
    worse[:2] = -worse[:2]  # flips the argmax of 2 % of samples
    report = run(ArrayRunner("tflite", "int8", worse))
    assert not report and "accuracy drop 2.00 pp > 1.0 pp" in report.failures()[0]
    slightly = REF.copy()
    slightly[:1] = -slightly[:1]  # 1 % drop is within the 1 pp gate
    assert run(ArrayRunner("tflite", "int8", slightly))


def test_nan_and_shape_mismatch_are_input_errors():
    with pytest.raises(EdgeflowError, match="NaN"):
        run(ArrayRunner("tflite", "int8", np.full_like(REF, np.nan)))
    with pytest.raises(EdgeflowError, match="shape"):
        run(ArrayRunner("tflite", "fp32", REF[:, :5]))


def test_a_failed_row_met_by_a_passing_fallback_row_passes_the_report():
    """export --fallback auto: the int8 row keeps its failure, the report passes only while the row named in
    ``met_by`` holds the gate itself."""
    from dataclasses import replace

    worse = REF.copy()
    worse[:2] = -worse[:2]  # int8: a 2 pp drop, over the 1 pp gate
    slightly = REF.copy()
    slightly[:1] = -slightly[:1]
    gates = {**DEFAULT_TOLERANCES, "mixed_max_accuracy_drop_pp": DEFAULT_TOLERANCES["int8_max_accuracy_drop_pp"]}
    report = check_parity(ArrayRunner("pytorch", "fp32", REF), [ArrayRunner("tflite", "int8", worse),
                          ArrayRunner("tflite", "mixed", slightly)], X, LABELS, gates=gates)
    assert not report  # nothing named yet
    met = replace(report, met_by={"tflite int8": "tflite mixed"})
    assert met and met.rows[0].failures and met.to_dict()["passed"] and met.to_dict()["met_by"]
    failing_mixed = check_parity(ArrayRunner("pytorch", "fp32", REF), [ArrayRunner("tflite", "int8", worse),
                                 ArrayRunner("tflite", "mixed", worse)], X, LABELS, gates=gates)
    assert not replace(failing_mixed, met_by={"tflite int8": "tflite mixed"})
    assert not replace(report, met_by={"tflite int8": "tflite fp16"})  # a row that is not there meets nothing
