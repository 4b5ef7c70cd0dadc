"""The Boltzmann machine page in AppTest: an RBM trained on arrival and on submit."""

from __future__ import annotations

import numpy as np
import pytest

from tests.pages.conftest import assert_clean, assert_notes_panel, figures, metrics, title, values


@pytest.mark.slow  # trains an RBM twice (on arrival, then on submit)
@pytest.mark.usefixtures("fashion_mnist")
def test_boltzmann_trains_on_arrival_and_on_submit(open_page):
    at = open_page("boltzmann")
    assert_clean(at)
    assert_notes_panel(at, "boltzmann")
    shown = metrics(at)
    assert shown["RBM parameters"] == "51,024"
    before, after = float(shown["Reconstruction error, before"]), float(shown["After training"])
    assert after < before
    result = at.session_state["rbm_result"]
    assert result.epochs == 5 and result.images == 5000 and f"{result.errors[-1]:.4f}" == shown["After training"]
    [curve] = [f for f in figures(at) if title(f).startswith("Reconstruction error")]
    assert np.allclose(values(curve["data"][0]["y"]), result.errors)
    assert shown["Free-energy gap"] == f"{result.free_energy_gap[-1]:,.1f}"

    at.select_slider(key="rbm_hidden").set_value(16)
    at.slider(key="rbm_epochs").set_value(2)
    at.select_slider(key="rbm_images").set_value(1000)
    at.button[0].click().run()
    assert_clean(at)
    assert metrics(at)["RBM parameters"] == f"{784 * 16 + 16 + 784:,}" == "13,344"
    result = at.session_state["rbm_result"]
    assert result.filters.shape == (16, 28, 28) and result.epochs == 2 and result.images == 1000
    assert result.errors[-1] < result.errors[0]
