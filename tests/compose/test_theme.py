from __future__ import annotations

import pytest

from ggrs.compose.theme import (
    GREY85,
    GREY92,
    THEME_NAMES,
    WHITE,
    ThemeOverrides,
    apply_overrides,
    theme_by_name,
)
from ggrs.errors import UsageError

GREY50 = (127, 127, 127)

# name: (panel fill, major grid, minor grid, panel border, axis line, ticks)
EXPECTED = {
    "gray": (GREY92, True, True, False, False, True),
    "bw": (WHITE, True, True, True, False, True),
    "linedraw": (WHITE, True, True, True, False, True),
    "light": (WHITE, True, True, True, False, True),
    "dark": (GREY50, True, True, False, False, True),
    "minimal": (None, True, True, False, False, False),
    "classic": (WHITE, False, False, False, True, True),
    "void": (None, False, False, False, False, False),
    "publish": (WHITE, False, False, False, True, True),
}


def test_every_operator_theme_is_in_the_table():
    assert set(THEME_NAMES) == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_theme_table(name):
    theme = theme_by_name(name)
    fill, major, minor, border, line, ticks = EXPECTED[name]
    panel = theme.panel_background
    assert (panel.fill if panel is not None else None) == fill
    assert (theme.grid_major is not None) == major
    assert (theme.grid_minor is not None) == minor
    assert (theme.panel_border is not None) == border
    assert (theme.axis_line is not None) == line
    assert (theme.axis_ticks is not None) == ticks


def test_gray_matches_ggplot2_defaults():
    t = theme_by_name("gray")
    assert t.panel_background.fill == (0xEB, 0xEB, 0xEB)
    assert t.grid_major.colour == WHITE
    assert t.grid_minor.width == pytest.approx(t.grid_major.width / 2)
    assert t.strip_background.fill == GREY85 == (0xD9, 0xD9, 0xD9)
    assert t.strip_text.colour == (0x1A, 0x1A, 0x1A)
    assert t.axis_text.size == pytest.approx(8.8)
    assert t.axis_title.size == pytest.approx(11)
    assert t.title.size == pytest.approx(13.2)
    assert t.panel_spacing == pytest.approx(5.5)
    assert t.legend_position == "right"


def test_theme_by_name_is_case_insensitive():
    assert theme_by_name("BW") == theme_by_name("bw")
    assert theme_by_name(" Gray ") == theme_by_name("grey")


def test_unknown_theme_lists_the_names():
    with pytest.raises(UsageError, match="minimal") as err:
        theme_by_name("fancy")
    assert "fancy" in str(err.value)


def test_overrides_disable_elements():
    t = apply_overrides(
        theme_by_name("bw"),
        ThemeOverrides(
            grid_major_disable=True,
            grid_minor_disable=True,
            axis_lines_disable=True,
            text_disable=True,
        ),
    )
    assert t.grid_major is None and t.grid_minor is None
    assert t.panel_border is None and t.axis_ticks is None and t.axis_line is None
    assert t.axis_text is None and t.axis_title is None and t.title is None
    # Strips and legend keep their text.
    assert t.strip_text is not None and t.legend_text is not None


def test_overrides_sizes_and_positions():
    base = theme_by_name("classic")
    t = apply_overrides(
        base,
        ThemeOverrides(
            title_font_size=20,
            axis_label_font_size=14,
            axis_tick_font_size=6,
            axis_line_width=2,
            legend_position="Bottom",
            legend_justification=(0, 1),
            title_position="LEFT",
            title_justification=(0.5, 0.25),
            x_tick_rotation=45,
        ),
    )
    assert (t.title.size, t.axis_title.size, t.axis_text.size) == (20, 14, 6)
    assert t.axis_line.width == 2
    assert t.legend_position == "bottom" and t.legend_justification == (0, 1)
    assert t.title_position == "left" and t.title_justification == (0.5, 0.25)
    assert t.x_tick_angle == 45 and t.y_tick_angle == 0
    assert base.title.size == pytest.approx(13.2)  # the base theme is untouched


def test_empty_overrides_change_nothing():
    for name in THEME_NAMES:
        assert apply_overrides(theme_by_name(name), ThemeOverrides()) == theme_by_name(name)


@pytest.mark.parametrize(
    "overrides",
    [
        ThemeOverrides(legend_position="middle"),
        ThemeOverrides(title_position="centre"),
        ThemeOverrides(legend_position_inside=(1.5, 0.5)),
        ThemeOverrides(title_justification=(0.5, -0.1)),
        ThemeOverrides(axis_tick_font_size=0),
        ThemeOverrides(axis_line_width=-1),
        ThemeOverrides(x_tick_rotation=float("nan")),
    ],
)
def test_bad_overrides_raise_usage_error(overrides):
    with pytest.raises(UsageError):
        apply_overrides(theme_by_name("gray"), overrides)
