"""The Home page in AppTest: the notes' CNNs first in the notes' order, every model with its exact parameter count,
each card opening the page made for its family."""

from __future__ import annotations

import explorer
from tests.pages.conftest import ALEXNET_PARAMS, VGG16_PARAMS, assert_clean, markdown


def card_order(at) -> list[str]:
    """Model ids of the cards in page order (each card's first markdown: '#### title' then '`id` · year')."""
    return [m.value.split("`")[1] for m in at.markdown if m.value.startswith("#### ")]


def test_home_lists_every_model_with_exact_params(open_page):
    at = open_page()
    assert_clean(at)
    assert [t.value for t in at.title] == ["CNN Explorer"]
    text = "\n".join(markdown(at))
    specs = explorer.list_models()
    assert len(specs) >= 16
    assert sorted(card_order(at)) == sorted(s.id for s in specs)
    for spec in specs:
        assert f"#### {spec.title}\n`{spec.id}` · {spec.family} · {spec.year}" in text, spec.id  # full title
        assert f"**{spec.params:,}** parameters" in text, spec.id
    # the contract's numbers, exact beside short
    assert f"**{ALEXNET_PARAMS}** parameters (62.4 M)" in text
    assert f"**{VGG16_PARAMS}** parameters (138 M)" in text
    assert "**61,706** parameters (61.7 K)" in text
    assert "input 3×224×224 · 1000 classes · 50 weight layers (longest path)" in text  # resnet50-tv


CNNS = ["LeNet", "AlexNet", "VGG", "NiN", "GoogLeNet", "ResNet"]
OTHERS = ["MLP", "Autoencoder", "GAN", "RNN", "Transformer FFN", "Hopfield", "Boltzmann machine"]


def by_columns(ids: list[str], columns: int = 4) -> list[str]:
    """A row-major grid of ``columns`` as AppTest walks it: column by column."""
    return [m for c in range(columns) for m in ids[c::columns]]


def test_home_orders_the_cnns_as_the_notes_do(open_page):
    at = open_page()
    order = card_order(at)
    assert order[0] == "lenet"  # the first card, top left
    specs = explorer.list_models()
    networks = [s.id for f in CNNS for s in specs if s.family == f and not s.id.startswith(("inception-", "resblock-"))]
    others = [s.id for f in OTHERS for s in specs if s.family == f]
    blocks = [m for m in order if m.startswith(("inception-", "resblock-"))]
    # the grids read row by row in the notes' order; the single blocks sit in expanders between the two grids
    assert order == by_columns(networks) + blocks + by_columns(others)
    assert len(at.get("image")) == len(networks)  # one shape picture per CNN


def test_home_cards_open_their_own_pages(open_page):
    at = open_page()
    links = [link.proto for link in at.get("page_link")]
    to_architecture = {link.query_string for link in links if link.page == "architecture"}
    for spec in explorer.list_models():
        assert f"model={spec.id}" in to_architecture, spec.id
    own = [link.page for link in links if link.page != "architecture"]
    # Hopfield and the recurrent nets open their own pages, not the generic Architecture page
    assert own.count("hopfield") == 1 and own.count("recurrent") == 3 and own.count("boltzmann") == 1
    assert own.count("feedforward") == 4 and own.count("ffn") == 1
    assert own.count("inception") == 6 and own.count("residual-blocks") == 6
