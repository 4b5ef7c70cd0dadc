"""The interpreter refuses what is not a network: every snippet here is refused quickly (< 1 s), with one sentence
naming the line, and nothing in it runs — no file appears in the working directory, no module is imported."""

from __future__ import annotations

import sys
import time

import pytest

from explorer.playground import CodeError, parse_network

HOSTILE = {
    "import os": "import os\nos.system('touch pwned')\n",
    "import subprocess": "import subprocess\nsubprocess.run(['touch', 'pwned'])\n",
    "from os import": "from os import system\nsystem('touch pwned')\n",
    "from torch import load": "from torch import load\nload('pwned')\n",
    "import torch.hub": "import torch.hub\n",
    "star import": "from torch.nn import *\n",
    "relative import": "from . import cli\n",
    "__import__": "__import__('os').system('touch pwned')\n",
    "__class__.__mro__": "x = (1).__class__.__mro__\n",
    "__subclasses__": "x = ().__class__.__bases__[0].__subclasses__()\n",
    "getattr": "getattr(torch, 'load')('pwned')\n",
    "eval": "eval('1 + 1')\n",
    "exec": "exec('x = 1')\n",
    "open": "open('pwned', 'w').write('x')\n",
    "compile": "compile('1', 'f', 'exec')\n",
    "globals": "globals()['x'] = 1\n",
    "type": "type('A', (), {})\n",
    "object": "class A(object):\n    pass\n",
    "lambda": "f = lambda: open('pwned', 'w')\nf()\n",
    "while True": "while True:\n    pass\n",
    "for 10**12": "for i in range(10**12):\n    pass\n",
    "sum 10**12": "s = sum(range(10**12))\n",
    "list 10**12": "x = list(range(10**12))\n",
    "dict zip": "x = dict(zip(range(10**12), range(10**12)))\n",
    "comprehension 10**12": "x = [i for i in range(10**12)]\n",
    "deep recursion": "def f(n):\n    return f(n + 1)\n\nnet = f(0)\n",
    "mutual recursion": "def f(n):\n    return g(n)\n\ndef g(n):\n    return f(n)\n\nnet = f(0)\n",
    "recursive class": ("class A(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
                        "        self.a = A()\n\nnet = A()\n"),
    "string repetition": "x = 'a' * 10**9\n",
    "list repetition": "x = [0] * 10**9\n",
    "power tower": "x = 10**10**10\n",
    "big power": "x = 7 ** 100000\n",
    "shift": "x = 1 << 10**9\n",
    "big product": "x = 10**1000\ny = x * x * x * x * x\n",
    "float overflow": "x = 2.0 ** 10**6\n",
    "doubling": "x = [1]\nfor _ in range(100):\n    x = x + x\n",
    "join bomb": "x = ','.join(['a' * 100000] * 100000)\n",
    "format": "x = '{0.__class__}'.format(1)\n",
    "format method": "x = '{}'.format(1)\n",
    "f-string width": "x = f'{1:>1000000000}'\n",
    "percent": "x = '%*d' % (10**9, 1)\n",
    "with": "with open('pwned') as f:\n    pass\n",
    "try": "try:\n    pass\nexcept Exception:\n    pass\n",
    "global": "def f():\n    global x\n",
    "decorator": "@nn.Module\ndef f():\n    pass\n",
    "yield": "def f():\n    yield 1\n",
    "torch.load": "x = torch.load('pwned')\n",
    "torch.save": "torch.save(1, 'pwned')\n",
    "torch.hub": "torch.hub.load('a', 'b')\n",
    "torch.ops": "torch.ops.aten.add\n",
    "torch.classes": "torch.classes.load_library('x')\n",
    "torch.utils": "torch.utils.data\n",
    "nn.Module.__subclasses__": "nn.Module.__subclasses__()\n",
    "tensor dunder": "x = torch.zeros(1).__reduce__\n",
    "tensor method": "x = torch.zeros(1).numpy()\n",
    "private attribute": "net = nn.Linear(1, 1)\nx = net._modules\n",
    "module method": "net = nn.Linear(1, 1)\nnet.load_state_dict({})\n",
    "forward dunder": ("class M(nn.Module):\n    def forward(self, x):\n        return x.__class__\n\n"
                      "net = M()\n"),
    "builtins": "x = __builtins__\n",
    "print self": "x = print.__self__\n",
    "too many modules": "net = nn.Sequential(*[nn.ReLU()] * 100000)\n",
    "too many parameters": "net = nn.Linear(10**7, 10**7)\n",
    "rnn layers": "net = nn.LSTM(10, 10, num_layers=10**6)\n",
    "nested brackets": "x = " + "[" * 300 + "]" * 300 + "\n",
    "one megabyte": "x = 1\n" * 150_000,
    "not text": 12,
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_snippet_is_refused_quickly_with_nothing_executed(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    modules_before = set(sys.modules)
    start = time.perf_counter()
    with pytest.raises(CodeError) as info:
        parse_network(HOSTILE[name])
    elapsed = time.perf_counter() - start
    assert elapsed < 1.0, f"{name}: refused after {elapsed:.2f} s"
    message = str(info.value)
    assert "\n" not in message and len(message) < 400, message
    assert list(tmp_path.iterdir()) == [], f"{name}: a file appeared"
    assert set(sys.modules) - modules_before == set(), f"{name}: imported something"


@pytest.mark.parametrize(("code", "expected"), [
    ("import os\n", "line 1: 'import os' is not allowed"),
    ("x = 1\ny = x.__class__\n", "line 2: attribute '__class__' is not allowed"),
    ("x = 1\n\nopen('f')\n", "line 3: 'open' is not available in the playground"),
    ("x = torch.load('f')\n", "line 1: torch.load is not available in the playground"),
    ("for i in range(10**12):\n    pass\n", "line 1: the code takes more than"),
    ("x = 'a' * 10**9\n", "line 1: a value with 1,000,000,000 elements exceeds the limit"),
    ("while True:\n    pass\n", "line 1: 'while' loops are not allowed"),
    ("y = 1\nx = lambda: 1\n", "line 2: 'lambda' is not allowed"),
])
def test_refusals_name_the_line(code, expected):
    with pytest.raises(CodeError) as info:
        parse_network(code)
    assert str(info.value).startswith(expected), str(info.value)


def test_the_line_is_an_attribute():
    with pytest.raises(CodeError) as info:
        parse_network("x = 1\n\n\nnet = nn.Linear(1, 1)\nnet.weight.numpy()\n")
    assert info.value.line == 5
    assert isinstance(info.value, ValueError)


def test_the_forward_budget_is_fresh_per_pass_and_still_bounded():
    code = """
class Spin(nn.Module):
    def forward(self, x):
        for i in range(10**12):
            x = x
        return x

net = Spin()
"""
    net = parse_network(code)
    import torch

    start = time.perf_counter()
    with pytest.raises(CodeError, match="line 5: the code takes more than"):
        net(torch.empty(1, 1, device="meta"))
    assert time.perf_counter() - start < 1.0


def test_memory_is_bounded_by_the_step_budget():
    # Each list is within the size limit, but building many of them costs steps in proportion to their size.
    code = "x = [0] * 100000\ny = [x * 1 for _ in range(100000)]\n"
    start = time.perf_counter()
    with pytest.raises(CodeError, match="line 2: the code takes more than"):
        parse_network(code)
    assert time.perf_counter() - start < 1.0
