"""NiN: the notes' erratum (``kernel_size`` passed to the 1×1 convolutions) recorded, and really fixed."""

from __future__ import annotations

from torch import nn

import explorer
from tests.zoo.conftest import meta_build


def test_nin_erratum_is_recorded():
    assert len(explorer.get_spec("nin").errata) >= 1  # each erratum's fields: test_registry.py


def test_nin_one_by_one_convs_really_are_1x1():
    model = meta_build("nin")
    blocks = [m for m in model.modules() if isinstance(m, nn.Sequential) and m is not model]
    assert len(blocks) == 4  # three NiN blocks + the class block
    for block in blocks:
        convs = [m for m in block if isinstance(m, nn.Conv2d)]
        assert len(convs) == 3
        first, *mlp = convs
        assert first.kernel_size in ((11, 11), (5, 5), (3, 3))
        for conv in mlp:
            assert conv.kernel_size == (1, 1)
            assert conv.stride == (1, 1) and conv.padding == (0, 0)
    assert "kernel_size=1" in explorer.get_spec("nin").errata[0].fixed_code


def test_nin_first_block_keeps_its_size():
    # With the notes' bug the block's 1×1 convs would be 11×11 and shrink 54 → 44 → 34.
    layers = {r.name: r for r in explorer.analyze("nin").layers}
    assert layers["0.0"].output_shape == (1, 96, 54, 54)
    assert layers["0.2"].output_shape == (1, 96, 54, 54)
    assert layers["0.4"].output_shape == (1, 96, 54, 54)
    assert layers["0"].output_shape == (1, 96, 54, 54)
