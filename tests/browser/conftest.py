"""The real-browser tests' shared machinery: one ``streamlit run app.py`` server and one Chromium for the whole
session, a fresh browser context (a new Streamlit session) per test, and helpers to wait for the app (import them:
``from tests.browser.conftest import settle, …``).

Everything under tests/browser is marked ``browser`` and ``slow`` here, for every test file of the directory
(``make test-fast`` leaves them out). One pytest-xdist worker runs them all, in order (``SHARED_WORKER`` in
tests/conftest.py), while the other runs the rest of the suite. Chromium and Playwright are test dependencies
(``make test`` installs both): a missing one fails these tests, it never skips them.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright import sync_api as playwright_api

HERE = Path(__file__).resolve().parent


# The one test that must be the fresh server's very first request (see its docstring): run before all others.
FIRST_REQUEST = "test_browser.py::test_deep_link_as_first_request"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # A conftest's collection hook sees every collected item, not only this directory's: pick ours by path.
    ours = [item for item in items if HERE in Path(item.path).parents]
    for item in ours:
        item.add_marker(pytest.mark.browser)
        item.add_marker(pytest.mark.slow)
    first = [item for item in ours if item.nodeid.endswith(FIRST_REQUEST)]
    if first and ours[0] is not first[0]:
        items.remove(first[0])
        items.insert(items.index(ours[0]), first[0])


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]

expect = playwright_api.expect
PlaywrightTimeout = playwright_api.TimeoutError

IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
RUNNING = '[data-testid="stApp"][data-test-script-state="running"]'
ADMIN_TOKEN = "class-teacher-token"  # the app server's EXPLORER_ADMIN_TOKEN: its teacher mode
LOAD_MS = 90_000  # a fresh server's first run imports torch and analyses its model
SHOW_MS = 30_000
RUN_MS = 180_000  # a training process starts (imports torch, reads the data) and ends: on a busy machine, minutes


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_healthy(proc: subprocess.Popen, base: str, log: Callable[[], str] = lambda: "") -> None:
    """Wait until the Streamlit server ``proc`` answers ``ok`` on ``base/_stcore/health`` (before any script runs);
    fail with its log when it exits or is not healthy within 90 s."""
    deadline = time.monotonic() + 90
    while True:
        if proc.poll() is not None:
            pytest.fail(f"the server exited with {proc.returncode}:\n{log()}")
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as resp:
                if resp.read().decode().strip() == "ok":
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"the server is not healthy after 90 s:\n{log()}")
        time.sleep(0.2)


@pytest.fixture(scope="session")
def weights_mirror(tmp_path_factory) -> Iterator[Path]:
    """A loopback HTTP server standing in for the checkpoint download site (``$EXPLORER_WEIGHTS_MIRROR`` of the app
    server): the folder it serves. Tests put files there; nothing ever reaches the internet."""
    import functools
    import http.server
    import threading

    folder = tmp_path_factory.mktemp("weights-mirror")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    folder.joinpath(".url").write_text(f"http://127.0.0.1:{server.server_address[1]}/")
    yield folder
    server.shutdown()


@pytest.fixture(scope="session")
def torch_home(tmp_path_factory) -> Path:
    """The app server's torch.hub folder (``$TORCH_HOME``): no checkpoint in it at the start."""
    return tmp_path_factory.mktemp("torch-home")


@pytest.fixture(scope="session")
def explorer_home(tmp_path_factory) -> Path:
    """The app server's run store (``$EXPLORER_HOME``): a tmp dir, never the user's ~/.cache/cnn-explorer."""
    return tmp_path_factory.mktemp("explorer-home")


@pytest.fixture(scope="session")
def app_url(repo_root, tmp_path_factory, weights_mirror, torch_home, explorer_home) -> Iterator[str]:
    """``streamlit run app.py`` on a free port; its base URL once ``/_stcore/health`` answers ``ok``."""
    port = _free_port()
    log_path = tmp_path_factory.mktemp("streamlit") / "server.log"
    cmd = [
        sys.executable, "-m", "streamlit", "run", "app.py",
        "--server.headless", "true", "--server.port", str(port), "--server.address", "127.0.0.1",
        "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false",
    ]
    base = f"http://127.0.0.1:{port}"
    # The run store of the Train page's runs: a tmp dir, never the user's ~/.cache/cnn-explorer.
    env = {**os.environ, "EXPLORER_HOME": str(explorer_home),
           # torch.hub's cache (checkpoints) is empty, and downloads go to the loopback mirror
           "TORCH_HOME": str(torch_home),
           "EXPLORER_WEIGHTS_MIRROR": (weights_mirror / ".url").read_text(),
           "EXPLORER_ADMIN_TOKEN": ADMIN_TOKEN,
           # the class test trains for minutes on purpose: its run must not meet the default 30-min estimate limit
           "EXPLORER_MAX_RUN_MINUTES": "100000"}
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, cwd=repo_root, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                env=env)
    try:
        wait_until_healthy(proc, base, lambda: log_path.read_text(errors="replace"))
        yield base
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        except ProcessLookupError:
            pass


@pytest.fixture(scope="session")
def browser():
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} not found: these tests need Debian's chromium (make test installs it)"
    with playwright_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    """A fresh browser context per test: a new Streamlit session each time, the browser's language pinned to
    English (the app's default language follows it; a test about Chinese asks for ``?lang=zh`` or its own context)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US")
    page = context.new_page()
    yield page
    context.close()


def settle(page, timeout: int = LOAD_MS) -> None:
    """Wait until the script has finished and stays finished for a moment (``st.rerun`` chains runs)."""
    for _ in range(20):
        page.wait_for_selector(IDLE, timeout=timeout)
        page.wait_for_timeout(300)
        if page.locator(IDLE).count():
            return
    raise AssertionError("the app never settled")


def rerun_after(page, action: Callable[[], None]) -> None:
    """Do ``action`` (a widget change), wait for the run it starts to begin, then for the app to settle."""
    action()
    try:
        page.wait_for_selector(RUNNING, timeout=3_000)
    except PlaywrightTimeout:
        pass  # a quick run may already be over
    settle(page)


def pick_option(page, combobox, name, typed: str = "") -> None:
    """Open the select box ``combobox``, type ``typed`` to filter it, and click the option named ``name`` (a string
    or a pattern) — again if the list closed before the click (a late rerun redraws the box), at most three times."""
    for _attempt in range(3):
        combobox.click()
        if typed:
            combobox.fill(typed)
        try:
            page.get_by_role("option", name=name).first.click(timeout=5_000)
            return
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
            settle(page)
    raise AssertionError(f"no option {name!r} in the select box")


def open_url(page, url: str) -> None:
    page.goto(url)
    settle(page)


def by_testid(page, testid: str):
    return page.locator(f'[data-testid="{testid}"]')


def assert_no_exception(page) -> None:
    expect(by_testid(page, "stException")).to_have_count(0)


