"""``python -m reports`` on malformed input: one line naming the file and the problem on
stderr, exit status 2, never a traceback; and whatever the checks accept renders."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from reports import render, schema
from reports.__main__ import main
from reports.plugin import SCHEMA
from tests.reports import sample

ROOT = Path(__file__).resolve().parents[2]


def _with(**fields) -> dict:
    return {"schema": SCHEMA, "parity": [], **fields}


def _record(**fields) -> dict:
    return _with(parity=[{"layer": "conv2d", "case": "c", "adapter": "torch", **fields}])


DEEP = 100_000

#: (id, file content, a fragment of the one-line problem).  The first five are the shapes
#: that printed a traceback before (null parity, a list or string at the top, non-object
#: conventions, err_to_bound as a list, deep nesting).
MALFORMED = [
    ("parity-null", {"schema": SCHEMA, "parity": None}, "parity: expected a list, got null"),
    ("top-list", [], "expected a JSON object at the top, got a list"),
    ("top-string", "results", "expected a JSON object at the top, got a string"),
    ("conventions-not-objects", _with(conventions=[1, 2]), "conventions[0]: expected an object"),
    ("err-to-bound-list", _record(err_to_bound=[1, 2]), "parity[0].err_to_bound: expected a"),
    ("deep-nesting", "[" * DEEP + "]" * DEEP, "nested too deeply"),
    ("top-number", 42, "got a number"),
    ("top-null", None, "got null"),
    ("no-schema", {"parity": []}, "has no 'schema' field"),
    ("parity-null-no-schema", {"parity": None}, "has no 'schema' field"),
    ("schema-newer", {"schema": "cnn-parity-results/2", "parity": []}, "is newer than this"),
    ("schema-zero", {"schema": "cnn-parity-results/0", "parity": []}, "does not exist"),
    ("schema-other", {"schema": "pytest-benchmark/1", "parity": []}, "not cnn-parity-results/"),
    ("schema-number", {"schema": 1, "parity": []}, "not cnn-parity-results/"),
    ("no-parity", {"schema": SCHEMA}, "has no 'parity' list"),
    ("parity-object", _with(parity={"conv2d": []}), "parity: expected a list, got an object"),
    ("parity-numbers", _with(parity=[1]), "parity[0]: expected an object, got a number"),
    ("parity-strings", _with(parity=["conv2d"]), "parity[0]: expected an object, got a string"),
    ("layer-number", _record(layer=3), "parity[0].layer: expected a string"),
    ("adapter-null", _record(adapter=None), "parity[0].adapter: expected a string"),
    ("outcome-list", _record(outcome=["pass"]), "parity[0].outcome: expected a string"),
    ("ratio-word", _record(err_to_bound="huge"), "parity[0].err_to_bound: expected a number"),
    ("shapes-number", _record(shapes={"x": 3}), "parity[0].shapes.x: expected a list"),
    ("arrays-ragged", _record(arrays={"input": [[1, [2]]]}), "parity[0].arrays.input[0][1]"),
    ("outputs-object", _record(outputs={"y": {"err_to_bound": {}}}), "outputs.y.err_to_bound"),
    ("repro-list", _record(repro=["x"]), "parity[0].repro: expected text"),
    ("conventions-object", _with(conventions={"a": 1}), "conventions: expected a list"),
    ("network-curve-text", _with(networks=[{"loss_curve": "abc"}]), "networks[0].loss_curve"),
    ("network-curves-nested", _with(networks=[{"loss_curves": {"sgd": [[1]]}}]), "sgd[0]"),
    ("localization-text", _with(networks=[{"localization": "conv"}]), "networks[0].localizat"),
    (
        "localization-ratio-word",
        _with(networks=[{"localization": {"layers": [{"isolated": "big"}]}}]),
        "networks[0].localization.layers[0].isolated: expected a number",
    ),
    (
        "localization-divergence-list",
        _with(networks=[{"localization": {"layers": [], "divergence": [3]}}]),
        "networks[0].localization.divergence: expected an object",
    ),
    ("run-list", _with(run=[]), "run: expected an object, got a list"),
    ("run-tests-list", _with(run={"tests": [1]}), "run.tests: expected an object"),
    ("run-duration-text", _with(run={"duration_s": "long"}), "run.duration_s: expected a num"),
    ("run-partial-text", _with(run={"partial": "-k x"}), "run.partial: expected a list"),
    ("environment-text", _with(environment="linux"), "environment: expected an object"),
    ("versions-list", _with(environment={"versions": []}), "environment.versions: expected"),
    ("layers-text", _with(layers="conv2d"), "layers: expected a list, got a string"),
    ("adapters-numbers", _with(adapters=[1]), "adapters[0]: expected a string"),
    ("benchmark-median", _with(benchmarks=[{"stats": {"median": "fast"}}]), "stats.median"),
]


def _write(tmp_path: Path, name: str, content) -> Path:
    path = tmp_path / f"{name}.json"
    text = content if isinstance(content, str) and name == "deep-nesting" else json.dumps(content)
    path.write_text(text, encoding="utf-8")
    return path


def _one_line_error(capsys, argv, path) -> str:
    status = main(argv)
    captured = capsys.readouterr()
    assert status == 2, captured
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith(f"reports: {path}: "), lines[0]
    assert captured.out == ""
    return lines[0]


@pytest.mark.parametrize(("name", "content", "problem"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_results_give_one_line_and_status_2(tmp_path, capsys, name, content, problem):
    path = _write(tmp_path, name, content)
    line = _one_line_error(capsys, [str(path), "-o", str(tmp_path / "out.html")], path)
    assert problem in line
    assert not (tmp_path / "out.html").exists()


@pytest.mark.parametrize(
    ("name", "make", "problem"),
    [
        ("missing", lambda p: None, "no such file"),
        ("directory", lambda p: p.mkdir(), "is a directory"),
        ("empty", lambda p: p.write_text(""), "is empty"),
        ("truncated", lambda p: p.write_text('{"schema": "cnn-parity-results/1", "par'), "line 1"),
        ("binary", lambda p: p.write_bytes(b"\xff\xfe\x00{"), "not UTF-8"),
    ],
)
def test_unreadable_files_give_one_line_and_status_2(tmp_path, capsys, name, make, problem):
    path = tmp_path / f"{name}.json"
    make(path)
    assert problem in _one_line_error(capsys, [str(path), "-o", str(tmp_path / "o.html")], path)


def test_a_malformed_benchmark_file_is_named(tmp_path, capsys):
    good = tmp_path / "results.json"
    good.write_text(json.dumps(sample.results()), encoding="utf-8")
    bench = tmp_path / "bench.json"
    bench.write_text(json.dumps({"benchmarks": {"a": 1}}), encoding="utf-8")
    argv = [str(good), "--benchmark", str(bench), "-o", str(tmp_path / "o.html")]
    assert "benchmarks: expected a list" in _one_line_error(capsys, argv, bench)


def test_the_command_line_prints_no_traceback(tmp_path):
    path = _write(tmp_path, "top-list", [])
    done = subprocess.run(
        [sys.executable, "-m", "reports", str(path), "-o", str(tmp_path / "o.html")],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr == f"reports: {path}: expected a JSON object at the top, got a list\n"


def test_the_plugins_own_results_pass_the_checks():
    assert schema.check_results(sample.results(), "sample.json")["schema"] == SCHEMA


hypothesis = pytest.importorskip("hypothesis")
st = pytest.importorskip("hypothesis.strategies")

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)


def _paths(value, prefix=()):
    """Every place in a JSON value, as a tuple of keys and indices."""
    yield prefix
    if isinstance(value, (dict, list)):
        children = value.items() if isinstance(value, dict) else enumerate(value)
        for key, child in children:
            yield from _paths(child, (*prefix, key))


@hypothesis.settings(max_examples=60, deadline=None)
@hypothesis.given(data=st.data())
def test_what_the_checks_accept_renders(data):
    """Replace any part of a valid results file with any JSON value: the checks refuse it
    with a ResultsError, or the page renders."""
    results = sample.results()
    results["parity"] = results["parity"][:6]
    where = data.draw(st.sampled_from(list(_paths(results))[1:]))
    parent = results
    for key in where[:-1]:
        parent = parent[key]
    parent[where[-1]] = data.draw(_JSON)
    try:
        schema.check_results(results, "mutated.json")
    except schema.ResultsError:
        return
    assert render.render([results]).startswith("<!DOCTYPE html>")
