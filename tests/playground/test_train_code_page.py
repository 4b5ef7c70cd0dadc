""""Train this" on the Playground page (AppTest): a network that cannot train is refused with one sentence and the
code stays; one that can joins the Train page's queue, trains in its own process and lands in the store with its
code; the Train page shows its code and a link back to the playground; Classify classifies with its weights."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest
from streamlit.testing.v1 import AppTest

from explorer.playground import decode_code, encode_code
from explorer.runtime import coderun, jobs, runs
from tests.pages.conftest import assert_no_exception, errors

TIMEOUT = 180
TINY = """\
net = nn.Sequential(nn.Conv2d(1, 4, 5, padding=2), nn.ReLU(), nn.AvgPool2d(4), nn.Flatten(),
                    nn.Linear(4 * 7 * 7, 10))
"""


@pytest.fixture(autouse=True)
def explorer_home(tmp_path, monkeypatch):
    monkeypatch.setenv("EXPLORER_HOME", str(tmp_path / "home"))


def _playground(repo_root, code: str, **query: str) -> AppTest:
    at = AppTest.from_file(repo_root / "app.py", default_timeout=TIMEOUT)
    at.switch_page("pages/playground.py")
    at.query_params["code"] = encode_code(code)
    at.query_params["input"] = "1,28,28"
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


@pytest.mark.slow  # two app runs and a click
def test_a_network_without_10_outputs_is_refused_and_the_code_stays(repo_root):
    code = "net = nn.Sequential(nn.Flatten(), nn.Linear(784, 5))\n"
    at = _playground(repo_root, code)
    assert_no_exception(at)
    assert any(c.value.startswith("This network needs 2 MB for batch 256; the limit is 1 GB") for c in at.caption)
    at.button(key="pg_train").click().run()
    assert_no_exception(at)
    assert errors(at) == ["the network gives 5 values per image, not the 10 class scores Fashion-MNIST needs: end it "
                          "with a layer of 10 outputs, such as nn.Linear(…, 10)"]
    assert at.text_area(key="pg_code").value == code and runs.Store().list() == []
    assert "pg_tr_run" not in at.session_state

    at = _playground(repo_root, code, lang="zh")  # the sentence in the reader's language
    at.button(key="pg_train").click().run()
    assert errors(at) == ["这个网络对每张图像输出 5 个值，而不是 Fashion-MNIST 需要的 10 个类别得分："
                          "请以一个 10 输出的层结尾，例如 nn.Linear(…, 10)"]


@pytest.mark.slow  # a real (tiny) run, in a child process of the job manager
@pytest.mark.usefixtures("fashion_mnist")
def test_train_this_queues_a_run_that_trains_with_its_code(repo_root):
    at = _playground(repo_root, TINY)
    at.number_input(key="pg_tr_epochs").set_value(1)
    at.number_input(key="pg_tr_limit").set_value(512)
    at.button(key="pg_train").click().run()
    assert_no_exception(at)
    assert errors(at) == []
    run = at.session_state["pg_tr_run"]
    assert any(s.value.startswith(f"Run {run} is queued") for s in at.success)
    job = jobs.manager().wait(run, timeout=150)
    assert job.status == "done", job.error
    row = runs.Store().get(run)
    assert (row["model"], row["code"], row["status"]) == (coderun.code_id(TINY), TINY, "done")
    assert row["recipe"]["resize"] == 28 and row["train_limit"] == 512 and row["info"]["train_images"] == 512

    train = AppTest.from_file(repo_root / "app.py", default_timeout=TIMEOUT)
    train.switch_page("pages/train.py")
    train.query_params["run"] = run
    train.run()
    assert_no_exception(train)
    assert train.session_state["tr_run"] == run
    assert [c.value for c in train.get("code")][:1] == [TINY.rstrip("\n")]
    [link] = [p for p in train.get("page_link") if p.proto.label == "Open it in the playground"]
    query = dict(parse_qsl(link.proto.query_string))
    assert decode_code(query["code"]) == TINY and query["input"] == "1,28,28"

    classify = AppTest.from_file(repo_root / "app.py", default_timeout=TIMEOUT)  # its weights classify, in a child
    classify.switch_page("pages/classify.py")
    classify.query_params["run"] = run
    classify.run()
    assert_no_exception(classify)
    assert errors(classify) == [] and [m.label for m in classify.metric] == ["Prediction"]
