"""The Playground in a real browser: type a network into the editor and see its layer table and totals.

The app-server fixture follows tests/browser/test_browser.py's pattern (copied, so the two files stay independent).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} not found (Debian package chromium)"),
]

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect
PlaywrightTimeout = playwright_api.TimeoutError

IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
RUNNING = '[data-testid="stApp"][data-test-script-state="running"]'
LOAD_MS = 90_000  # a fresh server's first run imports torch and analyses the default network
SHOW_MS = 30_000

CODE = """\
net = nn.Sequential(
    nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.Sigmoid(),
    nn.AvgPool2d(kernel_size=2, stride=2),
    nn.Conv2d(6, 16, kernel_size=5), nn.Sigmoid(),
    nn.AvgPool2d(kernel_size=2, stride=2),
    nn.Flatten(),
    nn.Linear(16 * 5 * 5, 120), nn.Sigmoid(),
    nn.Linear(120, 84), nn.Sigmoid(),
    nn.Linear(84, 10))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def app_url(repo_root, tmp_path_factory) -> Iterator[str]:
    """``streamlit run app.py`` on a free port; its base URL once ``/_stcore/health`` answers ``ok``."""
    port = _free_port()
    log_path = tmp_path_factory.mktemp("streamlit-playground") / "server.log"
    cmd = [
        sys.executable, "-m", "streamlit", "run", "app.py",
        "--server.headless", "true", "--server.port", str(port), "--server.address", "127.0.0.1",
        "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false",
    ]
    base = f"http://127.0.0.1:{port}"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, cwd=repo_root, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                pytest.fail(f"streamlit exited with {proc.returncode}:\n{log_path.read_text(errors='replace')}")
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as resp:
                    if resp.read().decode().strip() == "ok":
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"streamlit not healthy after 90 s:\n{log_path.read_text(errors='replace')}")
            time.sleep(0.2)
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


@pytest.fixture(scope="module")
def page(app_url):
    with playwright_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        yield context.new_page()
        context.close()
        browser.close()


def settle(page, timeout: int = LOAD_MS) -> None:
    for _ in range(20):
        page.wait_for_selector(IDLE, timeout=timeout)
        page.wait_for_timeout(300)
        if page.locator(IDLE).count():
            return
    raise AssertionError("the app never settled")


def test_type_a_network_and_see_its_layers(page, app_url):
    page.goto(f"{app_url}/playground")
    settle(page)
    editor = page.locator('[data-testid="stTextArea"] textarea')
    expect(editor).to_be_visible(timeout=SHOW_MS)
    input_box = page.get_by_label("Input size (C,H,W)", exact=True)
    input_box.fill("1,28,28")
    input_box.press("Enter")
    settle(page)
    editor.fill(CODE)
    editor.press("Control+Enter")  # a text area commits on Ctrl+Enter (or when it loses focus)
    try:
        page.wait_for_selector(RUNNING, timeout=3_000)
    except PlaywrightTimeout:
        pass
    settle(page)
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    expect(page.locator('[data-testid="stMetricValue"]').first).to_have_text("61,706", timeout=SHOW_MS)
    table = page.locator('[data-testid="stDataFrame"]').first
    expect(table).to_be_visible(timeout=SHOW_MS)
    expect(table).to_contain_text("Conv2d", timeout=SHOW_MS)
    assert "code=" in page.url, "the code lives in the URL"
