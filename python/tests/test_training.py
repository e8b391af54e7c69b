"""A depth-20 dropout MLP on the embedded MNIST subset, trained from three
initialisations: noisyprop's critical one, Kaiming's and PyTorch's default.

Run as a script for the full comparison (8000 images, 5 epochs, dropout 0.1,
0.2 and 0.4, SGD and Adam); the test runs a small version of it.
"""

from __future__ import annotations

import sys
import time

from conftest import require_module

torch = require_module("torch")
from torch import nn  # noqa: E402

import noisyprop.torch as nt  # noqa: E402
from noisyprop.datasets import mnist_subset  # noqa: E402

DEPTH = 20
WIDTH = 256


def mlp(drop: float) -> nn.Sequential:
    layers = [nn.Linear(784, WIDTH)]
    for _ in range(DEPTH - 1):
        layers += [nn.ReLU(), nn.Dropout(drop), nn.Linear(WIDTH, WIDTH)]
    layers += [nn.ReLU(), nn.Dropout(drop), nn.Linear(WIDTH, 10)]
    return nn.Sequential(*layers)


def initialise(model: nn.Sequential, init: str, seed: int) -> None:
    if init == "noisyprop":
        nt.init_(model, seed=seed)
    elif init == "kaiming":
        for m in model:
            if isinstance(m, nn.Linear):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                nn.init.zeros_(m.bias)
    elif init != "default":
        raise ValueError(init)


def train(init: str, drop: float, n: int, epochs: int, optimizer: str = "sgd", seed: int = 0):
    """(mean training loss of the last epoch, validation accuracy)."""
    torch.manual_seed(seed)
    images, labels = mnist_subset()
    x, y = torch.tensor(images[:n]), torch.tensor(labels[:n])
    xv, yv = torch.tensor(images[8000:]), torch.tensor(labels[8000:])
    model = mlp(drop)
    initialise(model, init, seed)
    if optimizer == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    else:
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        model.train()
        total, count = 0.0, 0
        for idx in torch.randperm(n, generator=g).split(128):
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
            count += len(idx)
    model.eval()
    with torch.no_grad():
        acc = (model(xv).argmax(1) == yv).float().mean().item()
    return total / count, acc


def test_depth_20_dropout_mlp_trains_from_the_critical_init_only():
    """Dropout 0.4 (keep 0.6): Kaiming's σ_w² = 2 grows the signal by 1/0.6
    per layer (×2.7e4 in variance over 20 layers) and SGD diverges;
    PyTorch's default σ_w² = 1/3 shrinks it to the bias floor and the loss
    stays at chance (ln 10); the critical σ_w² = 2·0.6 trains."""
    torch.set_num_threads(2)
    torch.set_flush_denormal(True)  # the vanishing default init is all subnormals otherwise
    results = {init: train(init, 0.4, n=6000, epochs=3) for init in INITS}
    print("\ndepth 20, dropout 0.4, 6000 images, 3 epochs (train loss, val acc):", results)
    assert results["noisyprop"][0] < 2.1  # chance is ln 10 = 2.303
    kaiming = results["kaiming"][0]
    assert not kaiming < 2.25  # NaN (diverged) or at chance
    assert results["default"][0] > 2.25


INITS = ("noisyprop", "kaiming", "default")


if __name__ == "__main__":
    torch.set_num_threads(2)
    torch.set_flush_denormal(True)
    for optimizer in sys.argv[1:] or ["sgd", "adam"]:
        for drop in (0.1, 0.2, 0.4):
            for init in INITS:
                t = time.time()
                loss, acc = train(init, drop, n=8000, epochs=5, optimizer=optimizer)
                print(
                    f"{optimizer} dropout {drop} {init:9s} train loss {loss:.3f} "
                    f"val acc {acc:.3f} ({time.time() - t:.0f} s)",
                    flush=True,
                )
