"""The recording plugin, run on a generated test module through pytester: the records, the
outcomes and reasons, the options, and the same records under ``pytest -n 2``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

GENERATED = '''
import pytest

LAYERS = ["conv2d", "relu", "softmax"]


class Version(str):
    """Like torch's TorchVersion: a str subclass that execnet cannot serialize."""


class Error(float):
    pass

ADAPTERS = ["torch", "keras", "jax"]


def record(layer, adapter, **extra):
    rec = {"layer": layer, "case": layer + "_basic", "adapter": adapter,
           "framework_version": "1.0", "dtype": "float32", "direction": "forward",
           "max_abs_err": 1e-7, "max_rel_err": 1e-6, "err_to_bound": 0.5,
           "tolerance": 2e-7, "kind": "elementwise", "provenance": "generated",
           "attrs": {}, "shapes": {"x": [2, 3]}, "repro": "pass", "unsupported": None}
    rec.update(extra)
    return rec


@pytest.mark.parametrize("adapter", ADAPTERS)
@pytest.mark.parametrize("layer", LAYERS)
def test_parity(request, layer, adapter):
    request.node.user_properties.append(
        ("parity", record(layer, adapter, framework_version=Version("9.9"),
                          max_abs_err=Error(1e-7), shapes={"x": (2, 3)})))
    request.node.user_properties.append(("unrelated", {"ignored": True}))


def test_failing(request):
    request.node.user_properties.append(("parity", record("conv2d", "scipy", err_to_bound=4.0)))
    assert 4.0 <= 1.0, "conv2d-scipy error over bound"


def test_unsupported(request):
    request.node.user_properties.append(
        ("parity", record("relu", "scipy", unsupported="scipy has no ReLU")))
    pytest.skip("unsupported by scipy: scipy has no ReLU")


def test_missing(request):
    request.node.user_properties.append(("parity", record("softmax", "scipy")))
    pytest.skip("scipy not installed: No module named 'scipy'")


@pytest.mark.xfail(strict=True, reason="known divergence: documented")
def test_known(request):
    request.node.user_properties.append(("parity", record("conv2d", "tensorflow")))
    assert False


def test_convention(request):
    request.node.user_properties.append(("convention", {"name": "momentum", "ok": True}))


def test_network(request):
    request.node.user_properties.append(
        ("network", {"network": "seed000", "adapter": "torch", "divergence": [1e-8, 2e-8]}))
