"""noisyprop: critical initialisation and signal propagation in noisy deep networks.

Every number comes from the Rust library ``noisyprop-theory`` (Pretorius et
al., NeurIPS 2018, and its extensions); this package only spells the calls
in Python. The functions mirror the CLI: each returns the record
``noisyprop <command> --json`` prints, as a typed result with the same field
names, and bad input raises ``ValueError`` with the CLI's message.

>>> import noisyprop
>>> a = noisyprop.analyze("relu", "dropout:keep=0.6")
>>> round(a.sigma_w2, 6), round(a.c_star, 5), round(a.xi_c, 5)
(1.2, 0.28391, 0.96553)

Framework helpers: ``noisyprop.torch.init_(model)`` and
``noisyprop.keras.init_model(model)`` set every layer of a model to the
critical initialisation of the activation and noise that feed it.
"""

from __future__ import annotations

import math
from typing import Iterable, List, Optional, Sequence, Tuple, Union

from . import _native
from ._results import (
    Analysis,
    Check,
    Verdict,
    CriticalRow,
    CriticalTable,
    Init,
    Phase,
    PhaseCell,
    Result,
    Trajectory,
    TrajectoryLayer,
)

__version__: str = _native.__version__

__all__ = [
    "analyze",
    "init",
    "critical",
    "critical_table",
    "trajectory",
    "phase",
    "gain",
    "verdict",
    "Analysis",
    "Init",
    "CriticalRow",
    "CriticalTable",
    "Trajectory",
    "TrajectoryLayer",
    "Phase",
    "PhaseCell",
    "Result",
    "Check",
    "Verdict",
]

#: A noise spec (``"dropout:keep=0.8"``, ``"gauss-mult:std=0.5"``,
#: ``"Dropout(0.2)"``, ``"none"``), or a list of them applied in order.
NoiseSpec = Union[str, Sequence[str], None]


def _noises(noise: NoiseSpec) -> List[str]:
    if noise is None:
        return ["none"]
    if isinstance(noise, str):
        return [noise]
    if not isinstance(noise, (list, tuple)) or not all(isinstance(n, str) for n in noise):
        raise ValueError(
            f"noise must be a str (e.g. 'dropout:keep=0.8') or a list of str, got {noise!r}"
        )
    return list(noise) or ["none"]


def _names(value: object, what: str) -> List[str]:
    """A str or a list of str as a list (a bare str is one name, not its letters)."""
    if isinstance(value, str):
        return [value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{what} must be a str or a list of str, got {value!r}")
    return list(value)


def _count(value: object, name: str, low: int) -> int:
    """A whole number ≥ low, or ValueError naming it."""
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"{name} {value!r} is out of range; valid range is [{low}, inf) (whole numbers)")
    return value


