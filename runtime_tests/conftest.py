import pytest


@pytest.fixture(scope="session")
def exported(tmp_path_factory):
    """sep_res18_s3 (committed checkpoint) exported to fp32 + int8 TFLite once for the device suites."""
    from edgeflow.export.artifact import Precision
    from edgeflow.workflows.export import ExportOptions, run_export

    out = tmp_path_factory.mktemp("exported") / "sep_res18_s3"
    run_export("sep_res18_s3", ExportOptions(precisions=(Precision.FP32, Precision.INT8), out_dir=out,
                                             bench=False, parity_samples=100))
    return out
