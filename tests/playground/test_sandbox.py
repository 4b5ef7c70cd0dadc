"""The worker processes (explorer.present.sandbox): what crosses the pipe is plain data the parent checks; the hostile
corpus ends in a worker within its limits with one sentence, the server (this process) allocating nothing for it;
a worker that crashes, hangs or runs out of memory is one sentence and a fresh worker; the diagram is capped and
Graphviz timed; ``graph --code`` reaches the whole path from a shell."""

from __future__ import annotations

import json
import resource
import time

import pytest

from explorer import analyze, cli, playground
from explorer.analysis import graph
from explorer.i18n import Message, render, use_language
from explorer.playground import LISTINGS, ZOO_CODE, CodeError
from explorer.present import sandbox
from tests.playground.test_hostile import HOSTILE

# --- plain data across the pipe (no worker needed) ---------------------------------------------------------------


def test_a_summary_and_a_graph_cross_the_pipe_unchanged():
    listing = LISTINGS["googlenet"]
    net = playground.parse_network(listing.code)
    summary, traced = analyze(net, listing.input_shape), graph.trace(net, listing.input_shape)
    assert sandbox.decode(json.loads(json.dumps(sandbox.encode(summary)))) == summary
    assert sandbox.decode(json.loads(json.dumps(sandbox.encode(traced)))) == traced


@pytest.mark.parametrize("data", [
    {"@": "Message", "t": "{x.__class__.__init__.__globals__}", "v": {"x": 1}},  # format reaching attributes
    {"@": "Message", "t": "{x[0]}", "v": {"x": [1]}},
    {"@": "Message", "t": "{x!r}", "v": {"x": 1}},
    {"@": "Message", "t": "{y}", "v": {"x": 1}},
    {"@": "Message", "t": "{x:>999999999}", "v": {"x": 1}},
    {"@": "CodeError", "f": {}},  # not an allowlisted type
    {"@": "Summary", "f": {"model": "x", "__class__": 1}},  # an unknown field
    {"@": "subprocess.Popen", "v": ["touch", "pwned"]},
])
def test_the_parent_refuses_anything_but_the_allowlisted_shapes(data):
    with pytest.raises(ValueError):
        sandbox.decode(data)


def test_a_refusal_crosses_with_its_words():
    with pytest.raises(CodeError) as info:
        playground.parse_network("x = 1\nnet = nn.Linear(1, 1, device='cpu')\n")
    error = sandbox.decode_error(json.loads(json.dumps(sandbox.encode_error(info.value))))
    assert (str(error), error.line) == (str(info.value), 2)
    with use_language("zh"):
        assert render(error) == render(info.value) and render(error).startswith("第 2 行：")


def test_the_input_comment_is_read_in_linear_time():
    code = "\n" * 60_000 + "# input: 1" + " " * 3_000 + "y"
    start = time.perf_counter()
    assert playground.stated_input(code) is None
    assert playground.stated_input("x = 1\n   # Input = 3 x 32 x 32  \n") == (3, 32, 32)
    assert time.perf_counter() - start < 0.5  # was 4 s at 64 KB (a quadratic regular expression)


# --- workers ------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pool():
    pool = sandbox.Pool(1)
    yield pool
    pool.close()


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.mark.slow
def test_the_hostile_corpus_ends_in_a_worker_with_one_sentence(pool):
    """Every snippet of the corpus, in one warm worker: refused within the wall-clock limit, one sentence, and this
    process (the server's place) allocates nothing for it — its peak memory does not move."""
    sandbox.analyse("net = nn.Linear(2, 2)", (2,), pool=pool)  # the worker warm
    peak = rss_mb()
    for name, code in HOSTILE.items():
        if not isinstance(code, str):
            continue
        start = time.perf_counter()
        with pytest.raises((CodeError, ValueError)) as info:
            sandbox.analyse(code, (1, 8, 8), pool=pool)
        elapsed = time.perf_counter() - start
        assert elapsed < sandbox.DEFAULT_WORKER_LIMITS.seconds + 1, f"{name}: {elapsed:.1f} s"
        message = str(info.value)
        assert "\n" not in message and "Traceback" not in message and len(message) < 400, (name, message)
        assert not isinstance(info.value, sandbox.ProcessError), f"{name}: {message}"  # refused, not crashed
    assert rss_mb() - peak < 50


