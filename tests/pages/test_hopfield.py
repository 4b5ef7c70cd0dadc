"""The Hopfield network page in AppTest: recall on Fashion-MNIST, against the lesson's own run."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.lessons import hopfield
from tests.pages.conftest import assert_clean, assert_notes_panel, figures, metrics, title, values


@pytest.mark.usefixtures("fashion_mnist")
def test_hopfield_recalls_by_default(open_page):
    at = open_page("hopfield")
    assert_clean(at)
    assert_notes_panel(at, "hopfield")
    shown = metrics(at)
    assert (shown["Neurons"], shown["Weights"], shown["Free weights"], shown["Stored patterns"]) == (
        "784", "614,656", "306,936", "3")
    assert "Recalled **T-shirt/top** exactly" in at.success[0].value
    overlaps = at.dataframe[0].value
    assert np.array_equal(overlaps.to_numpy(), hopfield.overlaps(hopfield.class_patterns([0, 5, 8])).round(3))
    [energy] = [f for f in figures(at) if title(f).startswith("Energy")]
    shown = values(energy["data"][0]["y"])
    assert (np.diff(shown) <= 1e-9).all() and shown[-1] < shown[0]
    patterns = hopfield.class_patterns([0, 5, 8])
    run = hopfield.recall(hopfield.hebbian(patterns), hopfield.corrupt(patterns[0], 0.2, seed=0), seed=0)
    assert np.allclose(shown, run.energies)


@pytest.mark.usefixtures("fashion_mnist")
def test_hopfield_widgets(open_page):
    at = open_page("hopfield")
    at.selectbox(key="hop_target").set_value(8).run()
    assert_clean(at)
    assert "Recalled **Bag** exactly" in at.success[0].value
    # all ten silhouettes at once: far too alike to be stored side by side
    at.multiselect(key="hop_classes").set_value(list(range(10))).run()
    assert not at.exception
    patterns = hopfield.class_patterns(range(10))
    run = hopfield.recall(hopfield.hebbian(patterns), hopfield.corrupt(patterns[8], 0.2, seed=0), seed=0)
    recalled = np.array_equal(run.final, patterns[8])
    assert bool(at.success) == recalled and bool(at.warning) == (not recalled)
    at.multiselect(key="hop_classes").set_value([]).run()
    assert at.info[0].value == "Pick at least one class to store."


@pytest.mark.usefixtures("fashion_mnist")
def test_hopfield_names_an_inverted_pattern(open_page):
    at = open_page("hopfield")
    at.slider(key="hop_noise").set_value(0.5).run()  # half the pixels flipped: the mirror basin is as near
    assert_clean(at)
    [message] = [w.value for w in at.warning]
    assert message.startswith("Recalled the **negative of the stored Sandal** pattern (−ξ, every pixel inverted: "
                              "overlap -1.000)")
    assert "closest to" not in message
