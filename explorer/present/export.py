"""Take it with you: the layer table as CSV or JSON, the model as ONNX (opens in Netron), the runs table and a run's
history as CSV."""

from __future__ import annotations

import csv
import io
import json
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import torch

from ..analysis import Summary
from ..zoo import get_spec
from . import table

# Keys of the layer table (explorer.present.table.COLUMNS), written as the header row.
CSV_COLUMNS = ("index", "name", "type", "depth", "output_shape", "params", "macs", "memory_bytes", "rf", "stride",
               "arithmetic")


def layers_csv(summary: Summary) -> str:
    """One row per module call, in execution order (the same rows as ``summary --json``'s ``layers``)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in table.layer_rows(summary, CSV_COLUMNS, style="csv"):
        writer.writerow(row.values())
    return out.getvalue()


def layers_json(summary: Summary) -> str:
    """Exactly the ``summary --json`` object."""
    return json.dumps(summary.to_dict(), indent=2, ensure_ascii=False) + "\n"


def onnx_bytes(model_id: str, input_shape: Sequence[int] | None = None) -> bytes:
    """The model as an ONNX file (opset 17, batch dimension dynamic), with its shipped weights when it has them
    (random initial weights otherwise), checked with ``onnx.checker``."""
    import onnx

    spec = get_spec(model_id)
    model = spec.build().eval()
    if spec.trained is not None:
        from ..runtime.weights import load_shipped

        model.load_state_dict(load_shipped(model_id))
    shape = tuple(input_shape or spec.input_shape)
    x = torch.zeros((1, *shape))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{model_id}.onnx"
        torch.onnx.export(
            model, (x,), str(path), dynamo=False, opset_version=17, input_names=["input"],
            output_names=["output"], dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
        )
        data = path.read_bytes()
    onnx.checker.check_model(onnx.load_from_string(data))
    return data


def rows_csv(rows: Sequence[Mapping[str, object]], columns: Sequence[str]) -> str:
    """Rows as CSV with ``columns`` as the header: numbers as Python writes them (full precision), an empty cell for
    ``None``. The runs table (:func:`explorer.runtime.history.table_rows`) and a run's history
    (:func:`explorer.runtime.history.history_rows`) download and export this way."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