@pytest.mark.slow
def test_a_worker_that_crashes_hangs_or_runs_out_of_memory_is_one_sentence_and_replaced():
    """The interpreter's own limits loosened, so that the process-level ones act: a tuple 160,000 deep hashed
    (CPython recurses in C: SIGSEGV), a loop that never ends, a list of 10**9 elements; each is one sentence in
    both languages, and the pool's next worker analyses the notes' VGG exactly."""
    limits = sandbox.WorkerLimits(nodes=40, dot_seconds=0.001)
    pool = sandbox.Pool(1, limits)
    loose = {"value_nesting": 10**7, "ops": 10**12, "sequence": 10**10}
    cases = {
        "t = ()\nfor i in range(160000):\n    t = (t,)\nd = {t: 1}\n": ("the snippet crashed the interpreter process",
                                                                      "这段代码使解释器进程中止了"),
        "for i in range(10**12):\n    pass\n": ("the snippet ran out of its 3 s", "这段代码用完了它的 3 秒"),
        "x = [0] * 10**9\n": ("the snippet used more than 1.5 GB", "这段代码用掉的内存超过了 1.5 GB"),
    }
    try:
        for code, (english, chinese) in cases.items():
            sandbox.analyse("net = nn.Linear(2, 2)", (2,), pool=pool)  # a warm worker: its start is not timed
            seconds = 3.0 if "10**12" in code else limits.seconds  # the wall clock of this one request
            start = time.perf_counter()
            with pytest.raises(sandbox.ProcessError) as info:
                sandbox.analyse(code, (1, 8, 8), pool=pool, interpreter_limits=loose, seconds=seconds)
            assert time.perf_counter() - start < seconds + 2
            assert str(info.value) == english
            with use_language("zh"):
                assert render(info.value) == chinese
        vgg = sandbox.analyse(LISTINGS["vgg"].code, (1, 224, 224), pool=pool, draw="svg")
        assert vgg.summary.total_params == 128_806_154
        # VGG's 31 nodes are drawn, but Graphviz gets a thousandth of a second: no drawing, one sentence
        assert vgg.graph is not None and vgg.drawing is None
        assert str(vgg.diagram_error) == "the diagram is not drawn: Graphviz took longer than 0.001 s"
        # ResNet-18 has more nodes than this pool's diagrams may have: the table, not the diagram
        resnet = sandbox.analyse(ZOO_CODE["resnet18"], (1, 96, 96), pool=pool, draw="svg")
        assert resnet.summary.total_params == 11_178_378 and resnet.graph is None
        assert str(resnet.diagram_error).startswith("the diagram is not drawn: it has ")
        assert isinstance(resnet.diagram_error.reason, Message)
    finally:
        pool.close()


@pytest.mark.slow
def test_graph_code_from_a_shell(tmp_path, capsys):
    path = tmp_path / "lenet.py"
    path.write_text(ZOO_CODE["lenet"], encoding="utf-8")
    assert cli.main(["graph", "--code", str(path), "--json"]) == 0  # the input from '# input:'
    from_code = json.loads(capsys.readouterr().out)
    assert cli.main(["graph", "lenet", "--json"]) == 0
    from_id = json.loads(capsys.readouterr().out)
    assert (from_code.pop("model"), from_id.pop("model")) == ("lenet.py", "lenet")
    assert from_code["nodes"] == from_id["nodes"] and from_code["edges"] == from_id["edges"]
    svg = tmp_path / "lenet.svg"
    assert cli.main(["graph", "--code", str(path), "--format", "svg", "-o", str(svg)]) == 0
    assert svg.read_text(encoding="utf-8").count('class="node"') >= 12
    bad = tmp_path / "bad.py"
    bad.write_text("x = 1\nnet = nn.Linear(8000, 28000, device='cpu')\n", encoding="utf-8")
    assert cli.main(["graph", "--code", str(bad), "--input", "1,8,8", "--format", "png", "-o", str(svg)]) == 2
    err = capsys.readouterr().err
    assert err == "error: line 2: the keyword 'device' is not allowed: the playground chooses the device itself\n"
