"""The one layer-table builder: the Architecture page, the CLI's ``summary`` (text and JSON) and the CSV export show
the same rows — names, types, shapes, parameters, MACs, receptive fields — because they all come from it."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

import explorer
from explorer import cli
from explorer.present import export, table

REPO = Path(__file__).resolve().parents[2]
MODELS = ["alexnet", "googlenet-tv", "resnet18"]
JSON_KEYS = ("name", "type", "depth", "output_shape", "params", "macs", "rf", "stride")


@pytest.fixture(scope="module")
def summaries() -> dict[str, explorer.Summary]:
    return {m: explorer.analyze(m) for m in MODELS}


def _axes(value: int | float | list | None) -> str:
    """The field as the pages and the CLI write it, spelled out here independently of the builder."""
    return "—" if value is None else "×".join(map(str, value)) if isinstance(value, list) else str(value)


def _text_rows(out: str) -> list[list[str]]:
    """``summary``'s text table: title, header, one line per layer, two total lines. Cells after the 40-character
    layer column: output shape, params, MACs, RF, then the shape arithmetic (may be empty)."""
    lines = out.splitlines()
    assert lines[1].split()[:6] == ["layer", "output", "shape", "params", "MACs", "RF"]
    assert lines[-2].startswith("total params:") and lines[-1].startswith("total MACs:")
    return [[line[:40].rstrip(), *line[41:].split(None, 4)] for line in lines[2:-2]]


# --- every reader gets the same rows ------------------------------------------------------------------------------


@pytest.mark.parametrize("model_id", MODELS)
def test_csv_cli_json_cli_text_and_builder_agree(model_id, summaries, capsys):
    summary = summaries[model_id]
    data = table.layer_rows(summary, ("outline", *JSON_KEYS), style="data")
    assert len(data) == len(summary.layers)

    # summary --json (the contract, Summary.to_dict) has the builder's numbers, row for row
    assert cli.main(["summary", model_id, "--json"]) == 0
    layers = json.loads(capsys.readouterr().out)["layers"]
    assert [layer.pop("label") for layer in layers] == [r.label for r in summary.layers]  # additive display name
    as_json = [{k: list(v) if k == "output_shape" and v is not None else v for k, v in r.items() if k in JSON_KEYS}
               for r in data]
    assert layers == as_json

    # the CSV export: the same rows, cell for cell
    rows = list(csv.DictReader(io.StringIO(export.layers_csv(summary))))
    assert len(rows) == len(data)
    for got, want in zip(rows, data):
        assert (got["name"], got["type"], int(got["depth"])) == (want["name"], want["type"], want["depth"])
        assert got["output_shape"] == "x".join(map(str, want["output_shape"] or ()))
        assert (int(got["params"]), int(got["macs"])) == (want["params"], want["macs"])
        assert json.loads(got["rf"] or "null") == want["rf"] and json.loads(got["stride"] or "null") == want["stride"]

    # summary's text: the same rows, as people read them
    assert cli.main(["summary", model_id]) == 0
    text = _text_rows(capsys.readouterr().out)
    assert len(text) == len(data)
    for (outline, shape, params, macs, rf, *_), want in zip(text, data):
        assert outline == want["outline"][:40].rstrip()
        assert shape == explorer.present.formatting.shape(want["output_shape"])
        assert (int(params.replace(",", "")), int(macs.replace(",", ""))) == (want["params"], want["macs"])
        assert rf == _axes(want["rf"])

    # and every column sums to the totals
    assert sum(r["params"] for r in data) == summary.total_params
    assert sum(r["macs"] for r in data) == summary.total_macs


def test_cli_and_export_build_their_rows_with_the_builder(monkeypatch, summaries, capsys):
    calls: list[tuple[str, ...]] = []
    build = table.layer_rows

    def spy(summary, columns=table.PAGE_COLUMNS, **kwargs):
        calls.append(tuple(columns))
        return build(summary, columns, **kwargs)

    monkeypatch.setattr(table, "layer_rows", spy)
    export.layers_csv(summaries["alexnet"])
    assert calls == [export.CSV_COLUMNS]
    assert cli.main(["summary", "alexnet"]) == 0
    capsys.readouterr()
    assert calls[1:] == [cli.SUMMARY_TEXT_COLUMNS]


# --- what the rows hold -------------------------------------------------------------------------------------------


def test_alexnet_conv1_in_every_style(summaries):
    summary = summaries["alexnet"]
    keys = ("index", "name", "type", "output_shape", "params", "macs", "memory_bytes", "rf", "stride", "arithmetic")
    styles = {style: table.layer_rows(summary, keys, style=style)[1] for style in ("data", "csv", "display", "text")}
    assert styles["data"] == {
        "index": 1, "name": "0", "type": "Conv2d", "output_shape": (1, 96, 55, 55), "params": 34_944,
        "macs": 105_705_600, "memory_bytes": 96 * 55 * 55 * 4, "rf": 11, "stride": 4,
        "arithmetic": "⌊(224 + 2·2 − 11)/4⌋ + 1 = 55",
    }
    assert styles["csv"] | {"arithmetic": ""} == {
        "index": 1, "name": "0", "type": "Conv2d", "output_shape": "1x96x55x55", "params": 34_944,
        "macs": 105_705_600, "memory_bytes": 1_161_600, "rf": "11", "stride": "4", "arithmetic": "",
    }
    assert styles["display"] | {"arithmetic": ""} == {
        "index": 1, "name": "0", "type": "Conv2d", "output_shape": "96×55×55", "params": 34_944,
        "macs": 105_705_600, "memory_bytes": 1134.4, "rf": "11", "stride": "4", "arithmetic": "",
    }
    assert styles["text"] | {"arithmetic": ""} == {
        "index": "1", "name": "0", "type": "Conv2d", "output_shape": "96×55×55", "params": "34,944",
        "macs": "105,705,600", "memory_bytes": "1.11 MiB", "rf": "11", "stride": "4", "arithmetic": "",
    }
    short = table.layer_rows(summary, ("params", "macs"), style="text", short=True)
    assert short[15] == {"params": "37.8 M", "macs": "37.8 M"}  # Linear(9216, 4096): 37,752,832
    root = table.layer_rows(summary, ("name", "output_shape", "rf", "arithmetic"), style="csv")[0]
    assert root == {"name": "", "output_shape": "1x1000", "rf": "", "arithmetic": ""}  # no field for the classifier


@pytest.mark.parametrize("model_id", ["googlenet-tv", "resnet50-tv"])
def test_collapsed_blocks_carry_their_totals(model_id):
    summary = explorer.analyze(model_id)
    deepest = max(r.depth for r in summary.layers)
    sizes = []
    for depth in range(1, deepest + 1):
        rows = table.layer_rows(summary, ("name", "params", "macs"), depth=depth, style="display")
        assert sum(r["params"] for r in rows) == summary.total_params == explorer.get_spec(model_id).params
        assert sum(r["macs"] for r in rows) == summary.total_macs
        blocks = [r for r in rows if r["name"].startswith(table.COLLAPSED_MARK)]
        assert bool(blocks) == (depth < deepest)
        sizes.append(len(rows))
    assert sizes == sorted(sizes) and sizes[0] < sizes[-1]
    block = next(r for r in summary.layers if r.depth == 1 and not r.is_leaf and r.params_total)
    [row] = [r for r in table.layer_rows(summary, ("name", "params"), depth=1) if r["name"] == block.name]
    assert row["params"] == block.params_total and block.params == 0  # the block's total, not its own (none)


def test_leaves_and_the_frame(summaries):
    summary = summaries["resnet18"]
    frame = table.layer_frame(summary, table.BRIEF_COLUMNS, leaves=True)
    assert list(frame.columns) == ["layer", "type", "output shape", "params"]
    assert list(frame["layer"]) == [r.name for r in summary.leaves]
    assert frame["params"].sum() == 11_178_378
    full = table.layer_frame(summary, depth=max(r.depth for r in summary.layers))
    assert list(full.columns)[:11] == ["label", "layer", "type", "output shape", "params", "MACs", "memory (KiB)",
                                       "shape arithmetic", "RF", "stride", "hyper-parameters"]
    assert list(full["label"][:4]) == ["conv1", "bn1", "relu1", "pool1"]  # the papers' names …
    assert list(full["layer"][:4]) == ["b1.0", "b1.1", "b1.2", "b1.3"]  # … beside the module paths
    assert full["params"].sum() == 11_178_378 and full["MACs"].sum() == summary.total_macs


def test_bad_arguments_are_refused(summaries):
    with pytest.raises(KeyError, match="unknown layer-table column"):
        table.layer_rows(summaries["alexnet"], ("name", "flops"))
    with pytest.raises(ValueError, match="not both"):
        table.layer_rows(summaries["alexnet"], depth=1, leaves=True)


# --- the pages show the builder's frame ---------------------------------------------------------------------------


def _shown(at: AppTest, index: int = 0) -> pd.DataFrame:
    assert not at.exception, [e.value for e in at.exception]
    return at.dataframe[index].value.reset_index(drop=True)


def test_architecture_page_shows_the_builders_frame():
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    at.switch_page("pages/architecture.py")
    at.query_params["model"] = "alexnet"
    at.run()
    expected = table.layer_frame(explorer.analyze("alexnet"), table.PAGE_COLUMNS, depth=1)
    pd.testing.assert_frame_equal(_shown(at), expected, check_dtype=False)
    assert _shown(at)["params"].sum() == 62_378_344

    # a deeper model with its blocks collapsed to the top level: still the builder's rows, ▸ blocks and all
    at.query_params["model"] = "googlenet-tv"
    at.run()
    at.slider(key="depth").set_value(1).run()
    expected = table.layer_frame(explorer.analyze("googlenet-tv"), table.PAGE_COLUMNS, depth=1)
    pd.testing.assert_frame_equal(_shown(at), expected, check_dtype=False)
    assert expected["label"].str.startswith(table.COLLAPSED_MARK).sum() >= 9  # the nine Inception blocks


def test_residual_blocks_page_shows_the_builders_frame():
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    at.switch_page("pages/residual-blocks.py").run()
    expected = table.layer_frame(explorer.analyze("resblock-full-preact"), table.BRIEF_COLUMNS, leaves=True)
    pd.testing.assert_frame_equal(_shown(at), expected, check_dtype=False)  # the default variant's layers
