#!/usr/bin/env python3
"""Same-run PyTorch baselines for the GPU Fig. 6 grid (issue 4), run by scripts/gpu-check.sh.

The grid: depths {2, 6, ..., 40} x 10 keep probabilities, 784 -> depth x 1000 -> 784,
batch 128, critical dropout (sigma_w^2 = 2p), MSE reconstruction, plain SGD. A grid-step is
one SGD step of all 100 networks. Prints one JSON line per measurement:

  products  only the matrix products of one grid-step (forward, input-gradient and
            weight-gradient bmm per layer, the 10 networks of a depth batched), captured
            as one CUDA graph and replayed: the floor for any implementation on cuBLAS
  train     a full PyTorch training step of the same grid (stacked weights, baddbmm,
            dropout, MSE, autograd, foreach SGD), eager and, where capture works, as a
            CUDA graph: what a PyTorch user of this grid gets

Precisions: fp32 (strict), tf32 (TF32 tensor cores), bf16 (bf16 operands, fp32
accumulation; for `train` through autocast). Usage:
  python3 scripts/torch-grid-baseline.py [--steps 20] [--device cuda] [--small]
"""

import argparse
import json
import sys
import time

import torch

DEPTHS = [2, 6, 10, 14, 18, 23, 27, 31, 35, 40]
KEEPS = [0.1 * (i + 1) for i in range(10)]


def set_precision(p):
    torch.backends.cuda.matmul.allow_tf32 = p == "tf32"
    torch.backends.cudnn.allow_tf32 = p == "tf32"
    torch.set_float32_matmul_precision("high" if p == "tf32" else "highest")


def sync(dev):
    if dev == "cuda":
        torch.cuda.synchronize()


def timed(fn, steps, dev):
    fn()
    fn()
    sync(dev)
    t0 = time.perf_counter()
    for _ in range(steps):
        fn()
    sync(dev)
    return (time.perf_counter() - t0) / steps


def dims(depth, width, d_in):
    return [d_in] + [width] * depth + [d_in]


def products(p, cfg, dev, steps):
    """Time of the bmm calls of one grid-step (graph-replayed on CUDA)."""
    set_precision(p)
    dt = torch.bfloat16 if p == "bf16" else torch.float32
    g, b = len(cfg["keeps"]), cfg["batch"]
    calls = []
    for depth in cfg["depths"]:
        d = dims(depth, cfg["width"], cfg["d_in"])
        for i in range(len(d) - 1):
            fi, fo = d[i], d[i + 1]
            x = torch.randn(g, b, fi, device=dev, dtype=dt)
            w = torch.randn(g, fo, fi, device=dev, dtype=dt)
            dy = torch.randn(g, b, fo, device=dev, dtype=dt)
            y = torch.empty(g, b, fo, device=dev, dtype=dt)
            dx = torch.empty(g, b, fi, device=dev, dtype=dt)
            dw = torch.empty(g, fo, fi, device=dev, dtype=dt)
            calls.append((x, w, dy, y, dx, dw, i > 0))

    def run():
        for x, w, dy, y, dx, dw, need_dx in calls:
            torch.bmm(x, w.transpose(1, 2), out=y)
            if need_dx:
                torch.bmm(dy, w, out=dx)
            torch.bmm(dy.transpose(1, 2), x, out=dw)

    fn, graphed = run, False
    if dev == "cuda":
        run()
        torch.cuda.synchronize()
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            run()
        fn, graphed = graph.replay, True
    sec = timed(fn, steps, dev)
    flops = 0
    for depth in cfg["depths"]:
        d = dims(depth, cfg["width"], cfg["d_in"])
        for i in range(len(d) - 1):
            flops += (3 if i > 0 else 2) * 2 * g * b * d[i] * d[i + 1]
    return {
        "check": "torch_products",
        "precision": p,
        "graph": graphed,
        "ms_per_grid_step": sec * 1e3,
        "grid_steps_per_second": 1.0 / sec,
        "tflops": flops / sec / 1e12,
    }


