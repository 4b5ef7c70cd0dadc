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
    assert list(table["weight layers (longest path)"]) == ["5", "8", "16"]
    assert table.loc["lenet", "accuracy"] == "79.68% Fashion-MNIST (shipped weights)"
    assert table.loc["vgg16", "accuracy"] == "71.59% ImageNet top-1 (torchvision)"
    assert table.loc["alexnet", "accuracy"] == "—"
    bars = [f for f in figures(at) if f["data"][0]["type"] == "bar"]
    assert len(bars) == 4
    for fig in bars:
        assert fig["data"][0]["x"] == ["lenet", "alexnet", "vgg16"]
    params = next(f for f in bars if f["layout"]["title"]["text"] == "Parameters")
    assert params["data"][0]["y"] == [61_706, 62_378_344, 138_357_544]
    assert params["data"][0]["customdata"][1] == "62,378,344 · 1,011× lenet"


def test_compare_bytes_read_the_same_in_table_and_chart(open_page):
    at = open_page("compare", models="lenet,alexnet")
    table = at.table[0].value
    memory = next(f for f in figures(at) if f["layout"]["title"]["text"].startswith("Activation memory"))
    assert memory["data"][0]["text"] == list(table["activations"])  # one formatting function for both
    assert list(table["activations"]) == ["58.60 KiB", "5.56 MiB"]
    ticks = memory["layout"]["yaxis"]["ticktext"]
    assert ticks[0] == "0 B" and all(t.endswith(("B", "KiB", "MiB")) for t in ticks)


def test_compare_ratios_to_a_chosen_baseline(open_page):
    at = open_page("compare", models="lenet,alexnet")
    ratios = at.table[1].value
    assert ratios.loc["lenet", "parameters"] == "1×"
    assert ratios.loc["alexnet", "parameters"] == "1,011×"  # 62,378,344 / 61,706
    at.selectbox(key="compare_baseline").set_value("alexnet").run()
    ratios = at.table[1].value
    assert ratios.loc["lenet", "parameters"] == "0.000989×" and ratios.loc["alexnet", "parameters"] == "1×"


def test_compare_accuracy_scatters_never_mix_datasets(open_page):
    at = open_page("compare", models="lenet,resnet-fmnist,vgg16,resnet50-tv,alexnet")
    scatters = {f["layout"]["title"]["text"]: f["data"][0] for f in figures(at) if f["data"][0]["type"] == "scatter"}
    assert set(scatters) == {"Fashion-MNIST test accuracy", "ImageNet-1k top-1"}
    assert scatters["Fashion-MNIST test accuracy"]["text"] == ["lenet", "resnet-fmnist"]
    assert scatters["ImageNet-1k top-1"]["text"] == ["vgg16", "resnet50-tv"]
    assert scatters["ImageNet-1k top-1"]["y"] == [0.71592, 0.7613]


def test_compare_at_a_common_input_size_names_who_cannot(open_page):
    at = open_page("compare", models="lenet,alexnet,vgg16,resnet18-tv")
    at.selectbox(key="compare_size").set_value(96).run()
    assert_no_exception(at)
    warning, no_ratios = [w.value for w in at.warning]
    assert no_ratios == "The baseline lenet cannot take this input size: no ratios."
    assert len(at.table) == 1
    assert warning.startswith("Cannot take 96×96: **lenet** — lenet cannot take input 1×96×96")
    assert "; **alexnet** — alexnet cannot take input 3×96×96" in warning  # its fixed Linear(9216)
    table = at.table[0].value
    assert list(table.index) == ["vgg16", "resnet18-tv"]  # adaptive pooling before their classifiers
    assert list(table["input"]) == ["3×96×96", "3×96×96"]
    assert table.loc["resnet18-tv", "MACs per image"] == "333,625,704 (334 M)"  # 1,814,083,944 at 224 px


def bar_scales(at) -> set[str]:
    return {f["layout"]["yaxis"]["type"] for f in figures(at) if f["data"][0]["type"] == "bar"}


def test_compare_multiselect_and_log_toggle(open_page):
    at = open_page("compare", models="lenet,alexnet,vgg16")
    assert at.toggle(key="compare_log").value is False
    assert bar_scales(at) == {"linear"}

    at.toggle(key="compare_log").set_value(True).run()
    assert_no_exception(at)
    assert bar_scales(at) == {"log"}

    at.multiselect(key="compare_models").set_value(["lenet", "vgg16"]).run()
    assert_no_exception(at)
    assert list(at.table[0].value.index) == ["lenet", "vgg16"]
    assert len([f for f in figures(at) if f["data"][0]["type"] == "bar"]) == 4
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
