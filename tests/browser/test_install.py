"""``pip install .`` gives a working ``cnn-explorer``: the wheel built from the checkout, installed into a folder of
its own (the dependencies are those of the test's environment), runs the CLI from anywhere and serves the app, whose
pages draw in a real browser — in English and in Chinese (the catalog ships inside the package)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.browser.conftest import _free_port, assert_no_exception, expect, open_url, wait_until_healthy

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> dict:
    """The wheel installed into a fresh target folder: its ``bin/cnn-explorer`` and the environment that finds it
    (and not the checkout: the commands run from a temporary folder)."""
    wheels = tmp_path_factory.mktemp("wheel")
    target = tmp_path_factory.mktemp("site")
    pip = [sys.executable, "-m", "pip", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, "wheel", str(ROOT), "--no-build-isolation", "--no-deps", "-w", str(wheels)], check=True,
                   capture_output=True)
    (wheel,) = wheels.glob("cnn_explorer-*.whl")
    subprocess.run([*pip, "install", "--no-deps", "--target", str(target), str(wheel)], check=True,
                   capture_output=True)
    env = {**os.environ, "PYTHONPATH": str(target), "EXPLORER_HOME": str(tmp_path_factory.mktemp("home"))}
    return {"command": str(target / "bin" / "cnn-explorer"), "env": env, "cwd": tmp_path_factory.mktemp("cwd"),
            "target": target}


def _run(installed: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([installed["command"], *args], env=installed["env"], cwd=installed["cwd"],
                          capture_output=True, text=True, timeout=120)


def test_the_installed_command_is_the_library_of_the_wheel(installed):
    where = subprocess.run([sys.executable, "-c", "import explorer; print(explorer.__file__)"], env=installed["env"],
                           cwd=installed["cwd"], capture_output=True, text=True, check=True).stdout.strip()
    assert Path(where).is_relative_to(installed["target"])
    listed = json.loads(_run(installed, "list", "--json").stdout)
    assert {"lenet", "alexnet", "resnet50-tv"} <= {row["id"] for row in listed}
    summary = json.loads(_run(installed, "summary", "alexnet", "--json").stdout)
    assert summary["total_params"] == 62_378_344
    failed = _run(installed, "summary", "no-such-net")
    assert failed.returncode == 2 and failed.stderr.startswith("error: ") and "Traceback" not in failed.stderr


def test_the_installed_command_serves_the_app(installed, browser):
    port = _free_port()
    proc = subprocess.Popen([installed["command"], "serve", "--port", str(port), "--address", "127.0.0.1"],
                            env=installed["env"], cwd=installed["cwd"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(proc, base)
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US")
        page = context.new_page()
        open_url(page, f"{base}/architecture?model=lenet")
        expect(page.get_by_text("61,706").first).to_be_visible()
        assert_no_exception(page)
        open_url(page, f"{base}/?lang=zh")
        expect(page.get_by_text("首页").first).to_be_visible()
        assert_no_exception(page)
        context.close()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