class Group(torch.nn.Module):
    """The networks of one depth, stacked: weights [G, out, in], per-network keep p."""

    def __init__(self, depth, cfg, dev):
        super().__init__()
        keeps = torch.tensor(cfg["keeps"], device=dev)
        self.register_buffer("keep", keeps.view(-1, 1, 1))
        d = dims(depth, cfg["width"], cfg["d_in"])
        g = len(cfg["keeps"])
        ws, bs = [], []
        for i in range(len(d) - 1):
            std = torch.sqrt(2 * keeps / d[i]).view(-1, 1, 1)
            ws.append(torch.nn.Parameter(torch.randn(g, d[i + 1], d[i], device=dev) * std))
            bs.append(torch.nn.Parameter(torch.zeros(g, 1, d[i + 1], device=dev)))
        self.ws = torch.nn.ParameterList(ws)
        self.bs = torch.nn.ParameterList(bs)

    def forward(self, x):
        h = x.expand(self.keep.shape[0], -1, -1)
        for i, (w, b) in enumerate(zip(self.ws, self.bs)):
            a = torch.relu(h) if i > 0 else h
            a = a * (torch.rand_like(a) < self.keep) / self.keep
            h = torch.baddbmm(b, a, w.transpose(1, 2))
        return h


def train(p, cfg, dev, steps, use_graph):
    set_precision(p)
    groups = [Group(d, cfg, dev) for d in cfg["depths"]]
    params = [q for gr in groups for q in gr.parameters()]
    x = torch.rand(cfg["batch"], cfg["d_in"], device=dev)
    lr = 1e-3

    def step():
        with torch.autocast(dev, dtype=torch.bfloat16, enabled=p == "bf16", cache_enabled=False):
            loss = sum(((gr(x).float() - x) ** 2).mean(dim=(1, 2)).sum() for gr in groups)
        loss.backward()
        with torch.no_grad():
            grads = [q.grad for q in params]
            torch._foreach_add_(params, grads, alpha=-lr)
            torch._foreach_zero_(grads)
        return loss

    fn, graphed = step, False
    if use_graph and dev == "cuda":
        try:
            s = torch.cuda.Stream()
            s.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(s):
                for _ in range(3):
                    step()
            torch.cuda.current_stream().wait_stream(s)
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph):
                step()
            fn, graphed = graph.replay, True
        except Exception as e:  # noqa: BLE001 - reported; the eager time is its own row
            note = f"graph capture failed: {type(e).__name__}: {str(e)[:200]}"
            return {"check": "torch_train", "precision": p, "graph": False, "error": note}
    sec = timed(fn, steps, dev)
    out = {
        "check": "torch_train",
        "precision": p,
        "graph": graphed,
        "ms_per_grid_step": sec * 1e3,
        "grid_steps_per_second": 1.0 / sec,
    }
    del groups, params
    if dev == "cuda":
        torch.cuda.empty_cache()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--small", action="store_true", help="tiny grid (script self-test)")
    ap.add_argument("--precisions", default="fp32,tf32,bf16")
    a = ap.parse_args()
    cfg = {"depths": DEPTHS, "keeps": KEEPS, "width": 1000, "batch": 128, "d_in": 784}
    if a.small:
        cfg = {"depths": [2, 3], "keeps": KEEPS[:3], "width": 16, "batch": 8, "d_in": 12}
    if a.device == "cuda" and not torch.cuda.is_available():
        print(json.dumps({"check": "torch", "available": False}))
        return 0
    info = {"check": "torch", "version": torch.__version__, "device": a.device}
    if a.device == "cuda":
        info["name"] = torch.cuda.get_device_name(0)
    print(json.dumps(info), flush=True)
    precisions = a.precisions.split(",")
    for p in precisions:
        print(json.dumps(products(p, cfg, a.device, a.steps)), flush=True)
    # Eager first: a failed graph capture can leave the CUDA context unusable.
    for use_graph in (False, True):
        for p in precisions:
            try:
                r = train(p, cfg, a.device, a.steps, use_graph)
            except Exception as e:  # noqa: BLE001
                r = {"check": "torch_train", "precision": p, "graph": use_graph,
                     "error": f"{type(e).__name__}: {str(e)[:200]}"}
            print(json.dumps(r), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
