from edgeflow.plots import accuracy_vs_size


def test_plot_is_a_png(tmp_path):
    out = tmp_path / "p.png"
    accuracy_vs_size([("tflite fp32", 1100.0, 93.7), ("onnxruntime fp32", 1101.0, 93.7), ("tflite int8", 380, 93.6)],
                     out, "t")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 5000
    assert [p.name for p in tmp_path.iterdir()] == ["p.png"]
