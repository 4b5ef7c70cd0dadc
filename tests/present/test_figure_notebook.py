"""In a notebook, as d2l's readers work: a small notebook run by a real Jupyter kernel (nbclient + ipykernel), whose
outputs are the analysis' layer table (``Summary._repr_html_``) and the paper figure (``Figure._repr_svg_``)."""

from __future__ import annotations

import nbformat
import pytest
from nbclient import NotebookClient

CELLS = [
    "import explorer\nsummary = explorer.analyze('alexnet')\nsummary",
    "fig = explorer.figure('alexnet')\nfig",
    "explorer.figure('resnet18', depth=2, direction='TB')",
    "print(len(fig.spec['boxes']), fig.spec['boxes'][1]['label'])",
]


@pytest.mark.slow
def test_a_notebook_shows_the_layer_table_and_the_figure_inline(repo_root):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    NotebookClient(nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(repo_root)}}).execute()
    table, alexnet, resnet, printed = ([o for o in cell.outputs] for cell in nb.cells)
    html = table[0]["data"]["text/html"]
    assert "62,378,344 parameters" in html and ">conv1<" in html and "96×55×55" in html
    svg = alexnet[0]["data"]["image/svg+xml"]
    assert svg.startswith("<svg") and ">96×55×55</text>" in svg and ">conv1</text>" in svg
    assert svg == __import__("explorer").figure("alexnet").svg()  # the same figure as the CLI's and the page's
    assert resnet[0]["data"]["image/svg+xml"].count(">Residual ×2</text>") == 4
    assert printed[0]["text"] == "12 96×55×55\n"
