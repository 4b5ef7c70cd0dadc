"""The Inception variants page in AppTest: every block's numbers against ``explorer.analyze``."""

from __future__ import annotations

import explorer
from tests.pages.conftest import assert_clean, assert_notes_panel, metrics, text


def test_inception_page(open_page):
    at = open_page("inception")
    assert_clean(at)
    assert_notes_panel(at, "inception")
    table = at.table[0].value
    for model_id in table.index:
        s = explorer.analyze(model_id)
        assert table.loc[model_id, "parameters"].startswith(f"{s.total_params:,}")
        assert table.loc[model_id, "MACs"].startswith(f"{s.total_macs:,}")
        assert table.loc[model_id, "weight layers (longest path)"] == s.depth
        assert table.loc[model_id, "receptive field (px)"] == s.receptive_field.size
    assert list(table["weight layers (longest path)"]) == [2, 2, 3, 5, 3, 4]
    factor = at.table[1].value
    assert list(factor["weights kept"]) == ["72%", "29%", "67%"]
    assert "1×7 → 7×1: 57,344 params, field 7" in list(factor["replacement"])
    assert metrics(at)["Parameters"] == "1,297,408"
    at.selectbox(key="inc_block").set_value("inception-resnet-a").run()
    at.slider(key="inc_channels").set_value(32).run()
    assert_clean(at)
    assert metrics(at)["Parameters"] == "123,168"
    assert "3×3 → 3×3: 18,432 params, field 5" in list(at.table[1].value["replacement"])


def test_inception_claims_checked_beside_the_notes(open_page):
    at = open_page("inception")
    shown = text(at)
    assert "it replaces a **7×7** (Szegedy et al. 2016, Fig. 6)" in shown
    assert "| 1×7 → 7×1 | 7 | 7×7 | 516,096 vs 1,806,336 | 29% |" in shown
    assert "Inception-v4 itself has **no** residual connections" in shown
    assert "| Inception block 3a (four paths) | 163,696 | 128,337,664 | 1× |" in shown
    assert "| one 5×5 convolution, 192 → 256 | 1,229,056 | 963,579,904 | 7.5× |" in shown
