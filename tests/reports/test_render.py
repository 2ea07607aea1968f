"""The renderer and ``python -m reports``: escaping, merging, self-containment, sections."""

from __future__ import annotations

import base64
import json
import re
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from reports import charts, render
from reports.files import jsonable, write_json_atomic
from tests.reports import sample

REPO = Path(__file__).resolve().parents[2]


def _write(path: Path, data: dict) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_markup_in_test_ids_reasons_and_tracebacks_is_escaped():
    html = render.render([sample.hostile(sample.results())])
    assert "<script>alert" not in html
    assert "onerror=alert(1)>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    # The page's own script is its only one, beside its data (JSON, never executed).
    assert html.count("<script") == 2
    assert html.count('<script type="application/json" id="report-data">') == 1


def test_page_makes_no_network_requests():
    html = render.render([sample.results()], _bench_entries())
    assert not re.search(
        r"""(?:src|href|action|poster|data)\s*=\s*["']?\s*(?:https?:)?//""", html, re.IGNORECASE
    )
    assert not re.search(r"@import|url\(\s*['\"]?\s*(?:https?:)?//", html, re.IGNORECASE)
    assert "http://" not in html
    assert "https://" not in html
    # Images are inline.
    for src in re.findall(r"""<img[^>]*\ssrc="([^"]*)\"""", html):
        assert src.startswith("data:image/png;base64,")


def _bench_entries():
    from reports.environment import benchmark_entries

    return benchmark_entries(sample.benchmark_json())


def test_performance_section_appears_only_with_benchmark_json():
    without = render.render([sample.results()])
    assert 'id="performance"' not in without
    html = render.render([sample.results()], _bench_entries())
    assert 'id="performance"' in html
    section = html.split('id="performance"', 1)[1].split('id="environment"', 1)[0]
    for group in ("conv2d-fwd-32x16x28x28", "conv2d-bwd-32x16x28x28"):
        assert group in section
    assert "<svg" in section  # the bar chart
    assert "2 ms" in section  # the reference's median
    assert "4 ms" in section  # keras's median
    assert "2.00\u00d7 ref" in section  # keras is twice the reference's median


def test_summary_matrix_cells_count_outcomes_and_keep_the_largest_ratio():
    context = render.build_context([sample.results(torch_conv_outcome="fail")])
    assert [row["layer"] for row in context["matrix"]] == [*sample._LAYERS, sample.ABSENT_LAYER]
    cells = {(row["layer"], c["adapter"]): c for row in context["matrix"] for c in row["cells"]}
    assert cells[("conv2d", "torch")]["counts"] == {"fail": 2}
    assert cells[("conv2d", "torch")]["ratio"] == pytest.approx(3.5)
    assert cells[("conv2d", "keras")]["counts"] == {"pass": 2}
    assert cells[("maxpool2d", "scipy")]["counts"] == {"unsupported": 1, "pass": 1}
    assert cells[("maxpool2d", "scipy")]["compared"] == 1
    assert cells[("relu", "scipy")]["counts"] == {"skipped": 2}
    assert all(
        c["cases"] == 1 and c["n"] == 2
        for (layer, _), c in cells.items()
        if layer != sample.ABSENT_LAYER
    )
    assert context["totals"]["fail"] == 2
    assert context["totals"]["unsupported"] == 1


def test_merge_keeps_every_record_and_marks_differing_environments():
    a = sample.results("py311-tf216")
    b = sample.results("py311-tf221", torch_conv_outcome="fail")
    context = render.build_context([a, b])
    shown = [(row["env"], row["test_id"]) for case in context["cases"] for row in case["rows"]]
    expected = [(run["run"]["env_name"], r["test_id"]) for run in (a, b) for r in run["parity"]]
    assert sorted(shown) == sorted(expected)  # every record of every input, none twice
    rows = {(r["layer"], r["adapter"]): r for r in context["version_matrix"]}
    assert [c["env"] for c in rows[("conv2d", "torch")]["cells"]] == ["py311-tf216", "py311-tf221"]
    assert rows[("conv2d", "torch")]["differs"]
    assert not rows[("conv2d", "keras")]["differs"]
    html = render.render([a, b])
    assert html.count('class="f-row differs"') == 1


def test_environment_without_a_framework_is_not_installed_not_a_difference():
    a, b = sample.results("py311-tflatest"), sample.results("py311-tflatest #b")
    c = sample.results("py311-kerasjax")
    for record in c["parity"]:  # the harness's record when adapters.load() gives a reason
        if record["adapter"] == "keras":
            record.update(
                outcome="skipped",
                missing="No module named 'tensorflow'",
                reason="keras not installed",
                err_to_bound=None,
            )
    rows = {
        (r["layer"], r["adapter"]): r for r in render.build_context([a, b, c])["version_matrix"]
    }
    cells = rows[("conv2d", "keras")]["cells"]
    assert [cell["missing"] for cell in cells] == [False, False, True]
    assert not rows[("conv2d", "keras")]["differs"]
    html = render.render([a, b, c])
    matrix = html.split('id="version-matrix"', 1)[1].split("</table>", 1)[0]
    assert matrix.count("not installed") == len(sample._LAYERS)
    # Without the "missing" key the same skips are a difference between environments.
    for record in c["parity"]:
        record.pop("missing", None)
    rows = {
        (r["layer"], r["adapter"]): r for r in render.build_context([a, b, c])["version_matrix"]
    }
    assert rows[("conv2d", "keras")]["differs"]


