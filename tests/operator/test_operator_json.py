"""operator.json declares exactly the properties the code accepts, with the same defaults."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ggrs import properties

REPO = Path(__file__).resolve().parent.parent.parent
SPEC = json.loads((REPO / "operator.json").read_text(encoding="utf-8"))
DECLARED = {p["name"]: p for p in SPEC["properties"]}


def test_header():
    assert SPEC["container"] == "ghcr.io/tercen/ggrs_plot_operator"
    assert SPEC["name"] and SPEC["description"]
    assert SPEC["communicationProtocol"] == "grpc"


def test_every_declared_property_is_accepted_by_the_code():
    assert sorted(set(DECLARED) - set(properties.PROPERTIES)) == []


def test_every_property_of_the_code_is_declared():
    assert sorted(set(properties.PROPERTIES) - set(DECLARED)) == []
    assert len(SPEC["properties"]) == len(DECLARED), "a property is declared twice"


@pytest.mark.parametrize("name", sorted(properties.PROPERTIES))
def test_kind_default_description_and_choices_agree(name):
    code, declared = properties.PROPERTIES[name], DECLARED[name]
    assert declared["kind"] == code.kind
    assert declared["defaultValue"] == code.default
    assert declared["description"] == code.description
    if code.kind == "EnumeratedProperty":
        assert declared["values"] == list(code.choices)
        assert declared["defaultValue"] in declared["values"]
    # The declared default must parse: Tercen sends it back verbatim.
    value = declared["defaultValue"]
    properties.parse_properties({name: value if isinstance(value, str) else str(value).lower()})


def test_crosstab_input_spec():
    (spec,) = SPEC["operatorSpec"]["inputSpecs"]
    assert spec["kind"] == "CrosstabSpec"
    names = [m["name"] for m in spec["metaFactors"]]
    axis = [m["name"] for m in spec["axis"][0]["metaFactors"]]
    assert names == ["Page", "Rows", "Columns"]
    assert axis == ["Y Axis", "X Axis", "Colors", "Labels"]
    # The operator finds page factors by this name (ggrs.tercen.context).
    assert spec["metaFactors"][0]["name"].lower() == "page"
