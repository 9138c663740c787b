"""Operator properties: defaults, typed values, and refusal of bad values."""

from __future__ import annotations

import json

import pytest

from ggrs.errors import UsageError
from ggrs.properties import PROPERTIES, parse_properties, read_properties_file


def test_defaults_are_typed_values():
    props = parse_properties({})
    assert set(props) == set(PROPERTIES)
    assert props["theme"] == "gray"
    assert props["plot.width"] is None
    assert props["opacity"] == 1.0
    assert props["grid.major.disable"] is False
    assert props["point.shapes"] == (19,)
    assert props["plot.title.justification"] == (0.5, 0.5)
    assert props["legend.position.inside"] is None
    assert props["axis.tick.font.size"] is None
    assert props["filename"] == "plot"


@pytest.mark.parametrize(
    ("name", "raw", "value"),
    [
        ("theme", "BW", "bw"),
        ("plot.width", "1200", 1200),
        ("plot.width", "auto", None),
        ("plot.height", "", None),
        ("opacity", "0.25", 0.25),
        ("grid.minor.disable", "yes", True),
        ("grid.minor.disable", True, True),
        ("text.disable", "0", False),
        ("legend.position.inside", "0.1,0.9", (0.1, 0.9)),
        ("point.shapes", "19;;17; 0", (19, 17, 0)),
        ("axis.x.tick.rotation", "45", 45.0),
        ("point.size.multiplier", 2, 2.0),
        ("filename", "", "plot"),
        ("plot.title", "Crabs ✓", "Crabs ✓"),
    ],
)
def test_values_parse(name, raw, value):
    assert parse_properties({name: raw})[name] == value


@pytest.mark.parametrize(
    ("name", "raw", "allowed"),
    [
        ("theme", "neon", "allowed: gray, bw"),
        ("plot.width", "0", "[100, 128000]"),
        ("plot.width", "99999999", "[100, 128000]"),
        ("plot.height", "tall", "'auto'"),
        ("opacity", "1.5", "[0.0, 1.0]"),
        ("opacity", "nan", "finite"),
        ("grid.major.disable", "maybe", "true/false"),
        ("legend.position.inside", "2,0", "[0, 1]"),
        ("point.shapes", "99", "0-25"),
        ("axis.y.tick.rotation", "abc", "number"),
        ("axis.x.range", "5,1", "min must be below max"),
        ("axis.y.transform", "log3", "log10"),
        ("heatmap.cell.aggregation", "mode", "last, first, mean, median"),
        ("output.format", "gif", "allowed: png"),
        ("axis.tick.font.size", "-3", "> 0"),
    ],
)
def test_bad_values_name_property_value_and_rule(name, raw, allowed):
    with pytest.raises(UsageError) as info:
        parse_properties({name: raw})
    message = str(info.value)
    assert name in message
    assert repr(raw) in message
    assert allowed in message
    assert info.value.exit_code == 2


def test_unknown_names_fail_unless_ignored():
    with pytest.raises(UsageError, match=r"unknown properties: plot\.colour"):
        parse_properties({"plot.colour": "red"})
    assert parse_properties({"plot.colour": "red"}, ignore_unknown=True)["theme"] == "gray"


def test_properties_file(tmp_path):
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"theme": "dark", "text.disable": True, "opacity": 0.5}))
    props = parse_properties(read_properties_file(path))
    assert (props["theme"], props["text.disable"], props["opacity"]) == ("dark", True, 0.5)


@pytest.mark.parametrize(
    ("content", "problem"),
    [("{", "not valid JSON"), ("[1]", "JSON object"), ('{"theme": [1]}', "theme must be")],
)
def test_bad_properties_files(tmp_path, content, problem):
    path = tmp_path / "p.json"
    path.write_text(content)
    with pytest.raises(UsageError, match=problem):
        read_properties_file(path)


def test_missing_properties_file(tmp_path):
    with pytest.raises(UsageError, match="does not exist"):
        read_properties_file(tmp_path / "none.json")
