"""The networks section's layer-by-layer localization (reports/localization.py): one chart
of error/bound along depth per network, isolated and propagated per framework, the
divergence marked; the command's standalone page."""

from __future__ import annotations

from reports import localization, tables
from reports.render import localization_page


def _record(framework, isolated, divergence=None):
    layers = [
        {
            "index": i,
            "nodes": [f"n{i}"],
            "ops": "conv2d",
            "label": f"n{i}: Conv2D()",
            "isolated": v,
            "isolated_tight": v,
            "propagated": v / 2,
            "propagated_rel": 1e-7,
            "passed": v <= 1,
        }
        for i, v in enumerate(isolated)
    ]
    return {
        "network": "net",
        "adapter": framework,
        "check": "localization",
        "localization": {"layers": layers, "divergence": divergence},
    }


DIVERGENCE = {"index": 2, "label": "n2: AveragePooling2D()", "row": "r", "message": "net: row r"}


def test_chart_has_both_comparisons_per_framework_and_marks_the_divergence():
    records = [_record("torch", [0.1, 0.0, 0.2]), _record("keras", [0.1, 0.3, 40.0], DIVERGENCE)]
    section = localization.section(records)
    names = [line["name"] for line in section["chart"]["lines"]]
    assert names == ["torch isolated", "torch propagated", "keras isolated", "keras propagated"]
    assert [m["label"] for m in section["chart"]["markers"]] == ["keras: layer 2"]
    assert section["chart"]["level_y"] is not None  # the bound, 1
    assert section["divergences"] == [{"framework": "keras", **DIVERGENCE}]


def test_networks_table_and_page_carry_the_section():
    records = [_record("keras", [0.1, 0.3, 40.0], DIVERGENCE)]
    (network,) = tables.networks(records)
    assert network["localization"]["tables"][0]["framework"] == "keras"
    page = localization_page(records, title="net")
    assert page.count("<polyline") == 2
    assert "net: row r" in page
    assert "n2: Conv2D()" in page  # the per-layer table
    assert "keras: layer 2" in page  # the divergence marker


def test_no_localization_records_no_section():
    assert localization.section([{"network": "net", "adapter": "torch"}]) is None
    (network,) = tables.networks([{"network": "net", "adapter": "torch"}])
    assert network["localization"] is None