'''


ROOT = Path(__file__).resolve().parents[2]


def _plugin_args() -> list[str]:
    """The plugin is this suite's (loaded by its conftest), so other runs name it."""
    return ["-p", "reports.plugin"]


def _child_env() -> dict[str, str]:
    """The environment of a child pytest outside the checkout, with the checkout importable
    (the suite installs no packages of its own)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "CNN_PARITY"))}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def _run_inline(pytester, *args):
    """In-process run (fast) for the option tests."""
    pytester.makepyfile(test_generated=GENERATED)
    result = pytester.runpytest("-p", "no:cacheprovider", *_plugin_args(), *args)
    result.assert_outcomes(passed=11, failed=1, skipped=2, xfailed=1)
    return result


def _load(path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _canonical(results: dict) -> list[tuple]:
    """Every record without its duration and run id (the fields that differ between runs)."""
    out = []
    for kind in ("parity", "conventions", "networks"):
        for r in results[kind]:
            fields = {k: v for k, v in r.items() if k not in ("duration", "run_id")}
            out.append((kind, json.dumps(fields, sort_keys=True)))
    return sorted(out)


@pytest.fixture(scope="module")
def serial_and_parallel(tmp_path_factory):
    """The generated module run serially and with ``-n 2``, each in a fresh pytest process
    (so xdist really starts workers); returns {name: (stdout, results JSON, html path)}."""
    pytest.importorskip("xdist")
    base = tmp_path_factory.mktemp("generated")
    (base / "test_generated.py").write_text(GENERATED, encoding="utf-8")
    env = _child_env()
    runs = {}
    for name, xdist_args in (("serial", []), ("parallel", ["-n", "2"])):
        json_path, html_path = base / f"{name}.json", base / f"{name}.html"
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-p",
                "no:cacheprovider",
                *_plugin_args(),
                "--parity-json",
                str(json_path),
                "--parity-report",
                str(html_path),
                *xdist_args,
            ],
            cwd=base,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 1, done.stdout + done.stderr  # test_failing fails
        assert "1 failed, 11 passed, 2 skipped, 1 xfailed" in done.stdout, done.stdout
        runs[name] = (done.stdout, _load(json_path), html_path)
    return runs


def test_xdist_records_the_same_comparisons_as_a_serial_run(serial_and_parallel):
    serial, parallel = serial_and_parallel["serial"][1], serial_and_parallel["parallel"][1]
    assert "2 workers" in serial_and_parallel["parallel"][0]
    assert parallel["run"]["xdist_workers"] == 2
    assert serial["run"]["complete"] is parallel["run"]["complete"] is True
    assert len(serial["parity"]) == 13
    assert len(serial["conventions"]) == 1
    assert len(serial["networks"]) == 1
    assert _canonical(serial) == _canonical(parallel)
    for name in ("serial", "parallel"):
        html = serial_and_parallel[name][2].read_text(encoding="utf-8")
        assert html.count('class="case f-group"') == 3


def test_records_carry_test_id_outcome_reason_and_duration(serial_and_parallel):
    data = serial_and_parallel["serial"][1]
    by_test = {r["test_id"].split("::")[1]: r for r in data["parity"]}
    assert by_test["test_parity[conv2d-torch]"]["outcome"] == "pass"
    assert by_test["test_parity[conv2d-torch]"]["duration"] >= 0
    assert by_test["test_parity[conv2d-torch]"]["framework_version"] == "9.9"
    assert by_test["test_parity[conv2d-torch]"]["shapes"] == {"x": [2, 3]}
    failing = by_test["test_failing"]
    assert failing["outcome"] == "fail"
    assert "conv2d-scipy error over bound" in failing["reason"]
    assert "assert 4.0 <= 1.0" in failing["traceback"]
    assert by_test["test_unsupported"]["outcome"] == "unsupported"
    assert by_test["test_unsupported"]["reason"] == "unsupported by scipy: scipy has no ReLU"
    assert by_test["test_missing"]["outcome"] == "skipped"
    assert by_test["test_missing"]["reason"].startswith("scipy not installed")
    assert by_test["test_known"]["outcome"] == "xfail"
    assert by_test["test_known"]["reason"] == "known divergence: documented"
    assert [c["name"] for c in data["conventions"]] == ["momentum"]
    assert data["networks"][0]["divergence"] == [1e-8, 2e-8]
    assert data["run"]["tests"] == {"pass": 11, "fail": 1, "skipped": 2, "xfail": 1}
    env = data["environment"]
    assert env["python"]
    assert env["cpu"]
    assert env["versions"]["pytest"] == pytest.__version__
    assert "OMP_NUM_THREADS" in env["determinism"]["env"]


def test_default_paths_env_name_and_terminal_line(pytester, monkeypatch):
    monkeypatch.setenv("CNN_PARITY_ENV", "py311-tf216")
    result = _run_inline(pytester)
    out = pytester.path / "reports" / "out"
    assert sorted(p.name for p in out.iterdir()) == [
        "report-py311-tf216.html",
        "results-py311-tf216.json",
    ]
    assert _load(out / "results-py311-tf216.json")["run"]["env_name"] == "py311-tf216"
    result.stdout.fnmatch_lines([f"cnn-parity HTML report: {out / 'report-py311-tf216.html'}*"])


def test_parity_report_sets_the_html_path(pytester, tmp_path):
    target = tmp_path / "elsewhere" / "page.html"
    result = _run_inline(pytester, "--parity-report", str(target))
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    result.stdout.fnmatch_lines([f"cnn-parity HTML report: {target}*"])


def test_no_parity_report_writes_nothing(pytester):
    result = _run_inline(pytester, "--no-parity-report")
    assert not (pytester.path / "reports").exists()
    assert "cnn-parity HTML report" not in result.stdout.str()
    assert "cnn-parity results JSON" not in result.stdout.str()


def test_options_pass_strict_config(pytester, tmp_path):
    pytester.makepyprojecttoml('[tool.pytest.ini_options]\naddopts = ["--strict-config"]\n')
    _run_inline(pytester, "--parity-json", str(tmp_path / "x.json"), "--no-parity-report")
    assert _load(tmp_path / "x.json")["schema"] == "cnn-parity-results/1"


def test_an_unrelated_project_gets_no_report(tmp_path):
    """Installing this suite's environment must not make every pytest run write reports:
    the plugin is no pytest11 entry point, and a one-test project stays untouched."""
    assert "cnn_parity_report" not in {ep.name for ep in metadata.entry_points(group="pytest11")}
    (tmp_path / "test_one.py").write_text("def test_one():\n    assert True\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "CNN_PARITY"))}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*"))
    assert not [p for p in written if "report" in p or p.endswith(".json")], written
    assert "cnn-parity" not in done.stdout


def test_the_suites_declarations_reach_the_results(pytester, tmp_path):
    """What the conftest stashes (layers, adapters, absent pairs, attribute domains) is
    written to the results JSON for the report's matrix and coverage scoreboard."""
    suite = {
        "layers": ["conv2d", "relu", "softmax"],
        "adapters": ["torch", "keras", "jax"],
        "absent": [{"layer": "softmax", "adapter": "keras", "reason": "keras has no softmax"}],
        "domains": {
            "conv2d": {
                "attributes": {"stride": ["1", ">1"]},
                "cases": {"conv2d_basic": {"stride": "1"}},
            }
        },
    }
    pytester.makeconftest(
        "from reports.plugin import SUITE\n\n"
        "def pytest_configure(config):\n"
        f"    config.stash[SUITE] = {suite!r}\n"
    )
    _run_inline(pytester, "--parity-json", str(tmp_path / "x.json"), "--no-parity-report")
    data = _load(tmp_path / "x.json")
    assert {key: data[key] for key in suite} == suite
