"""The app's first screen is drawn before PyTorch loads: ``app.py``'s imports and Home's (with the gallery's cards on
disk) never import ``torch``; the library's public names, imported on first use, all resolve."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import explorer
import explorer.analysis

REPO = Path(__file__).resolve().parents[1]
CNN_FAMILIES = ("LeNet", "AlexNet", "VGG", "NiN", "GoogLeNet", "ResNet")  # the pictured families (pages/home.py)


@pytest.mark.parametrize("package", [explorer, explorer.analysis], ids=lambda p: p.__name__)
def test_every_public_name_resolves_and_is_listed(package):
    assert sorted(package.__all__) == sorted(package._LAZY)
    for name in package.__all__:
        assert getattr(package, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        package.nothing  # noqa: B018
    assert set(package.__all__) <= set(dir(package))


@pytest.mark.slow
def test_home_path_does_not_import_torch(tmp_path):
    from explorer.present import gallery

    cards = gallery.cards(CNN_FAMILIES, tmp_path)  # the server's earlier start wrote them
    assert len(cards) == len(explorer.list_models())
    probe = f"""
import sys, json
import streamlit
import pages.layout, pages.i18n, pages.learner
from explorer.analysis.depth import LONGEST_PATH_HELP
from explorer.present import formatting, gallery
cards = gallery.cards({tuple(CNN_FAMILIES)!r}, __import__("pathlib").Path({str(tmp_path)!r}))
print(json.dumps({{"torch": "torch" in sys.modules, "cards": len(cards),
                   "lenet": [c.depth for c in cards if c.id == "lenet"]}}))
"""
    out = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == {"torch": False, "cards": len(cards), "lenet": [5]}
