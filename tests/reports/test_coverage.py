"""The coverage scoreboard: which declared attribute values each layer x adapter exercised,
computed from the records and the suite's domains (``tests.layers.coverage_domains``)."""

from __future__ import annotations

import json

from reports import coverage, render
from tests import layers
from tests.reports import sample


def _board(data: dict) -> dict:
    context = render.build_context([data])
    return {
        (entry["layer"], column["adapter"]): column
        for entry in context["coverage"]
        for column in entry["columns"]
    }


def test_values_no_comparison_ran_with_are_listed_as_never_exercised():
    column = _board(sample.results())[("maxpool2d", "torch")]
    assert column["status"] == "run"
    assert column["cells"]["dilation"]["exercised"] == ["1"]
    assert column["cells"]["dilation"]["never"] == [">1"]
    assert column["cells"]["padding"]["never"] == ["valid", "same"]
    assert column["summary"] == "never exercised: dilation: >1; padding: valid, same"
    assert column["n_exercised"] == 2


def test_unsupported_and_skipped_comparisons_exercise_nothing():
    data = sample.results()
    for r in data["parity"]:
        if (r["layer"], r["adapter"]) == ("maxpool2d", "keras"):
            r.update(outcome="unsupported", unsupported="keras has no such pooling")
    board = _board(data)
    assert board[("maxpool2d", "keras")]["status"] == "not run"
    assert board[("maxpool2d", "keras")]["n_exercised"] == 0
    # One direction passed, the other was unsupported: the case was exercised.
    assert board[("maxpool2d", "scipy")]["cells"]["padding"]["exercised"] == ["0"]
    # relu x scipy: framework missing, every record skipped.
    data["domains"]["relu"] = {"attributes": {"inplace": ["False"]}, "cases": {}}
    assert _board(data)[("relu", "scipy")]["status"] == "not run"


def test_a_failing_comparison_exercises_its_values():
    board = _board(sample.results(torch_conv_outcome="fail"))
    assert board[("conv2d", "torch")]["cells"]["b"]["exercised"] == ["given"]
    assert board[("conv2d", "torch")]["cells"]["b"]["never"] == ["None"]


def test_a_pair_without_a_method_is_not_implemented():
    data = sample.results()
    data["domains"][sample.ABSENT_LAYER] = {
        "attributes": {"mode": ["valid", "full", "same"]},
        "cases": {"corr_basic": {"mode": "valid"}},
    }
    board = _board(data)
    assert board[(sample.ABSENT_LAYER, "torch")]["status"] == "not implemented"
    assert board[(sample.ABSENT_LAYER, "torch")]["summary"] == "torch has no correlate"
    assert board[(sample.ABSENT_LAYER, "scipy")]["cells"]["mode"]["never"] == ["full", "same"]
    html = render.render([data])
    section = html.split('id="coverage"', 1)[1].split('id="cases"', 1)[0]
    assert "torch has no correlate" in section
    assert '<span class="chip never">full</span>' in section


def test_values_outside_the_domain_are_shown_as_undeclared():
    data = sample.results()
    data["domains"]["conv2d"]["cases"]["conv2d_basic"]["stride"] = "(h, w)"
    cell = _board(data)[("conv2d", "keras")]["cells"]["stride"]
    assert cell["exercised"] == ["(h, w)"]
    assert cell["undeclared"] == ["(h, w)"]
    assert cell["never"] == ["1", ">1"]


def test_domains_of_several_runs_merge():
    a, b = sample.results("a"), sample.results("b")
    b["domains"]["conv2d"]["attributes"]["groups"] = ["1", ">1"]
    merged = coverage.merge_domains([a, b])
    assert merged["conv2d"]["attributes"]["groups"] == ["1", ">1"]
    assert merged["conv2d"]["attributes"]["stride"] == ["1", ">1"]


def test_suite_names_the_values_each_declared_case_exercises():
    domains = layers.coverage_domains()
    json.dumps(domains)  # plain JSON for the results file
    assert set(domains) == {info.name for info in layers.all_layers() if info.attributes}
    conv = domains["conv2d"]["cases"]
    # Explicit attributes, inputs by presence, and the reference's defaults otherwise.
    assert conv["conv_stride2"] == {
        "stride": ">1",
        "padding": "0",
        "dilation": "1",
        "groups": "1",
        "b": "given",
    }
    assert conv["conv_no_bias"]["b"] == "None"
    assert conv["conv_valid_str"]["padding"] == "valid"
    entropy = domains["cross_entropy"]["cases"]
    assert entropy["ce_index_mean"]["target"] == "indices"
    assert entropy["ce_prob_sum"] == {
        "reduction": "sum",
        "target": "probabilities",
        "label_smoothing": "0.0",
    }
