"""The Pooling page in AppTest: the pooled grids and formulas, against the lesson's own functions."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.lessons import pooling
from explorer.runtime import data
from tests.pages.conftest import assert_clean, assert_notes_panel, figures, text, title, values


def test_pooling_defaults(open_page):
    at = open_page("pooling")
    assert_clean(at)
    assert_notes_panel(at, "pooling")
    grid = pooling.sample_grid(6, 0)
    shown = text(at)
    assert "⌊(6 + 2·0 − 2)/2⌋ + 1 = **3**" in shown
    assert f"`{pooling.explain(grid, 'max', 2, 2, 0, 0, 0)}`" in shown
    assert f"`{pooling.explain(grid, 'avg', 2, 2, 0, 0, 0)}`" in shown
    figs = {title(f): f for f in figures(at)}
    assert np.allclose(values(figs["Max pooling 3×3"]["data"][0]["z"]), pooling.pool(grid, "max", 2, 2))
    assert np.allclose(values(figs["Average pooling 3×3"]["data"][0]["z"]), pooling.pool(grid, "avg", 2, 2))
    table = at.table[0].value
    assert list(table["parameters"]) == ["156", "89,856", "2,712,960"]


def test_pooling_window_stride_padding_and_cell(open_page):
    at = open_page("pooling")
    at.slider(key="pool_k").set_value(3).run()
    at.slider(key="pool_s").set_value(2).run()
    at.slider(key="pool_p_3").set_value(1).run()
    at.slider(key="pool_row_3").set_value(2).run()
    at.slider(key="pool_col_3").set_value(1).run()
    assert_clean(at)
    grid = pooling.sample_grid(6, 0)
    shown = text(at)
    assert "⌊(6 + 2·1 − 3)/2⌋ + 1 = **3**" in shown
    assert f"`{pooling.explain(grid, 'max', 3, 2, 1, 2, 1)}`" in shown
    assert f"`{pooling.explain(grid, 'avg', 3, 2, 1, 2, 1)}`" in shown
    assert "count_include_pad" in shown


@pytest.mark.usefixtures("fashion_mnist")
def test_pooling_an_image(open_page):
    at = open_page("pooling")
    at.radio(key="pool_source").set_value("image").run()
    assert_clean(at)
    raw, _ = data.sample(0)
    figs = {title(f): f for f in figures(at)}
    avg = values(figs["Average pooling 14×14"]["data"][0]["z"])
    assert np.allclose(avg, pooling.pool(raw.astype(float), "avg", 2, 2))
