"""A class behind nginx, in real browsers: two Streamlit replicas and a training worker sharing a PostgreSQL run store
(the tests' throwaway cluster, tests/pg.py), nginx in front (scripts/serve_class.py with deploy/nginx.conf.template),
and two learners each kept on one replica by nginx's route cookie — forced here so that the two are on different
replicas. A run started through replica 2 (the worker trains it) shows live through replica 1, and so does its stop;
an upload through replica 1 classifies (it reaches the replica that holds the session); nginx's access log shows
every request of each learner — page, scripts, websocket, upload — served by their own replica.

This test is about servers, so it starts its own (the shared app server of the other browser tests is not used)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest

from explorer.runtime import images, inference
from scripts import serve_class
from tests.browser.conftest import (
    SHOW_MS,
    assert_no_exception,
    by_testid,
    expect,
    open_url,
    rerun_after,
    settle,
)
from tests.browser.test_classify import shop_photo
from tests.pg import postgres  # noqa: F401 — a fixture, used by name


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, request) -> Iterator[serve_class.ClassServers]:
    """Two replicas and a worker sharing a new database of the tests' PostgreSQL, nginx in front."""
    home = tmp_path_factory.mktemp("replicas-home")
    database = request.getfixturevalue("postgres").database()
    servers = serve_class.ClassServers(home, replicas=2, store_url=database, worker=True,
                                       env={"EXPLORER_MAX_RUN_MINUTES": "100000",  # a long run on purpose
                                            "OMP_NUM_THREADS": "1"})  # the run leaves a core to the pages
    with servers:
        yield servers


def _set_number(page, label: str, value: int) -> None:
    box = page.get_by_label(label, exact=True)
    rerun_after(page, lambda: (box.fill(str(value)), box.press("Enter")))


def _metric(page, label: str):
    return by_testid(page, "stMetric").filter(has_text=label)


def _served(cluster: serve_class.ClassServers, routes: list[str], least: dict[str, int]) -> dict[str, list[str]]:
    """nginx's access log: the replica of each request, per route; waits until each route has logged its websocket
    (written when it closes) and at least ``least[route]`` requests."""
    deadline = time.monotonic() + 30
    while True:
        served: dict[str, list[str]] = {r: [] for r in routes}
        sockets = dict.fromkeys(routes, False)
        for line in cluster.access_log.read_text().splitlines():
            match = re.search(r'"(\S+) (\S+) [^"]*" (\d+) .* upstream=(\S+) route=(\S+)$', line)
            if match and match.group(5) in served:
                served[match.group(5)].append(f"{match.group(1)} {match.group(2)} {match.group(4)}")
                sockets[match.group(5)] |= match.group(2) == "/_stcore/stream" and match.group(3) == "101"
        if all(sockets.values()) and all(len(served[r]) >= least[r] for r in routes):
            return served
        assert time.monotonic() < deadline, f"nginx never logged both learners' websockets: {served}"
        time.sleep(0.2)


def test_two_learners_on_two_replicas_an_upload_classifies_a_run_shows_live_through_the_other(
        browser, cluster, tmp_path):
    first, second = cluster.routes()  # route cookies nginx sends to replica 1 and replica 2
    contexts = []
    for route in (first, second):
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US")
        context.add_cookies([{"name": serve_class.ROUTE_COOKIE, "value": route, "url": cluster.url}])
        contexts.append(context)
    try:
        watcher, trainer = (c.new_page() for c in contexts)
        # Both replicas draw their first Train page at once (each imports PyTorch and measures a few steps for it).
        for page in (watcher, trainer):
            page.goto(f"{cluster.url}/train?model=lenet", wait_until="commit")

        # A run started through replica 2, which hands it to the worker (5,000 images for 500 epochs: it trains
        # until it is stopped, with a report point — where a Stop is seen — every 1,000 images) ...
        settle(trainer)
        _set_number(trainer, "Training images (0 = all 60,000)", 5000)
        _set_number(trainer, "Epochs", 500)
        trainer.get_by_role("button", name="Train", exact=True).click()
        heading = trainer.locator("h3").filter(has_text="Run ")
        expect(heading).to_contain_text(": lenet", timeout=SHOW_MS)
        run = heading.first.inner_text().split()[1].rstrip(":")

        # ... shows live through replica 1 (a learner arriving now): the same run, running, its speed coming in.
        settle(watcher)
        open_url(watcher, f"{cluster.url}/train?model=lenet")
        expect(watcher.locator("h3").filter(has_text=f"Run {run}: lenet")).to_be_visible(timeout=SHOW_MS)
        expect(watcher.get_by_text("Started by another learner.")).to_be_visible(timeout=SHOW_MS)
        expect(_metric(watcher, "Status").first).to_contain_text("running", timeout=SHOW_MS)
        expect(_metric(watcher, "Images/s").first.locator('[data-testid="stMetricValue"]')).to_have_text(
            re.compile(r"^[\d,]+$"), timeout=60_000)
        assert_no_exception(watcher)

        # Its owner stops it through replica 2: the worker stops it, and both pages follow.
        stop = trainer.locator(".st-key-tr_stop button").first
        expect(stop).to_be_enabled(timeout=SHOW_MS)
        stop.click()
        expect(_metric(trainer, "Status").first).to_contain_text("stopped", timeout=120_000)
        gone = watcher.get_by_text("No run in progress. Pick a preset and press Train.")  # nothing trains now
        expect(gone.or_(_metric(watcher, "Status").filter(has_text="stopped")).first).to_be_visible(timeout=SHOW_MS)
        assert_no_exception(trainer)

        # An upload through nginx reaches the replica that holds the session, and classifies.
        boot = shop_photo(0, tmp_path / "boot.jpg")
        expected = inference.classify(images.load_image(boot.read_bytes(), boot.name), inference.best_model()).top
        open_url(watcher, f"{cluster.url}/classify")
        dropzone = by_testid(watcher, "stFileUploaderDropzoneInput")
        expect(dropzone).to_be_attached(timeout=SHOW_MS)
        rerun_after(watcher, lambda: dropzone.set_input_files(str(boot)))
        prediction = _metric(watcher, "Prediction")
        expect(prediction).to_have_count(1, timeout=SHOW_MS)
        expect(prediction.locator('[data-testid="stMetricValue"]')).to_have_text(expected[0][0])
        assert_no_exception(watcher)
    finally:
        for context in contexts:
            context.close()  # closes the websockets: nginx logs them

    # Every request of each learner went to their own replica: the page, its scripts, the websocket, the upload.
    served = _served(cluster, [first, second], {first: 10, second: 10})
    for route, replica in ((first, cluster.replica_urls[0]), (second, cluster.replica_urls[1])):
        upstreams = {line.rsplit(" ", 1)[1] for line in served[route]}
        assert upstreams == {replica.removeprefix("http://")}, (route, upstreams)
    assert any(line.startswith("PUT /_stcore/upload_file/") for line in served[first]), served[first]
