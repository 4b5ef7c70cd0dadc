"""ResNet-18 (torchvision layout, 3×224×224) inference throughput at batch 64 on the GPU: fp32 vs channels_last vs
bf16 autocast, and the app's end-to-end predict time vs the bare forward pass for one image.

    python scripts/gpu_bench.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from explorer import build  # noqa: E402


def throughput(model, x, autocast: bool, iters: int = 50) -> float:
    with torch.inference_mode(), torch.autocast("cuda", dtype=torch.bfloat16, enabled=autocast):
        for _ in range(10):
            model(x)
        torch.cuda.synchronize()
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(iters):
            model(x)
        end.record()
        torch.cuda.synchronize()
    return iters * x.shape[0] / (start.elapsed_time(end) / 1000)


def main() -> int:
    if not torch.cuda.is_available():
        print("no CUDA GPU: nothing to measure")
        return 0
    torch.backends.cudnn.benchmark = True
    print(f"{torch.cuda.get_device_name(0)}, torch {torch.__version__}")
    model = build("resnet18-tv").cuda().eval()
    x = torch.randn(64, 3, 224, 224, device="cuda")
    rows = [
        ("fp32, NCHW", model, x, False),
        ("bf16 autocast, NCHW", model, x, True),
    ]
    cl_model = build("resnet18-tv").cuda().eval().to(memory_format=torch.channels_last)
    cl_x = x.to(memory_format=torch.channels_last)
    rows += [("fp32, channels_last", cl_model, cl_x, False), ("bf16 autocast, channels_last", cl_model, cl_x, True)]
    base = None
    for name, m, inp, ac in rows:
        ips = throughput(m, inp, ac)
        base = base or ips
        print(f"resnet18-tv batch 64 {name:30s} {ips:10,.0f} images/s  ({ips / base:.2f}×)")

    # End-to-end classify (preprocess + forward + sync) vs the bare forward pass, one image, shipped model.
    from PIL import Image

    try:
        from explorer.runtime import inference

        model_id = inference.best_model()
    except (ImportError, LookupError) as exc:
        print(f"predict: skipped ({exc})")
        return 0
    loaded = inference.load(model_id, "cuda")
    image = Image.new("RGB", (300, 300), (250, 250, 250))
    for _ in range(20):
        inference.classify(image, model_id, device="cuda")
    t = time.perf_counter()
    for _ in range(200):
        inference.classify(image, model_id, device="cuda")
    e2e = (time.perf_counter() - t) / 200 * 1000
    x1 = inference.prepare(model_id, image)[None].cuda()
    with torch.inference_mode():
        t = time.perf_counter()
        for _ in range(200):
            loaded.module(x1)
            torch.cuda.synchronize()
    bare = (time.perf_counter() - t) / 200 * 1000
    print(f"{model_id} on cuda: predict end-to-end {e2e:.3f} ms, bare forward {bare:.3f} ms, ratio {e2e / bare:.2f}×")
    return 0


if __name__ == "__main__":
    sys.exit(main())
