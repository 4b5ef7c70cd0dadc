"""The Playground page (AppTest): code from the URL, the numbers it shows, a refused snippet, the start-from menu."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest

from explorer.playground import LISTINGS, ZOO_CODE, decode_code, encode_code

TIMEOUT = 180


@pytest.fixture
def open_playground(repo_root) -> Callable[..., AppTest]:
    def _open(**query: str) -> AppTest:
        at = AppTest.from_file(repo_root / "app.py", default_timeout=TIMEOUT)
        at.switch_page("pages/playground.py")
        for key, value in query.items():
            at.query_params[key] = value
        return at.run()

    return _open


def query(at: AppTest, key: str) -> str:
    value = at.query_params[key]
    return value if isinstance(value, str) else value[0]


def metric_values(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_default_is_the_notes_vgg(open_playground):
    at = open_playground()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error
    assert at.text_area[0].value == LISTINGS["vgg"].code
    assert metric_values(at)["Parameters"] == "128,806,154"


def test_deep_link_round_trips(open_playground):
    code = ZOO_CODE["lenet"]
    at = open_playground(code=encode_code(code), input="1,28,28")
    assert not at.exception, [e.value for e in at.exception]
    assert at.text_area[0].value == code
    assert at.text_input(key="pg_input").value == "1,28,28"
    assert metric_values(at)["Parameters"] == "61,706"
    layers = at.dataframe[0].value
    assert list(layers["type"])[:3] == ["Sequential", "Conv2d", "Sigmoid"]
    assert decode_code(query(at, "code")) == code
    [viewer] = at.get("bidi_component")  # the diagram: Graphviz's SVG in the bounded, zoomable viewer
    shown = json.loads(viewer.proto.json)
    assert shown["height"] <= 700 and shown["svg"].count('class="node"') >= 12  # input, LeNet's layers, output


def test_refused_snippet_is_one_error_and_the_text_stays(open_playground):
    at = open_playground(input="1,28,28")
    bad = "x = 1\nimport os\nnet = os.system('ls')\n"
    at.text_area[0].input(bad).run()
    assert not at.exception
    assert [e.value for e in at.error] == [
        "line 2: 'import os' is not allowed: only torch, torch.nn and torch.nn.functional can be imported"]
    assert at.text_area[0].value == bad
    assert decode_code(query(at, "code")) == bad


def test_the_notes_nin_names_its_line(open_playground):
    at = open_playground(code=encode_code(LISTINGS["nin-notes"].code), input="1,224,224")
    assert not at.exception
    assert at.error[0].value.startswith("line 5: Conv2d(384, 384, kernel_size=(3, 3)")


def test_start_from_a_listing_and_compare(open_playground):
    at = open_playground()
    at.selectbox(key="pg_start").select("listing:googlenet").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.text_input(key="pg_input").value == "1,96,96"
    assert metric_values(at)["Parameters"] == "5,977,530"
    at.selectbox(key="pg_compare").select("googlenet").run()
    compared = at.dataframe[1].value
    assert list(compared["parameters"]) == ["5,977,530 (5.98 M)"] * 2


@pytest.mark.slow
def test_a_snippet_that_crashes_its_worker_is_one_sentence_and_the_server_serves_on(open_playground, monkeypatch):
    """A tuple 160,000 deep, hashed, crashes the interpreter process (CPython recurses in C): with the interpreter's
    nesting limit loosened the snippet reaches its worker and kills it. The page (this process: AppTest runs the
    script here) says so in one sentence and serves the next pages; it never interprets the snippet itself."""
    from explorer.playground.interpreter import Interpreter
    from explorer.present import sandbox

    def interpreted_here(*args, **kwargs):
        raise AssertionError("the server process interpreted a snippet")

    monkeypatch.setattr(Interpreter, "run", interpreted_here)  # in this process only; the workers are fresh ones
    monkeypatch.setattr(sandbox, "INTERPRETER_LIMITS", {"value_nesting": 10**7, "ops": 10**7})
    bomb = "t = ()\nfor i in range(160000):\n    t = (t,)\nd = {t: 1}\nnet = nn.Linear(2, 2)\n"
    at = open_playground(code=encode_code(bomb), input="2")
    assert not at.exception, [e.value for e in at.exception]
    assert [e.value for e in at.error] == ["the snippet crashed the interpreter process"]
    assert at.text_area[0].value == bomb  # the code stays, to be fixed
    at.switch_page("pages/home.py")
    at.run()
    assert not at.exception and not at.error
    lenet = open_playground(code=encode_code(ZOO_CODE["lenet"]), input="1,28,28")  # a fresh worker
    assert not lenet.exception and metric_values(lenet)["Parameters"] == "61,706"
