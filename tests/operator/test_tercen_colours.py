"""Tercen's continuous palettes: elements, the quartile rescale, and the data-unit LUT."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from ggrs import palettes
from ggrs.errors import DataError, UsageError
from ggrs.tercen import colours, context
from proto import tercen_pb2

RDBU = ((0xEF, 0x8A, 0x62), (0xF7, 0xF7, 0xF7), (0x67, 0xA9, 0xCF))
BLACK, WHITE, RED = (0, 0, 0), (255, 255, 255), (255, 0, 0)


def spec(elements, *, palette="RdBu", user_defined=False, quartiles=None, continuous=True):
    table = None
    if quartiles is not None:
        table = context.TableInfo("colour-table", 0, ("v",), "color_0", {"v": quartiles})
    return context.ColourSpec("v", continuous, palette, user_defined, table, tuple(elements))


def test_named_palette_is_spread_over_the_elements_range():
    # Two elements say where the scale starts and ends; their colours are not used.
    stops = colours.palette_stops([(8.0, BLACK), (0.0, RED)], "RdBu", keep_elements=False)
    assert stops == ((0.0, RDBU[0]), (4.0, RDBU[1]), (8.0, RDBU[2]))


def test_quartile_rescale_is_linear_onto_median_plus_minus_one_and_a_half_iqr():
    stops = ((0.0, RDBU[0]), (4.0, RDBU[1]), (8.0, RDBU[2]))
    # Q1=1, Q2=3, Q3=5: IQR 4, new range [3 - 6, 3 + 6] = [-3, 9]; factor 12/8.
    assert colours.quartile_rescale(stops, (1.0, 3.0, 5.0)) == (
        (-3.0, RDBU[0]),
        (3.0, RDBU[1]),
        (9.0, RDBU[2]),
    )
    # Uneven stops keep their relative positions.
    uneven = ((10.0, BLACK), (12.0, RED), (18.0, WHITE))
    assert colours.quartile_rescale(uneven, (1.0, 3.0, 5.0)) == (
        (-3.0, BLACK),
        (0.0, RED),
        (9.0, WHITE),
    )


def test_continuous_stops_rescale_unless_user_defined():
    elements = [(0.0, BLACK), (8.0, WHITE)]
    rescaled = colours.continuous_stops(spec(elements, quartiles=(1.0, 3.0, 5.0)), "RdBu")
    assert rescaled == ((-3.0, RDBU[0]), (3.0, RDBU[1]), (9.0, RDBU[2]))
    # No quartiles in the colour table's schema: the spread palette as it is.
    plain = colours.continuous_stops(spec(elements), "RdBu")
    assert plain == ((0.0, RDBU[0]), (4.0, RDBU[1]), (8.0, RDBU[2]))
    # User-defined: the user's own values and colours, never rescaled.
    mine = spec([(8.0, WHITE), (2.0, RED), (0.0, BLACK)], user_defined=True, quartiles=(1, 3, 5))
    assert colours.continuous_stops(mine, "RdBu") == ((0.0, BLACK), (2.0, RED), (8.0, WHITE))


def test_divergent_ramp_keeps_its_elements_but_is_rescaled():
    elements = [(-1.0, BLACK), (0.0, WHITE), (1.0, RED)]
    divergent = spec(elements, palette="Divergent", quartiles=(0.0, 1.0, 2.0))
    # [-1, 1] → [1 - 3, 1 + 3] = [-2, 4]: factor 3.
    assert colours.continuous_stops(divergent, "Spectral") == (
        (-2.0, BLACK),
        (1.0, WHITE),
        (4.0, RED),
    )


def test_zero_iqr_or_one_value_keeps_the_stops_with_a_warning(caplog):
    stops = ((0.0, BLACK), (1.0, WHITE))
    with caplog.at_level(logging.WARNING, logger="ggrs.tercen"):
        assert colours.quartile_rescale(stops, (2.0, 2.0, 2.0)) == stops
    assert "cannot rescale" in caplog.text
    flat = ((5.0, BLACK), (5.0, WHITE))
    assert colours.quartile_rescale(flat, (1.0, 2.0, 3.0)) == flat


def test_no_elements_leaves_the_range_to_the_data_and_categories_have_no_stops():
    assert colours.continuous_stops(spec([]), "Viridis") is None
    with pytest.raises(DataError, match="categorical"):
        colours.continuous_stops(spec([(0.0, BLACK)], continuous=False), "Palette-1")
    with pytest.raises(DataError, match="no colour elements"):
        colours.palette_stops([], "Jet", keep_elements=False)
    with pytest.raises(UsageError, match="unknown palette 'Nope'"):
        colours.palette_stops([(0.0, BLACK), (1.0, WHITE)], "Nope", keep_elements=False)


def test_crosstab_palette_elements_are_read_as_rgb():
    assert context.argb_to_rgb(-16776961) == (0, 0, 255)  # opaque blue
    assert context.argb_to_rgb(-65536) == (255, 0, 0)  # opaque red
    assert context.argb_to_rgb(-1) == (255, 255, 255)
    assert context.argb_to_rgb(0x00123456) == (0x12, 0x34, 0x56)  # alpha ignored
    jet = tercen_pb2.JetPalette(isUserDefined=True)
    jet.doubleColorElements.add(color=-16776961, stringValue="-2.5")
    jet.doubleColorElements.add(color=-65536, stringValue="7")
    palette = context._palette(tercen_pb2.EPalette(jetpalette=jet))
    assert (palette.name, palette.continuous, palette.user_defined) == ("Jet", True, True)
    assert palette.elements == ((-2.5, (0, 0, 255)), (7.0, (255, 0, 0)))
    ramp = tercen_pb2.RampPalette()
    ramp.doubleColorElements.add(color=-1, stringValue="high")
    with pytest.raises(DataError, match="value 'high' is not a finite number"):
        context._palette(tercen_pb2.EPalette(ramppalette=ramp))


def test_data_stops_lut_places_colours_at_data_values():
    scaled = palettes.data_stops_lut(((-3.0, BLACK), (9.0, WHITE)), n=5)
    # Entries at -3, 0, 3, 6, 9: 0, 63.75, 127.5, 191.25, 255, rounded half to even.
    np.testing.assert_array_equal(scaled.lut[:, 0], [0, 64, 128, 191, 255])
    assert scaled.lut.dtype == np.uint8
    assert scaled.limits == (-3.0, 9.0)
    assert scaled.stops == ((0.0, BLACK), (1.0, WHITE))
    three = palettes.data_stops_lut(((-3.0, BLACK), (0.0, RED), (9.0, WHITE)), n=5)
    assert three.stops == ((0.0, BLACK), (0.25, RED), (1.0, WHITE))
    np.testing.assert_array_equal(three.lut[1], RED)  # the entry at 0 is the stop's colour
    np.testing.assert_array_equal(three.lut[2], [255, 85, 85])  # a third of the way to white


@pytest.mark.parametrize(
    ("stops", "message"),
    [
        (((0.0, BLACK),), "at least two"),
        (((1.0, BLACK), (0.0, WHITE)), "increasing order"),
        (((0.0, BLACK), (float("nan"), WHITE)), "finite"),
        (((2.0, BLACK), (2.0, WHITE)), "all sit at 2"),
        (((0.0, BLACK), (1.0, (256, 0, 0))), "0-255"),
    ],
)
def test_data_stops_lut_refuses_bad_stops(stops, message):
    with pytest.raises(DataError, match=message):
        palettes.data_stops_lut(stops)


def test_data_stops_lut_needs_two_entries():
    with pytest.raises(UsageError, match="at least 2 entries"):
        palettes.data_stops_lut(((0.0, BLACK), (1.0, WHITE)), n=1)


@pytest.mark.parametrize(
    ("elements", "user_defined", "quartiles"),
    [
        (((5.0, (0, 0, 255)), (5.0, (255, 0, 0))), False, (5.0, 5.0, 5.0)),  # constant column
        (((1.0, (0, 0, 255)),), True, None),  # a one-element user palette
    ],
)
def test_stops_without_a_span_are_widened_around_their_value(elements, user_defined, quartiles):
    table = context.TableInfo("t", 0, ("v",), "color_0", {"v": quartiles}) if quartiles else None
    spec = context.ColourSpec("v", True, "Jet", user_defined, table, elements)
    stops = colours.continuous_stops(spec, "Jet")
    value = elements[0][0]
    assert [v for v, _ in stops] == pytest.approx([value * 0.95, value * 1.05])
    # The palette's two ends (Jet's for a Jet palette, the user's own colour else).
    ends = (palettes.stops("Jet")[0][1], palettes.stops("Jet")[-1][1])
    assert (stops[0][1], stops[-1][1]) == (ends if not user_defined else (elements[0][1],) * 2)
    palettes.data_stops_lut(stops)  # usable: no DataError
