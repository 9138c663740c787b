"""Named palettes: lookup, categorical cycling and continuous lookup tables."""

from __future__ import annotations

import numpy as np
import pytest

from ggrs import palettes
from ggrs.errors import UsageError


def test_palette_1_first_colours():
    colours = palettes.palette_colors("Palette-1")
    assert colours[:2] == ((0x1F, 0x78, 0xB4), (0xE3, 0x1A, 0x1C))
    assert len(colours) == 37


def test_names_are_case_insensitive():
    assert palettes.palette_colors("palette-1") == palettes.palette_colors("PALETTE-1")
    assert "Jet" in palettes.palette_names()


def test_unknown_palette_lists_the_names():
    with pytest.raises(UsageError, match=r"unknown palette 'Nope'; choose one of Jet, Spectral"):
        palettes.palette_colors("Nope")


def test_categorical_colours_cycle_past_the_end():
    base = palettes.palette_colors("Palette-1")
    colours = palettes.categorical_colors(40)
    assert len(colours) == 40
    assert colours[:37] == base
    assert colours[37:] == base[:3]
    assert palettes.categorical_colors(0) == ()


def test_eight_digit_colours_drop_alpha():
    assert palettes.palette_colors("Viridis")[0] == (0x44, 0x01, 0x54)


def test_jet_lut_ends_and_shape():
    lut = palettes.continuous_lut("Jet")
    assert lut.shape == (256, 3)
    assert lut.dtype == np.uint8
    assert lut[0].tolist() == [0x00, 0x00, 0x7F]
    assert lut[-1].tolist() == [0x7F, 0x00, 0x00]


def test_lut_interpolates_linearly_between_stops():
    lut = palettes.continuous_lut("Reds", n=5)  # #f7f7f7 → #ca0020
    start, end = np.array([0xF7, 0xF7, 0xF7]), np.array([0xCA, 0x00, 0x20])
    expected = np.rint(start + np.linspace(0, 1, 5)[:, None] * (end - start))
    np.testing.assert_array_equal(lut, expected)
    # Jet's 9 stops: entry 32 of 257 sits exactly on the second stop, #0000FF.
    assert palettes.continuous_lut("Jet", n=257)[32].tolist() == [0, 0, 255]
    with pytest.raises(UsageError, match="at least 2 entries"):
        palettes.continuous_lut("Jet", n=1)


def test_stops_are_evenly_spaced():
    jet = palettes.stops("jet")
    assert [p for p, _ in jet] == pytest.approx(np.linspace(0, 1, 9).tolist())
    assert jet[0] == (0.0, (0, 0, 0x7F))
    assert jet[-1] == (1.0, (0x7F, 0, 0))
