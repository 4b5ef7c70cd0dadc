"""Shared fixtures: the repository root (also put on ``sys.path``, so ``explorer`` and ``pages`` import under a bare
``pytest`` as under ``python -m pytest``, and the tests' own helpers as ``tests.<dir>.conftest``), and the
Fashion-MNIST gate.

Layout: tests mirror the library's packages (``tests/zoo`` for ``explorer/zoo``, …), ``tests/pages`` holds one AppTest
file per page of the app, ``tests/browser`` the real-browser flows. ``tests/contract.py`` is the public contract's
table of model ids. Tests marked ``slow`` (and all of ``tests/browser``) are left out by ``make test-fast``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


# Tests that must run on one pytest-xdist worker (``-n 2`` in pyproject's addopts), in collection order: the
# real-browser tests share one app server per worker and one of them must be that server's first request; the
# catalog tests share one Babel extraction. A path prefix → its group; every other test is its own unit of work.
SHARED_WORKER = {"tests/browser/": "browser", "tests/i18n/test_catalog.py": "catalog"}


def pytest_xdist_make_scheduler(config, log):
    """xdist's scope scheduling with the scopes above (its ``xdist_group`` marks do not reach the scheduler under
    this pytest, whose node ids are no longer the ``_nodeid`` attribute xdist rewrites)."""
    from xdist.scheduler import LoadScopeScheduling

    class SharedWorkerScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return next((group for prefix, group in SHARED_WORKER.items() if nodeid.startswith(prefix)), nodeid)

    return SharedWorkerScheduling(config, log)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def fashion_mnist() -> None:
    """Ask for this in a test that reads Fashion-MNIST. The dataset is a test dependency (``make test`` installs the
    Debian package dataset-fashion-mnist), so a missing copy fails the test, saying where it was looked for — it never
    skips: a skip would let a broken setup pass silently."""
    from explorer.runtime import data

    try:
        data.find("train")
        data.find("test")
    except data.DatasetNotFound as exc:
        pytest.fail(f"Fashion-MNIST is a test dependency (make test installs it): {exc}", pytrace=False)


@pytest.fixture(autouse=True, scope="session")
def _own_run_store(tmp_path_factory) -> None:
    """Every test sees an empty run store of its session ($EXPLORER_HOME), never the user's ~/.cache/cnn-explorer
    nor a store or artifact folder named by the user's environment ($EXPLORER_STORE_URL, $EXPLORER_ARTIFACTS);
    tests that need a store of their own set it with monkeypatch, which wins."""
    import os

    names = ("EXPLORER_HOME", "EXPLORER_STORE_URL", "EXPLORER_ARTIFACTS")
    previous = {name: os.environ.pop(name, None) for name in names}
    os.environ["EXPLORER_HOME"] = str(tmp_path_factory.mktemp("explorer-home"))
    yield
    for name, value in previous.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture
def hub_cache(tmp_path, monkeypatch) -> Path:
    """An empty torch.hub cache under tmp_path (``$TORCH_HOME``, with any ``set_dir`` undone), no weights mirror, no
    remembered hashes: the checkpoint folder the tests download into, add to and inspect."""
    import torch

    from explorer.runtime import hub

    monkeypatch.setattr(torch.hub, "_hub_dir", None)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.delenv(hub.MIRROR_ENV, raising=False)
    monkeypatch.setattr(hub, "_known_hashes", {})
    return tmp_path / "torch" / "hub" / "checkpoints"


def published_at(model_id: str, url: str):
    """A checkpoint record of ``model_id`` published at ``url`` (its file name: the URL's last part, whose suffix is
    the hash prefix), for a test to put into ``explorer.zoo.weights.CHECKPOINTS``."""
    from dataclasses import replace

    from explorer.zoo.weights import CHECKPOINTS, FashionMNISTInput, Weights

    name = url.rsplit("/", 1)[-1]
    if model_id in CHECKPOINTS:
        return replace(CHECKPOINTS[model_id], url=url, file=name)
    return Weights(model=model_id, file=name, url=url, transforms=FashionMNISTInput(), categories=(), metrics={},
                   num_params=0)
