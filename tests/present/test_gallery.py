"""The Home gallery's facts kept on disk: computed once per version of the code, then read back without analysing a
network; a corrupt file is recomputed."""

from __future__ import annotations

import json

import pytest

import explorer
from explorer.present import charts, gallery

MODELS = {"lenet": (1, 28, 28), "nin": (1, 224, 224)}


def test_facts_are_the_analysis_and_are_read_back_without_analysing(tmp_path, monkeypatch):
    first = gallery.facts(MODELS, tmp_path)
    for model_id, shape in MODELS.items():
        summary = explorer.analyze(model_id, shape)
        assert first[model_id] == gallery.CardFacts(summary.depth, charts.shape_thumbnail(summary))
    assert first["lenet"].depth == 5
    path = gallery.cache_file(tmp_path)
    assert path.parent == tmp_path / "cache" and path.name == f"gallery-{gallery.fingerprint()}.json"
    assert set(json.loads(path.read_text())) == set(MODELS)

    def refuse(*args):
        raise AssertionError("analysed again")

    monkeypatch.setattr(gallery, "compute", refuse)
    assert gallery.facts(MODELS, tmp_path) == first
    with pytest.raises(AssertionError, match="analysed again"):  # a model not in the file yet is computed
        gallery.facts({**MODELS, "alexnet": (3, 224, 224)}, tmp_path)


def test_a_corrupt_file_is_recomputed(tmp_path):
    path = gallery.cache_file(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    assert gallery.facts({"lenet": (1, 28, 28)}, tmp_path)["lenet"].depth == 5
    assert json.loads(path.read_text())["lenet"]["depth"] == 5
