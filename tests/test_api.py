"""The Python API: the README's example runs as written (in a scratch folder), and returns the report."""

import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def test_the_readme_example_runs(tmp_path):
    (code,) = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    code = code.replace('out="export/my_net"', f'out="{tmp_path / "my_net"}"')
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("True [") and "tflite int8" in r.stdout
    manifest = (tmp_path / "my_net" / "manifest.json").read_text()
    assert '"kind": "python-object"' in manifest and '"weights_sha256"' in manifest


def test_a_bad_contract_is_an_edgeflow_error(tmp_path):
    import pytest
    import torch.nn as nn

    import edgeflow
    import edgeflow.export.manifest  # noqa: F401  (the export subpackage must not shadow the API function)
    from edgeflow.errors import EdgeflowError

    with pytest.raises(EdgeflowError, match="does not take the contract's 3x28x28 input"):
        edgeflow.export_model(nn.Conv2d(1, 10, 28), input_shape=(3, 28, 28), out=tmp_path / "o")
    assert not (tmp_path / "o").exists()
