"""The interpreter refuses what is not a network: every snippet here is refused quickly (well within the worker's
10 s; most in milliseconds), with one sentence naming the line, and nothing in it runs — no file appears in the
working directory, no module is imported. The language-level half of the defence: tests/playground/test_sandbox.py
runs the same corpus in the worker processes that hold the other half."""

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
    # deep nesting: CPython hashes, compares and copies nested values recursively in C
    "deep tuple hashed": "t = ()\nfor i in range(160000):\n    t = (t,)\nd = {t: 1}\n",
    "deep list on a module": ("class A(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
                              "        x = []\n        for i in range(5000):\n            x = [x]\n        self.x = x\n"
                              "\nnet = A()\n"),
    "1500 nested modules": "m = nn.ReLU()\nfor i in range(1500):\n    m = nn.Sequential(m)\nnet = m\n",
    "module cycle": "a = nn.Sequential()\na.append(a)\nnet = a\n",
    "module holds itself": ("class A(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
                            "        self.me = self\n\nnet = A()\n"),
    "sequential of itself": ("class S(nn.Sequential):\n    def __init__(self):\n        super().__init__(self)\n"
                             "\nnet = S()\n"),
    # device keywords: weights and tensors on a real device
    "ones_like device": "x = torch.ones_like(torch.zeros(15000, 15000), device='cpu')\n",
    "layer device": "net = nn.Linear(8000, 28000, device='cpu')\n",
    "layer device by position": "net = nn.Linear(8000, 28000, True, 'cpu')\n",
    "device in **kwargs": "net = nn.Linear(8000, 28000, **{'device': 'cpu'})\n",
    "private keyword": "net = nn.Embedding(10, 3, _weight=None)\n",
    "private keyword in **kwargs": "net = nn.Embedding(10, 3, **{'_freeze': True})\n",
    # single steps that never end
    "float in huge range": "x = 0.5 in range(10**18)\nnet = nn.Linear(1, 1) if x else 1\n",
    "round to -10**8 digits": "x = round(1, -10**8)\n",
    "2**40 module paths": "m = nn.ReLU()\nfor i in range(40):\n    m = nn.Sequential(m, m)\nnet = m\n",
    "lstm over 6000 steps": "l = nn.LSTM(10, 10)\ny = l(torch.zeros(6000, 1, 10))\n",
    "cat of 100000 tensors": "xs = [torch.zeros(1)] * 100000\ny = torch.cat(xs)\n",
    "index by huge range": "x = torch.zeros(10)\ny = x[range(10**8)]\n",
    "quadratic ==": "a = [0] * 100000\nb = list(a)\nx = [a] * 1000 == [b] * 1000\n",
    "exponential ==": "x = [0]\ny = [0]\nfor i in range(60):\n    x = [x, x]\n    y = [y, y]\nz = x == y\n",
    "sorted aliased lists": "a = [0] * 100000\nb = list(a)\nx = sorted([a, b] * 500)\n",
    # copies, conversions, joins and texts charged by size before they are made
    "str of aliased list": "s = 'a' * 100000\nL = [s] * 100000\nx = str(L)\n",
    "print of aliased list": "s = 'a' * 100000\nL = [s] * 100000\nprint(L)\n",
    "repr in f-string": "s = 'a' * 100000\nL = [s] * 100000\nx = f'{L!r}'\n",
    "slice copies": "L = [0] * 100000\nM = [L[:] for _ in range(100000)]\n",
    "dict copies": "d = {i: i for i in range(100000)}\nM = [{**d} for _ in range(100000)]\n",
    "torch.Size of a range": "x = torch.Size(range(3 * 10**7))\n",
    "split into 3 M pieces": "x = torch.zeros(3000000)\ny = x.split(1)\n",
    "list.index writes its argument": "s = 'a' * 100000\nL = [s] * 100000\ny = [1].index(L)\n",
    # tracebacks: every failure is one sentence
    "top-level 1 / 0": "1 / 0\n",
    "top-level break": "break\n",
    "top-level return": "return 1\n",
    "KeyError of a huge key": "t = tuple(['a' * 100000] * 1000)\nd = {}\ny = d[t]\n",
    "ModuleDict key of nn.Module": "net = nn.ModuleDict({'training': nn.ReLU()})\n",
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_snippet_is_refused_quickly_with_nothing_executed(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    modules_before = set(sys.modules)
    start = time.perf_counter()
    with pytest.raises(CodeError) as info:
        parse_network(HOSTILE[name])
    elapsed = time.perf_counter() - start
    assert elapsed < 5.0, f"{name}: refused after {elapsed:.2f} s"  # milliseconds on a quiet machine
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
    ("t = ()\nfor i in range(200):\n    t = (t,)\n", "line 3: a value nested more than 100 levels deep is not allowed"),
    ("m = nn.ReLU()\nfor i in range(200):\n    m = nn.Sequential(m)\n",
     "line 3: modules nested more than 100 levels deep are not allowed"),
    ("a = nn.Sequential()\na.append(a)\n", "line 2: a module cannot contain itself"),
    ("net = nn.Conv2d(1, 2, 3, device='meta')\n",
     "line 1: the keyword 'device' is not allowed: the playground chooses the device itself"),
    ("net = nn.Linear(2, 2, True, 'cpu')\n",
     "line 1: the keyword 'device' is not allowed: the playground chooses the device itself"),
    ("x = 1\nnet = nn.Embedding(10, 3, _weight=None)\n", "line 2: the keyword '_weight' is not allowed"),
    ("x = round(1.5, -10**8)\n", "line 1: round() takes at most 4,096 digits"),
    ("x = 1\n1 / 0\n", "line 2: division by zero"),
    ("x = 1\nbreak\n", "line 2: 'break' or 'continue' outside a loop"),
    ("for i in range(3):\n    pass\nelse:\n    continue\n", "line 4: 'break' or 'continue' outside a loop"),
    ("def f():\n    return 1\nreturn 2\n", "line 3: 'return' outside a function"),
    ("m = nn.ReLU()\nfor i in range(40):\n    m = nn.Sequential(m, m)\nnet = m\n",
     "line 4: the network has 2,199,023,255,551 modules; the playground takes at most 2,000"),
    ("s = 'a' * 100000\nL = [s] * 100000\nx = str(L)\n",
     "line 3: a value with 10,000,400,002 elements exceeds the limit of 100,000"),
    ("x = torch.zeros(3000000)\ny = x.split(1)\n", "line 2: a value with 3,000,000 elements exceeds the limit"),
])


