import json

from edgeflow.export.artifact import Artifact, Precision
from edgeflow.export.manifest import build_manifest, input_contract
from edgeflow.files import write_json
from edgeflow.zoo.cards import get_card

INT8_INFO = {"fully_integer": True, "integer_io": True, "tensor_dtypes": {"int8": 5, "int32": 2},
             "input": {"dtype": "int8", "shape": [1, 28, 28, 1], "scale": 0.01, "zero_point": -5},
             "output": {"dtype": "int8", "shape": [1, 10], "scale": 0.1, "zero_point": 3}}


def test_input_contract_has_what_a_device_needs():
    card = get_card("sep_res18_s3")
    c = input_contract(card, {Precision.INT8: INT8_INFO})
    assert c["tflite_input"] == {"shape": [1, 28, 28, 1], "layout": "NHWC"}
    assert c["mean"] == [0.286] and c["std"] == [0.353] and len(c["classes"]) == 10
    assert c["int8"]["input"] == {"dtype": "int8", "scale": 0.01, "zero_point": -5}
    assert "int8" not in input_contract(card, {})


def test_manifest_lists_artifacts_with_hashes(tmp_path):
    f = tmp_path / "model_int8.tflite"
    f.write_bytes(b"abc")
    art = Artifact.of(f, "tflite", Precision.INT8, parent="p")
    m = build_manifest(card=get_card("sep_res18_s3"), source={"sha256": "s"},
                       calibration={"count": 3, "sha256": "c"}, artifacts=[art],
                       tflite_info={Precision.INT8: INT8_INFO})
    (entry,) = m["artifacts"]
    assert entry["sha256"] == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert entry["bytes"] == 3 and entry["fully_integer"] is True
    assert m["tools"]["torch"].startswith("2.13.0")
    write_json(tmp_path / "manifest.json", m)
    assert json.loads((tmp_path / "manifest.json").read_text())["calibration"]["count"] == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["manifest.json", "model_int8.tflite"]
