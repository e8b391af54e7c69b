#!/usr/bin/env python3
"""PyTorch CPU baseline of the engine's training-step benchmark (crates/engine/benches/train.rs):
784 -> 20 x 1000 -> 10, batch 128, ReLU, dropout keep 0.8 on every layer input (the raw input
and the output layer's too), critical init sigma_w^2 = 1.6, softmax cross-entropy, plain SGD,
2 threads. Prints steps/s (the fastest of several rounds, as the Rust benchmark reports).

  python3 scripts/torch-cpu-step.py [--threads 2] [--rounds 5] [--steps 20]
"""

import argparse
import json
import time

import torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--steps", type=int, default=20)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    dims = [784] + [1000] * 20 + [10]
    layers = []
    for i in range(len(dims) - 1):
        lin = torch.nn.Linear(dims[i], dims[i + 1])
        torch.nn.init.normal_(lin.weight, std=(1.6 / dims[i]) ** 0.5)
        torch.nn.init.zeros_(lin.bias)
        layers += [torch.nn.Dropout(0.2), lin]
        if i + 2 < len(dims):
            layers.append(torch.nn.ReLU())
    net = torch.nn.Sequential(*layers).train()
    opt = torch.optim.SGD(net.parameters(), lr=1e-3)
    x = torch.rand(128, 784)
    y = torch.arange(128) % 10
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(net(x), y)
        loss.backward()
        opt.step()

    for _ in range(3):
        step()
    best = float("inf")
    for _ in range(a.rounds):
        t0 = time.perf_counter()
        for _ in range(a.steps):
            step()
        best = min(best, (time.perf_counter() - t0) / a.steps)
    print(json.dumps({"check": "torch_cpu_step", "torch": torch.__version__,
                      "threads": a.threads, "steps_per_second": 1.0 / best}))


if __name__ == "__main__":
    main()