def test_refusals_name_the_line(code, expected):
    with pytest.raises(CodeError) as info:
        parse_network(code)
    assert str(info.value).startswith(expected), str(info.value)


def test_what_the_readme_allows_still_works():
    """Integers below 2**4096, ranges scanned for integers, values nested a few levels, modules shared."""
    net = parse_network("x = 2**4000\ny = 2**4095 + (2**4095 - 1)\nassert 3.0 in range(5) and 3.5 not in range(5)\n"
                        "t = ((1, 2), (3, (4, 5)))\nd = {t: [t, {'a': t}]}\nassert d[((1, 2), (3, (4, 5)))][0] == t\n"
                        "m = nn.Linear(2, 2)\nnet = nn.Sequential(m, nn.ReLU(), m)\nprint(str(net), f'{t!r}')\n")
    assert sum(p.numel() for p in net.parameters()) == 6  # m counted once
    with pytest.raises(CodeError, match="line 1: a number larger than 2\\*\\*4096"):
        parse_network("x = 2**4096\n")


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
    assert time.perf_counter() - start < 5.0  # 0.2 s on a quiet machine


def test_memory_is_bounded_by_the_step_budget():
    # Each list is within the size limit, but building many of them costs steps in proportion to their size.
    code = "x = [0] * 100000\ny = [x * 1 for _ in range(100000)]\n"
    start = time.perf_counter()
    with pytest.raises(CodeError, match="line 2: the code takes more than"):
        parse_network(code)
    assert time.perf_counter() - start < 5.0  # 0.2 s on a quiet machine
