"""The pages' AppTest fixture and the helpers that read what a page shows (import them:
``from tests.pages.conftest import metrics, …``).

``st.cache_data`` is shared by all the AppTests of the process, so only the first analysis of each model costs
anything.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from explorer.lessons import notes

REPO = Path(__file__).resolve().parents[2]
# The pages app.py routes to, in its order ("pages/home.py", …).
PAGE_FILES = re.findall(r"""st\.Page\(\s*["'](pages/[^"']+\.py)["']""", (REPO / "app.py").read_text(encoding="utf-8"))
TIMEOUT = 180  # seconds; a process's first run imports torch and analyses the model

# The public contract's numbers, spelled as the app must show them (exact, with thousands separators).
ALEXNET_PARAMS = "62,378,344"
VGG16_PARAMS = "138,357,544"


@pytest.fixture
def open_page(repo_root) -> Callable[..., AppTest]:
    """``open_page("architecture", model="alexnet")``: a fresh session on that page (``pages/<page>.py``; Home when
    omitted) with that query string, run once."""

    def _open(page: str | None = None, **query: str) -> AppTest:
        at = AppTest.from_file(repo_root / "app.py", default_timeout=TIMEOUT)
        if page:
            at.switch_page(f"pages/{page}.py")
        for key, value in query.items():
            at.query_params[key] = value
        return at.run()

    return _open


def open_tab(at: AppTest, label: str, key: str = "arch_tab") -> AppTest:
    """Select the tab ``label`` of the ``st.tabs`` with ``key`` (a tab set that draws only its open tab) and rerun."""
    at.session_state[key] = label
    return at.run()


# --- what a page shows ------------------------------------------------------------------------------------------
def metrics(at: AppTest) -> dict[str, str]:
    """label → value of every ``st.metric`` shown."""
    return {m.label: m.value for m in at.metric}


def metrics_with_delta(at: AppTest) -> dict[str, tuple[str, str]]:
    """label → (value, delta) of every ``st.metric`` shown."""
    return {m.label: (m.value, m.delta) for m in at.metric}


def markdown(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown]


def text(at: AppTest) -> str:
    """All the markdown and captions shown, one per line."""
    return "\n".join([*markdown(at), *(c.value for c in at.caption)])


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def figures(at: AppTest) -> list[dict]:
    """The plotly figures shown, as their JSON specs."""
    return [json.loads(el.proto.spec) for el in at.get("plotly_chart")]


def title(fig: dict) -> str:
    return fig["layout"].get("title", {}).get("text", "")


def values(v) -> np.ndarray:
    """A plotly array from the JSON spec: a list, or numpy's typed-array encoding (dtype, base64 bytes, shape)."""
    if isinstance(v, dict) and "bdata" in v:
        out = np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"]))
        return out.reshape([int(s) for s in str(v.get("shape", len(out))).split(",")])
    return np.array(v, dtype=float)


def as_int(shown: str) -> int:
    return int(shown.replace(",", ""))


# --- assertions -------------------------------------------------------------------------------------------------
def assert_no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def assert_clean(at: AppTest) -> None:
    """No exception and no ``st.error``."""
    assert_no_exception(at)
    assert not at.error, errors(at)


def assert_notes_panel(at: AppTest, key: str) -> None:
    """The notes' points are shown in Chinese and in English, side by side."""
    heading_zh, heading_en, points = notes.section(key)
    [panel] = [e for e in at.expander if heading_zh in e.label]
    assert heading_en in panel.label
    shown = "\n".join(m.value for m in panel.markdown)
    for point in points:
        assert point.zh in shown and point.en in shown


# --- a resnet18-tv checkpoint with random weights ----------------------------------------------------------------
def random_resnet18_checkpoint() -> tuple[str, bytes]:
    """(file name, bytes) of a real resnet18 state dict with random values (positive variances) under a name that
    carries its SHA-256 prefix, as torchvision's do: what the Classify page's ImageNet flows load without a network."""
    import hashlib
    import io

    import torch

    import explorer

    generator = torch.Generator().manual_seed(0)
    state = {k: torch.randn(v.shape, generator=generator) if v.is_floating_point() else v
             for k, v in explorer.build("resnet18-tv").state_dict().items()}
    state.update({k: v.abs() + 0.5 for k, v in state.items() if k.endswith("running_var")})  # variances are positive
    buffer = io.BytesIO()
    torch.save(state, buffer)
    payload = buffer.getvalue()
    return f"resnet18-{hashlib.sha256(payload).hexdigest()[:8]}.pth", payload


def forget_loaded_resnet18() -> None:
    """Drop resnet18-tv from the loaded-model cache: a test's random weights must not serve later tests."""
    from explorer.runtime import inference

    with inference._CACHE_LOCK:
        for key in [k for k in inference._CACHE if k[0] == "resnet18-tv"]:
            del inference._CACHE[key]