def _text(value: object, name: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a str, got {value!r}")
    return value


def analyze(
    activation: str = "relu",
    noise: NoiseSpec = "none",
    sigma_w2: Optional[float] = None,
    sigma_b2: float = 0.0,
    *,
    q0: float = 1.0,
    depth_multiplier: float = 6.0,
    quadrature: bool = False,
    rule: str = "legendre",
    nodes: Optional[int] = None,
) -> Analysis:
    """Variance and correlation maps, fixed points, χ₁, depth scales, the
    critical σ_w², trainable depth and float overflow depths of one network
    (``noisyprop analyze``).

    ``activation``: relu, leaky-relu:slope=A, linear, abs, erf, tanh,
    sigmoid, gelu, silu, elu[:alpha=A], selu, softplus. ``sigma_w2=None``
    uses the critical σ_w² (raises ``ValueError`` where there is none).
    ``quadrature=True`` integrates numerically even where closed forms
    exist; ``nodes`` fixes the quadrature order (4..1024).
    """
    if nodes is not None:
        _count(nodes, "nodes", 0)
    return Analysis(
        _native.analyze(
            _text(activation, "activation"),
            _noises(noise),
            sigma_w2,
            sigma_b2,
            q0,
            depth_multiplier,
            quadrature,
            rule,
            nodes,
        )
    )


def init(
    activation: str = "relu",
    noise: NoiseSpec = "none",
    sigma_b2: float = 0.0,
    *,
    fan_in: int = 1000,
    depth_multiplier: float = 6.0,
    frameworks: Optional[Iterable[str]] = None,
    quadrature: bool = False,
    rule: str = "legendre",
    nodes: Optional[int] = None,
) -> Init:
    """The critical initialisation with its kind, predicted trainable depth
    and code for PyTorch, Keras, Flax, burn and candle (``noisyprop init``)."""
    return Init(
        _native.init(
            _text(activation, "activation"),
            _noises(noise),
            sigma_b2,
            _count(fan_in, "fan_in", 1),
            depth_multiplier,
            None if frameworks is None else _names(frameworks, "frameworks"),
            quadrature,
            rule,
            nodes,
        )
    )


def critical_table(
    activations: Optional[Iterable[str]] = None,
    noises: Iterable[str] = ("none", "dropout:keep=0.8"),
    sigma_b2s: Iterable[float] = (0.0, 0.05),
    *,
    quadrature: bool = False,
    rule: str = "legendre",
    nodes: Optional[int] = None,
) -> CriticalTable:
    """The critical initialisation of every activation × noise × σ_b²
    (``noisyprop critical``); a stacked noise is written ``"A, then B"``."""
    if activations is None:
        activations = [
            "relu",
            "leaky-relu:slope=0.01",
            "elu",
            "selu",
            "gelu",
            "silu",
            "tanh",
            "erf",
            "softplus",
        ]
    return CriticalTable(
        _native.critical(
            _names(activations, "activations"),
            _names(noises, "noises"),
            [float(s) for s in ([sigma_b2s] if isinstance(sigma_b2s, (int, float)) else sigma_b2s)],
            quadrature,
            rule,
            nodes,
        )
    )


def critical(
    activation: str = "relu",
    noise: str = "none",
    sigma_b2: float = 0.0,
    **options: object,
) -> CriticalRow:
    """The critical initialisation of one activation, noise and σ_b²: its
    kind (``every-q``, ``stable``, ``zero-from-above`` or ``none``), σ_w², q*
    and the reason in words; where there is none, where the edge of chaos
    starts (``edge_of_chaos_sigma_b2``). Never raises for "no critical
    point": ``kind == "none"`` says so."""
    if not isinstance(noise, str):
        noise = ", then ".join(_noises(noise))
    table = critical_table([activation], [noise], [sigma_b2], **options)  # type: ignore[arg-type]
    return table.rows[0]


def trajectory(
    activation: str = "relu",
    noise: NoiseSpec = "none",
    sigma_w2: Optional[float] = None,
    sigma_b2: float = 0.0,
    *,
    depth: int = 30,
    q0: float = 1.0,
    c0: float = 0.5,
    top_grad_correlation: float = 1.0,
    quadrature: bool = False,
    rule: str = "legendre",
    nodes: Optional[int] = None,
) -> Trajectory:
    """q^l and c^l layer by layer and the back-propagated gradient's second
    moment and correlation (``noisyprop trajectory``);
    ``.column("q")`` is an array over layers 0..=depth."""
    return Trajectory(
        _native.trajectory(
            _text(activation, "activation"),
            _noises(noise),
            sigma_w2,
            sigma_b2,
            _count(depth, "depth", 1),
            q0,
            c0,
            top_grad_correlation,
            quadrature,
            rule,
            nodes,
        )
    )


def phase(
    activation: str = "relu",
    noise: NoiseSpec = "none",
    *,
    y: str = "mu2",
    x_range: Tuple[float, float, int] = (0.1, 4.0, 200),
    y_range: Optional[Tuple[float, float, int]] = None,
    log_y: bool = False,
    sigma_b2: float = 0.0,
    q0: float = 1.0,
    depth_multiplier: float = 6.0,
    nodes: Optional[int] = None,
) -> Phase:
    """A phase diagram over σ_w² (x) and μ₂ or σ_b² (``y="mu2"`` or
    ``"sigma_b2"``) (``noisyprop phase``): regime, c*, χ_c, ξ_c and trainable
    depth per cell and the critical line. ``.grid("xi_c")`` is a
    (len(y), len(x)) numpy array."""
    return Phase(
        _native.phase(
            _text(activation, "activation"),
            _noises(noise),
            y,
            tuple(x_range),
            None if y_range is None else tuple(y_range),
            log_y,
            sigma_b2,
            q0,
            depth_multiplier,
            nodes,
        )
    )


#: PyTorch's names for ``torch.nn.init.calculate_gain`` in noisyprop's spelling.
_TORCH_NAMES = {
    "linear": "linear",
    "identity": "linear",
    "conv1d": "linear",
    "conv2d": "linear",
    "conv3d": "linear",
    "conv_transpose1d": "linear",
    "conv_transpose2d": "linear",
    "conv_transpose3d": "linear",
    "leaky_relu": "leaky-relu",
}


def gain(
    activation: str = "relu",
    noise: NoiseSpec = "none",
    param: Optional[float] = None,
    *,
    sigma_b2: float = 0.0,
) -> float:
    """The critical gain σ_w = √σ_w² of an activation followed by ``noise``,
    in the shape of ``torch.nn.init.calculate_gain``: initialise weights
    with std ``gain / sqrt(fan_in)``.

    Without noise it equals PyTorch's gain for relu (√2), leaky_relu
    (√(2/(1+a²)), ``param`` = a, default 0.01) and linear (1); with dropout
    (keep p) the ReLU gain is √(2p). Raises ``ValueError`` where no critical
    point exists (e.g. additive noise), with the reason.
    """
    if isinstance(noise, (int, float)) and not isinstance(noise, bool) and param is None:
        # calculate_gain("leaky_relu", 0.2): the second positional is torch's param.
        noise, param = "none", float(noise)
    name = _TORCH_NAMES.get(activation, activation)
    if name == "leaky-relu":
        name = f"leaky-relu:slope={0.01 if param is None else param}"
    elif param is not None:
        raise ValueError(f"param is only used by leaky_relu, not by {activation!r}")
    a = analyze(name, noise, None, sigma_b2)
    return math.sqrt(a.sigma_w2)


def verdict(
    theory: Sequence[float],
    samples: Sequence[Sequence[float]],
    width: int,
    quantity: str = "q",
) -> Verdict:
    """Does a measurement agree with the theory? The simulator's PASS/FAIL
    rule (``Verdict.rule``) for a quantity (``"q"``, ``"c"``, ``"grad_q"``,
    ``"grad_c"``) measured at layers 1..L of at least two independently
    initialised networks: ``samples[k][l]`` is network k's value at layer
    l + 1 and ``theory[l]`` the theory's (e.g. ``trajectory(...).column("q")[1:]``).
    Each layer passes when |theory − mean| ≤ t·SE + a, t Bonferroni-corrected
    over the layers, a = 1/√width (relative for q)."""
    theory = [float(t) for t in theory]
    bad = [l + 1 for l, t in enumerate(theory) if not math.isfinite(t)]
    if bad:
        raise ValueError(
            f"theory is not finite at layer(s) {bad[:5]}: nothing to compare there; "
            "drop those layers from theory and samples"
        )
    return Verdict(
        _native.verdict(
            quantity,
            theory,
            [[float(v) for v in s] for s in samples],
            _count(width, "width", 1),
        )
    )