def test_merge_of_two_runs_with_the_same_name_keeps_both():
    context = render.build_context([sample.results("same"), sample.results("same")])
    assert [e["name"] for e in context["envs"]] == ["same", "same #2"]
    assert sum(len(c["rows"]) for c in context["cases"]) == 2 * len(sample.results()["parity"])


def test_cli_renders_a_version_matrix_from_several_files(tmp_path):
    a = _write(tmp_path / "results-envA.json", sample.results("envA"))
    b = _write(tmp_path / "results-envB.json", sample.results("envB", torch_conv_outcome="fail"))
    bench = _write(tmp_path / "bench.json", sample.benchmark_json())
    out = tmp_path / "merged" / "report.html"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "reports",
            str(a),
            str(b),
            "-o",
            str(out),
            "--benchmark",
            str(bench),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert str(out) in done.stdout
    assert "2 environments" in done.stdout
    html = out.read_text(encoding="utf-8")
    matrix = html.split('id="version-matrix"', 1)[1].split("</table>", 1)[0]
    assert "<th>envA</th>" in matrix
    assert "<th>envB</th>" in matrix
    assert 'id="performance"' in html


def test_cli_rejects_a_file_that_is_not_a_results_json(tmp_path):
    bad = _write(tmp_path / "bad.json", {"benchmarks": []})
    done = subprocess.run(
        [sys.executable, "-m", "reports", str(bad), "-o", str(tmp_path / "x.html")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert "bad.json" in done.stderr
    assert "not a cnn-parity results JSON" in done.stderr
    assert not (tmp_path / "x.html").exists()


def test_json_write_is_atomic_and_strict(tmp_path, monkeypatch):
    path = tmp_path / "out" / "results.json"
    write_json_atomic(path, {"ratio": float("inf"), "nan": float("nan"), "t": (1, 2)})
    assert json.loads(path.read_text()) == {"ratio": "inf", "nan": "nan", "t": [1, 2]}

    def half_then_crash(obj, handle, **kwargs):
        handle.write('{"partial": ')
        raise OSError("disk full")

    monkeypatch.setattr(json, "dump", half_then_crash)
    with pytest.raises(OSError, match="disk full"):
        write_json_atomic(path, {"new": 1})
    # The old file is intact and no temporary file is left behind.
    assert json.loads(path.read_text())["t"] == [1, 2]
    assert [p.name for p in path.parent.iterdir()] == ["results.json"]


def test_jsonable_turns_numpy_values_into_plain_json():
    np = pytest.importorskip("numpy")
    data = jsonable({"a": np.float32(1.5), "b": np.arange(3), "c": np.float64("inf")})
    assert data == {"a": 1.5, "b": [0, 1, 2], "c": "inf"}


def _decode_png(uri: str) -> tuple[int, int, list[bytes]]:
    raw = base64.b64decode(uri.split(",", 1)[1])
    assert raw[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, {}
    while pos < len(raw):
        (length,) = struct.unpack(">I", raw[pos : pos + 4])
        tag, data = raw[pos + 4 : pos + 8], raw[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", raw[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(tag + data) & 0xFFFFFFFF
        chunks[tag] = chunks.get(tag, b"") + data
        pos += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (depth, colour) == (8, 2)
    pixels = zlib.decompress(chunks[b"IDAT"])
    stride = 1 + 3 * width
    rows = [pixels[i * stride + 1 : (i + 1) * stride] for i in range(height)]
    assert all(pixels[i * stride] == 0 for i in range(height))  # filter type None
    return width, height, rows


def test_heatmap_is_a_valid_png_with_the_colour_map_endpoints():
    hm = charts.heatmap([[0.0, 1.0, 2.0], [3.0, "nan", 8.0]])
    width, height, rows = _decode_png(hm["uri"])
    assert (width, height) == (3, 2)
    assert rows[0][:3] == bytes((68, 1, 84))  # viridis at the minimum
    assert rows[1][6:9] == bytes((253, 231, 37))  # viridis at the maximum
    assert rows[1][3:6] == bytes((255, 0, 255))  # non-finite marked
    assert hm["nonfinite"]
    assert (hm["low"], hm["high"]) == (0.0, 8.0)
    diff = charts.heatmap([[-2.0, 0.0, 2.0]], diverging=True)
    _, _, (row,) = _decode_png(diff["uri"])
    assert row[3:6] == bytes((247, 247, 247))  # zero difference is white


def test_cases_carry_heatmaps_of_input_reference_output_and_difference():
    context = render.build_context([sample.results()])
    case = next(c for c in context["cases"] if c["layer"] == "relu")
    maps = case["heatmaps"]
    assert maps["input"]
    assert maps["reference"]
    assert [f["adapter"] for f in maps["frameworks"]] == ["torch", "keras", "scipy"]
    assert all(f["output"] and f["diff"] for f in maps["frameworks"])
    assert maps["frameworks"][0]["diff"]["high"] == pytest.approx(1e-7, rel=1e-6)
