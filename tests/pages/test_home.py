"""The Home page in AppTest: the gallery lists every model with its exact parameter count."""

from __future__ import annotations

import explorer
from tests.pages.conftest import ALEXNET_PARAMS, VGG16_PARAMS, assert_clean, markdown


def test_home_lists_every_model_with_exact_params(open_page):
    at = open_page()
    assert_clean(at)
    assert [t.value for t in at.title] == ["CNN Explorer"]
    text = "\n".join(markdown(at))
    specs = explorer.list_models()
    assert len(specs) >= 16
    links = {link.proto.query_string: link.proto for link in at.get("page_link")}
    for spec in specs:
        link = links[f"model={spec.id}"]
        assert link.page == "architecture" and spec.title in link.label, spec.id
        assert f"**{spec.params:,}** parameters" in text, spec.id
    # the contract's numbers, exact beside short
    assert f"**{ALEXNET_PARAMS}** parameters (62.4 M)" in text
    assert f"**{VGG16_PARAMS}** parameters (138 M)" in text
    assert "**61,706** parameters (61.7 K)" in text
