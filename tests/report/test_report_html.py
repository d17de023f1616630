"""The HTML report opened in a real headless browser (Debian's chromium, installed by `make system-deps`):
the table's numbers are parity.json's, every image is embedded, and the page asks the network for nothing:
chromium's only way out is a proxy of ours that records the host of every request, and a host chromium asks
for when it opens an empty page (its own update and time services) is not counted against the report."""

import base64
import json
import re
import shutil
import socket
import subprocess
import sys
import threading
from html.parser import HTMLParser
from pathlib import Path

import pytest

NAME = "sep_res18_s3"
pytestmark = pytest.mark.xdist_group("report_html")  # one worker makes the export once


def chromium_exe() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if not exe:
        pytest.fail("Debian's chromium is not installed, so the report cannot be checked in a browser: run "
                    "`make system-deps` (as root it runs apt-get install chromium)")
    return exe


# chromium's own services, which Debian's build calls whatever the flags (seen: component updater, time)
CHROMIUM_OWN = {"clients2.google.com", "update.googleapis.com", "accounts.google.com", "redirector.gvt1.com"}


class Proxy:
    """A TCP listener given to chromium as its proxy: every request the page makes connects here first."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.hosts: set[str] = set()
        self.stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(2)
                try:
                    line = conn.recv(4096).split(b"\r\n", 1)[0].decode("latin-1")
                except OSError:
                    line = "? unreadable"
            target = line.split(" ")[1] if " " in line else line  # CONNECT host:443 | GET http://host/path
            self.hosts.add(re.sub(r"^[a-z]+://", "", target).split("/")[0].split(":")[0])

    def close(self):
        self.stop = True
        self.thread.join()
        self.sock.close()


def browse(page: Path, tmp: Path, *extra: str) -> tuple[str, set[str]]:
    """Open ``page`` in headless chromium; returns (stdout, the hosts it asked for beyond chromium's own)."""
    proxy = Proxy()
    try:
        r = subprocess.run([chromium_exe(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                            "--disable-background-networking", "--disable-component-update", "--disable-sync",
                            "--disable-default-apps", f"--user-data-dir={tmp / 'chromium-profile'}",
                            f"--proxy-server=http://127.0.0.1:{proxy.sock.getsockname()[1]}",
                            "--virtual-time-budget=3000", *extra, page.as_uri()],
                           capture_output=True, text=True, timeout=120)
    finally:
        proxy.close()
    assert r.returncode == 0, r.stderr[-2000:]
    return r.stdout, proxy.hosts - CHROMIUM_OWN - _baseline(tmp)


_BASELINE: set[str] = set()


def _baseline(tmp: Path) -> set[str]:
    """What chromium asks for on an empty page (measured once): its own traffic, not a page's."""
    if not _BASELINE:
        empty = tmp / "empty.html"
        empty.write_text("<!DOCTYPE html><html><body>empty</body></html>")
        _BASELINE.add("-")
        _, hosts = browse(empty, tmp)
        _BASELINE.update(hosts)
    return _BASELINE


class Page(HTMLParser):
    """Table rows (by data-runtime/precision/threads: field → (text, data-value)), images, links."""

    def __init__(self):
        super().__init__()
        self.rows, self.images, self.refs, self.sections = {}, [], [], []
        self._row = self._cell = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.refs += [v for k, v in attrs if k in ("src", "href", "action", "poster") and v]
        if tag == "img":
            self.images.append(a.get("src", ""))
        elif tag == "h2":
            self.sections.append(a.get("id"))
        elif tag == "tr" and "data-runtime" in a:
            key = (a["data-runtime"], a["data-precision"], a.get("data-threads"))
            self._row = self.rows.setdefault(key, {})
        elif tag == "td" and self._row is not None:
            self._cell = [a.get("data-field"), a.get("data-value"), "", a.get("class")]

    def handle_data(self, data):
        if self._cell is not None:
            self._cell[2] += data

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None:
            field, value, text, cls = self._cell
            if field:
                self._row[field] = (text, value, cls)
            self._cell = None
        elif tag == "tr":
            self._row = None


def parse(dom: str) -> Page:
    page = Page()
    page.feed(dom)
    return page


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """A real export (fp32 + int8, ONNX QDQ, per-layer localisation) and a real bench on this host, each
    finished the way the CLI finishes a run (report.html + history)."""
    from edgeflow.devices.profile import load_profile
    from edgeflow.export.artifact import Precision
    from edgeflow.report.publish import finish_run
    from edgeflow.workflows.device_bench import bench_on_device
    from edgeflow.workflows.export import ExportOptions, run_export
    from edgeflow.workflows.parity import localize_int8

    tmp = tmp_path_factory.mktemp("report")
    out = tmp / NAME
    run_export(NAME, ExportOptions(precisions=(Precision.FP32, Precision.INT8), onnx_int8=True, out_dir=out,
                                   parity_samples=200, calib_samples=100, bench_iters=30))
    localize_int8(NAME, out, samples=20, data="fashion-mnist-embedded", data_dir=None)
    bench = tmp / "bench"
    bench_on_device(NAME, load_profile("local"), precisions=["fp32", "int8"], threads=[1], samples=50, iters=20,
                    export_folder=out, results_dir=bench)
    warnings = finish_run(out) + finish_run(bench)
    assert warnings == []
    return tmp, out, bench


def test_the_page_shows_parity_json_and_embeds_everything(results, tmp_path):
    _, out, _ = results
    dom, hosts = browse(out / "report.html", tmp_path, "--dump-dom")
    page = parse(dom)
    parity = json.loads((out / "parity.json").read_text())
    latency = {(r["runtime"], r["precision"]): r for r in parity["latency"]}
    for row in (parity["reference"], *parity["rows"]):
        cells = page.rows[(row["runtime"], row["precision"], None)]
        assert cells["accuracy"][0] == f"{100 * row['accuracy']:.2f}" and float(cells["accuracy"][1]) == row["accuracy"]
        p50 = latency[(row["runtime"], row["precision"])]["p50_ms"]
        assert cells["p50_ms"][0] == f"{p50:.3f}" and float(cells["p50_ms"][1]) == p50
        if row is parity["reference"]:
            assert cells["gate"][0] == "reference"
            continue
        assert cells["max_abs_diff"][0] == f"{row['max_abs_diff']:.2e}"
        assert cells["agreement"][0] == f"{100 * row['agreement']:.2f}"
        assert float(cells["cosine"][1]) == row["cosine"] and float(cells["sqnr_db"][1]) == row["sqnr_db"]
        assert cells["gate"][2] == ("fail" if row["failures"] else "pass")
    assert len(page.rows) == 1 + len(parity["rows"])
    assert len(page.images) >= 3  # accuracy vs size, latency distribution, per-layer int8 error
    for src in page.images:
        assert src.startswith("data:image/png;base64,") and base64.b64decode(src.split(",", 1)[1])[:4] == b"\x89PNG"
    assert all(ref.startswith("data:") for ref in page.refs), [r[:60] for r in page.refs if not r.startswith("data:")]
    assert not re.search(r"https?://|url\(|<script|<link", dom, re.I)
    assert hosts == set()
    for text in ("Per-layer int8 error", "Tool versions", "device fingerprint", "onnxruntime int8 (QDQ)"):
        assert text in dom


def test_the_network_check_catches_a_page_that_fetches(tmp_path):
    page = tmp_path / "fetches.html"
    page.write_text('<!DOCTYPE html><html><body><img src="http://example.com/x.png"></body></html>')
    _, hosts = browse(page, tmp_path, "--dump-dom")
    assert hosts == {"example.com"}


def test_the_page_renders(results, tmp_path):
    from PIL import Image

    _, out, _ = results
    shot = tmp_path / "shot.png"
    browse(out / "report.html", tmp_path, f"--screenshot={shot}", "--window-size=1200,1600", "--hide-scrollbars")
    with Image.open(shot) as im:
        assert im.size == (1200, 1600)
        assert len(im.convert("RGB").getcolors(1 << 20) or []) > 50  # tables, green gates, plots: not a blank page


def test_several_results_on_one_page(results, tmp_path):
    tmp, out, bench = results
    combined = tmp_path / "all.html"
    r = subprocess.run([sys.executable, "-m", "edgeflow.cli.main", "report", str(out),
                        str(bench), "--out", str(combined)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    dom, hosts = browse(combined, tmp_path, "--dump-dom")
    page = parse(dom)
    assert hosts == set() and [s for s in page.sections if s] == [out.name, bench.name] and "Overview" in dom
    for precision in ("fp32", "int8"):
        saved = json.loads((bench / f"{precision}.json").read_text())["runs"][0]
        cells = page.rows[("tflite", precision, "1")]
        assert float(cells["p50_ms"][1]) == saved["latency"]["p50_ms"]
        assert cells["accuracy"][0] == f"{100 * saved['parity']['accuracy']:.2f}"
    assert len(page.images) >= 5 and (bench / "report.html").is_file()
