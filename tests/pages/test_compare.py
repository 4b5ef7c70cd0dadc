"""The Compare page in AppTest: several models side by side, from a link and from its widgets."""

from __future__ import annotations

from tests.pages.conftest import (
    ALEXNET_PARAMS,
    VGG16_PARAMS,
    assert_clean,
    assert_no_exception,
    errors,
    figures,
)


def test_compare_models_from_link(open_page):
    at = open_page("compare", models="lenet,alexnet,vgg16")
    assert_clean(at)
    assert at.multiselect(key="compare_models").value == ["lenet", "alexnet", "vgg16"]
    table = at.table[0].value
    assert list(table.index) == ["lenet", "alexnet", "vgg16"]
    assert table.loc["alexnet", "parameters"] == f"{ALEXNET_PARAMS} (62.4 M)"
    assert table.loc["vgg16", "parameters"] == f"{VGG16_PARAMS} (138 M)"
    assert table.loc["lenet", "parameters"] == "61,706 (61.7 K)"
    shown = figures(at)
    assert len(shown) == 4
    for fig in shown:
        assert fig["data"][0]["x"] == ["lenet", "alexnet", "vgg16"]
    params = next(f for f in shown if f["layout"]["title"]["text"] == "Parameters")
    assert params["data"][0]["y"] == [61_706, 62_378_344, 138_357_544]


def test_compare_multiselect_and_log_toggle(open_page):
    at = open_page("compare", models="lenet,alexnet,vgg16")
    assert at.toggle(key="compare_log").value is True
    assert {f["layout"]["yaxis"]["type"] for f in figures(at)} == {"log"}

    at.toggle(key="compare_log").set_value(False).run()
    assert_no_exception(at)
    assert {f["layout"]["yaxis"]["type"] for f in figures(at)} == {"linear"}

    at.multiselect(key="compare_models").set_value(["lenet", "vgg16"]).run()
    assert_no_exception(at)
    assert list(at.table[0].value.index) == ["lenet", "vgg16"]
    assert len(figures(at)) == 4
    assert at.query_params["models"] == "lenet,vgg16"


def test_compare_unknown_ids_in_link(open_page):
    at = open_page("compare", models="lenet,bogus,alexnt")
    assert_no_exception(at)
    [message] = errors(at)
    assert "bogus" in message and "alexnt" in message
    assert list(at.table[0].value.index) == ["lenet"]


def test_compare_empty_selection(open_page):
    at = open_page("compare", models="lenet")
    at.multiselect(key="compare_models").set_value([]).run()
    assert_no_exception(at)
    assert [i.value for i in at.info] == ["Pick at least one model."]
    assert not at.table
    assert not figures(at)
