"""Train every model that has a recipe in ``explorer.runtime.train.RECIPES``; write its weights and training record.

    python scripts/train_shipped.py OUT_DIR [--device auto] [--limit N]

Writes ``OUT_DIR/<id>.safetensors`` and ``OUT_DIR/<id>.json`` (recipe, per-epoch history, test accuracy on the
device that trained). ``python -m explorer train ID --ship`` does the same for one model and ships it directly.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from safetensors.torch import save_file  # noqa: E402

from explorer.runtime import train  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--limit", type=int)
    parser.add_argument("--epochs", type=int, help="override every recipe's epochs (quick checks)")
    parser.add_argument("--only", nargs="*", help="model ids (default: every recipe)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for model_id, recipe in train.RECIPES.items():
        if args.only and model_id not in args.only:
            continue
        if args.epochs:
            from dataclasses import replace

            recipe = replace(recipe, epochs=args.epochs)
        print(f"== {model_id}: {recipe}", flush=True)
        model, result = train.train(model_id, recipe, device=args.device, limit=args.limit, report=print)
        info = result.info()
        accuracy, correct = train.test_accuracy(model, model_id, args.device)
        info.update(test_accuracy=round(accuracy, 4), correct=correct)
        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(args.out / f"{model_id}.safetensors"))
        (args.out / f"{model_id}.json").write_text(json.dumps(info, indent=2))
        print(f"{model_id}: test accuracy {accuracy:.4f} in {info['seconds']} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
