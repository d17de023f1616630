from edgeflow.devices.benchmark_model import parse_benchmark_model

# Verbatim output of TFLite's benchmark_model on an Android phone (yolov5s fp32, CPU, 4 threads), copied
# from a public benchmark write-up; the second sample is a newer build's log from public documentation.
SAMPLE = """\
count=50 first=249042 curr=250889 min=247067 max=254474 avg=249684 std=1442
Inference timings in us: Init: 16242, First inference: 360262, Warmup (avg): 304586, Inference (avg): 249684
Note: as the benchmark tool itself affects memory footprint, the following is only APPROXIMATE to the actual memory footprint of the model at runtime. Take the information at your discretion.
Peak memory footprint (MB): init=4.92969 overall=138.809
"""

# Newer builds: "INFO:" prefixes, exponent notation, percentile columns, no "Peak" line.
SAMPLE_NEW = """\
INFO: count=50 first=1249964 curr=1240143 min=1238588 max=1252566 avg=1.24027e+06 std=2565 p5=1238753 median=1239807 p95=1247415

INFO: Inference timings in us: Init: 5579, First inference: 1357602, Warmup (avg): 1.3576e+06, Inference (avg): 1.24027e+06
INFO: Memory footprint delta from the start of the tool (MB): init=6.36328 overall=109.832
"""


def test_parses_timings_and_peak_memory():
    r = parse_benchmark_model(SAMPLE)
    assert r["inference_avg_ms"] == 249.684 and r["init_ms"] == 16.242 and r["first_inference_ms"] == 360.262
    assert r["runs"] == 50 and r["min_ms"] == 247.067 and r["std_ms"] == 1.442
    assert r["peak_memory_mb"] == 138.809 and r["peak_memory_init_mb"] == 4.92969


def test_newer_format_and_missing_lines():
    r = parse_benchmark_model(SAMPLE_NEW)
    assert r["inference_avg_ms"] == 1240.27 and r["warmup_avg_ms"] == 1357.6 and "peak_memory_mb" not in r
    assert parse_benchmark_model("garbage") == {}
