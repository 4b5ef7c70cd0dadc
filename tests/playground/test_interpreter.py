"""What the interpreter supports: the d2l subset of Python, checked against PyTorch run for real where it matters."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import explorer
from explorer.playground import CodeError, Limits, parse_network


def params(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


def test_net_is_the_network_and_built_on_meta():
    net = parse_network("net = nn.Sequential(nn.Linear(4, 3), nn.ReLU())\nother = nn.Linear(1, 1)\n")
    assert isinstance(net, nn.Sequential) and params(net) == 15
    assert all(p.is_meta for p in net.parameters())


def test_last_expression_then_last_module():
    assert params(parse_network("nn.Linear(2, 2)\n")) == 6
    assert params(parse_network("a = nn.Linear(2, 2)\nb = nn.Linear(3, 3)\nx = 1\n")) == 12


def test_no_network_is_an_error():
    with pytest.raises(CodeError, match="builds no network"):
        parse_network("x = 1\n")
    with pytest.raises(CodeError, match="'net' is a int"):
        parse_network("net = 1\n")


def test_imports_are_accepted_and_indented_code_is_dedented():
    code = """
        import torch
        import torch.nn as nn
        import torch.nn.functional as F
        from torch import nn
        from torch.nn import functional as F
        from torch.nn import Conv2d
        net = nn.Sequential(Conv2d(1, 2, 3))
    """
    assert params(parse_network(code)) == 20


def test_d2l_helpers_loops_comprehensions_and_unpacking():
    code = """
def block(n, c_in, c_out, *, pool=True):
    layers = []
    for i, _ in enumerate(range(n)):
        layers += [nn.Conv2d(c_in if i == 0 else c_out, c_out, 3, padding=1), nn.ReLU()]
    if pool:
        layers.append(nn.MaxPool2d(2))
    return nn.Sequential(*layers)

arch = {"a": (1, 8), "b": (2, 16)}
chans = [c for _, c in arch.values()]
blocks = [block(n, cin, cout) for (n, cout), cin in zip(arch.values(), [1] + chans[:-1])]
net = nn.Sequential(*blocks, nn.Flatten(), nn.Linear(chans[-1] * 7 * 7 if len(chans) > 1 else 0, 10))
"""
    net = parse_network(code)
    expected = (1 * 8 * 9 + 8) + (8 * 16 * 9 + 16) + (16 * 16 * 9 + 16) + (16 * 49 * 10 + 10)
    assert params(net) == expected
    assert explorer.analyze(net, (1, 28, 28)).output_shape == (1, 10)


def test_classes_with_both_super_forms_and_an_interpreted_forward():
    code = """
class Block(nn.Module):
    def __init__(self, c, **kwargs):
        super(Block, self).__init__(**kwargs)
        self.conv = nn.Conv2d(c, c, 3, padding=1)
        self.scale = 2

    def forward(self, x):
        y = F.relu(self.conv(x))
        return torch.cat((y, x * self.scale), dim=1)

class Wide(Block):
    def __init__(self, c):
        super().__init__(c)
        self.extra = nn.Identity()

    def forward(self, x):
        return self.extra(super().forward(x))

net = nn.Sequential(Block(2), Wide(4))
"""
    net = parse_network(code)
    assert [type(m).__name__ for m in net] == ["Block", "Wide"]
    summary = explorer.analyze(net, (2, 8, 8))
    assert summary.output_shape == (1, 8, 8, 8)  # 2 → 4 (Block) → 8 (Wide's Block)
    assert summary.total_params == (2 * 2 * 9 + 2) + (4 * 4 * 9 + 4)


def test_interpreted_forward_computes_what_pytorch_computes():
    code = """
class Residual(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1)
        self.bn = nn.BatchNorm2d(c)

    def forward(self, X):
        Y = self.bn(self.conv1(X))
        Y += X
        return F.relu(Y).view(X.shape[0], -1).mean(dim=1)

net = Residual(3)
"""
    net = parse_network(code, device="cpu").eval()
    torch.manual_seed(0)
    x = torch.randn(2, 3, 5, 5)
    expected = torch.relu(net.bn(net.conv1(x)) + x).view(2, -1).mean(dim=1)
    assert torch.allclose(net(x), expected)


def test_notes_style_shape_check_at_parse_time():
    code = """
net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.Flatten())
X = torch.rand(size=(1, 1, 6, 6))
for layer in net:
    X = layer(X)
    print(X.shape)
assert X.shape == (1, 64), 'shape'
"""
    assert params(parse_network(code)) == 40


def test_errors_in_user_code_name_the_line():
    with pytest.raises(CodeError) as info:
        parse_network("x = 1\ny = undefined_name\n")
    assert str(info.value) == "line 2: name 'undefined_name' is not defined"
    with pytest.raises(CodeError, match=r"^line 1: Conv2d.*missing 1 required positional argument: 'kernel_size'"):
        parse_network("net = nn.Conv2d(1, 2)\n")
    with pytest.raises(CodeError, match="^line 3: syntax error"):
        parse_network("x = 1\n\nnet = (\n")


@pytest.mark.slow
def test_real_weights_are_bounded():
    with pytest.raises(CodeError, match="parameters"):
        parse_network("net = nn.Linear(100000, 10000)\n", device="cpu")
    with pytest.raises(CodeError, match="parameters"):
        parse_network("net = nn.Linear(10, 10)\n", limits=Limits(params=50))


def test_huge_meta_network_costs_nothing():
    net = parse_network("net = nn.Sequential(nn.Linear(1000000, 900000), nn.Linear(900000, 10))\n")
    assert params(net) == 9 * 10**11 + 900_000 + 9_000_000 + 10


def test_every_module_remembers_its_line():
    net = parse_network("a = 1\nnet = nn.Sequential(\n    nn.Linear(1, 2),\n    nn.ReLU(),\n)\n")
    assert [m.__dict__["_snippet_line"] for m in net.modules()] == [2, 3, 4]
