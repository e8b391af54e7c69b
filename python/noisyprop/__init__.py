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
import os
from typing import Iterable, List, Optional, Sequence, Tuple, Union

from . import _native
from ._results import (
    Analysis,
    Simulation,
    Training,
    VarianceDepth,
    TrainableDepth,
    Reproduction,
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
    "simulate",
    "train",
    "variance_depth",
    "trainable_depth",
    "reproduce",
    "figures",
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
    "Simulation",
    "Training",
    "VarianceDepth",
    "TrainableDepth",
    "Reproduction",
]

#: A noise spec (``"dropout:keep=0.8"``, ``"gauss-mult:std=0.5"``,
#: ``"Dropout(0.2)"``, ``"none"``), or a list of them applied in order.
NoiseSpec = Union[str, Sequence[str], None]


class _Defaults:
    """The defaults of a command's request, read from the Rust operations
    layer (``noisyprop-ops``): the signatures below hold none of their own."""

    def __init__(self, command: str) -> None:
        self._values = _native.defaults(command)

    def __getattr__(self, name: str) -> object:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None


def _plain(value: object) -> object:
    """numpy arrays and scalars as the Python lists and numbers they hold
    (the Rust side reads Python's own types)."""
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    if type(value).__module__ == "numpy" and hasattr(value, "tolist"):
        return value.tolist()  # type: ignore[attr-defined]
    return value


def _path(name: str, value: object) -> object:
    """``value`` as a path (``os.fspath``); a value that is none names the
    argument, as the Rust side's errors do."""
    try:
        return os.fspath(value)  # type: ignore[call-overload]
    except TypeError:
        raise TypeError(
            f"{name}={value!r}: invalid type: {type(value).__name__}, expected a path "
            "(str or os.PathLike)"
        ) from None


def _run(command: str, arguments: dict) -> dict:
    """The record of ``command`` for the function's arguments (``locals()``)."""
    return _native.run(command, {k: _plain(v) for k, v in arguments.items()})


_analyze = _Defaults("analyze")
_init = _Defaults("init")
_critical = _Defaults("critical")
_trajectory = _Defaults("trajectory")
_phase = _Defaults("phase")
_verdict = _Defaults("verdict")
_simulate = _Defaults("simulate")
_train = _Defaults("train")
_variance_depth = _Defaults("variance-depth")
_trainable_depth = _Defaults("trainable-depth")
_reproduce = _Defaults("reproduce")
_figures = _Defaults("figures")


def analyze(
    activation: str = _analyze.activation,
    noise: NoiseSpec = _analyze.noise,
    sigma_w2: Optional[float] = _analyze.sigma_w2,
    sigma_b2: float = _analyze.sigma_b2,
    *,
    q0: float = _analyze.q0,
    depth_multiplier: float = _analyze.depth_multiplier,
    depth: Optional[int] = _analyze.depth,
    quadrature: bool = _analyze.quadrature,
    rule: str = _analyze.rule,
    nodes: Optional[int] = _analyze.nodes,
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
    return Analysis(_run("analyze", locals()))


def init(
    activation: str = _init.activation,
    noise: NoiseSpec = _init.noise,
    sigma_b2: float = _init.sigma_b2,
    *,
    framework: Union[str, Sequence[str]] = _init.framework,
    fan_in: int = _init.fan_in,
    depth_multiplier: float = _init.depth_multiplier,
    quadrature: bool = _init.quadrature,
    rule: str = _init.rule,
    nodes: Optional[int] = _init.nodes,
) -> Init:
    """The critical initialisation with its kind, predicted trainable depth
    and code for PyTorch, Keras, Flax, burn and candle (``noisyprop init``;
    ``framework`` picks some, default all)."""
    return Init(_run("init", locals()))


def critical_table(
    activations: Union[str, Sequence[str]] = _critical.activations,
    noises: Union[str, Sequence[str]] = _critical.noises,
    sigma_b2s: Union[float, Sequence[float]] = _critical.sigma_b2s,
    *,
    quadrature: bool = _critical.quadrature,
    rule: str = _critical.rule,
    nodes: Optional[int] = _critical.nodes,
) -> CriticalTable:
    """The critical initialisation of every activation × noise × σ_b²
    (``noisyprop critical``; no activations: the table's nine); a stacked
    noise is written ``"A, then B"``."""
    return CriticalTable(_run("critical", locals()))


def critical(
    activation: str = _analyze.activation,
    noise: NoiseSpec = _analyze.noise,
    sigma_b2: float = _analyze.sigma_b2,
    *,
    quadrature: bool = _critical.quadrature,
    rule: str = _critical.rule,
    nodes: Optional[int] = _critical.nodes,
) -> CriticalRow:
    """The critical initialisation of one activation, noise and σ_b²: its
    kind (``every-q``, ``stable``, ``zero-from-above`` or ``none``), σ_w², q*
    and the reason in words; where there is none, where the edge of chaos
    starts (``edge_of_chaos_sigma_b2``). Never raises for "no critical
    point": ``kind == "none"`` says so."""
    if isinstance(noise, (list, tuple)) and all(isinstance(n, str) for n in noise):
        noise = ", then ".join(noise) if noise else "none"
    try:
        table = critical_table(
            [activation], [noise], [sigma_b2], quadrature=quadrature, rule=rule, nodes=nodes
        )
    except (ValueError, TypeError) as e:
        raise type(e)(_one_of_the_table(str(e))) from None
    return table.rows[0]


#: critical()'s arguments by the names of critical_table()'s lists.
_TABLE_NAMES = {"activations": "activation", "noises": "noise", "sigma_b2s": "sigma_b2"}


def _one_of_the_table(message: str) -> str:
    """A critical_table() error as critical()'s: its argument's name (and
    value, not the one-element list critical() passed)."""
    import re

    plural = "|".join(_TABLE_NAMES)
    message = re.sub(
        rf"^({plural})=\[(.*?)\]: ", lambda m: f"{_TABLE_NAMES[m[1]]}={m[2]}: ", message, count=1
    )
    message = re.sub(rf"^({plural})(?=[=:])", lambda m: _TABLE_NAMES[m[1]], message, count=1)
    head, sep, hint = message.partition("\n\nhint: ")
    if sep and hint.startswith("noises is a list"):
        # critical() stacks a list of noises itself.
        hint = "to stack noises, give them one by one: noise=[A, B]"
    return head + sep + hint


def trajectory(
    activation: str = _trajectory.activation,
    noise: NoiseSpec = _trajectory.noise,
    sigma_w2: Optional[float] = _trajectory.sigma_w2,
    sigma_b2: float = _trajectory.sigma_b2,
    *,
    depth: int = _trajectory.depth,
    q0: float = _trajectory.q0,
    c0: float = _trajectory.c0,
    top_grad_correlation: float = _trajectory.top_grad_correlation,
    quadrature: bool = _trajectory.quadrature,
    rule: str = _trajectory.rule,
    nodes: Optional[int] = _trajectory.nodes,
) -> Trajectory:
    """q^l and c^l layer by layer and the back-propagated gradient's second
    moment and correlation (``noisyprop trajectory``);
    ``.column("q")`` is an array over layers 0..=depth."""
    return Trajectory(_run("trajectory", locals()))


def phase(
    activation: str = _phase.activation,
    noise: NoiseSpec = _phase.noise,
    *,
    y: str = _phase.y,
    x_range: Tuple[float, float, int] = _phase.x_range,
    y_range: Optional[Tuple[float, float, int]] = _phase.y_range,
    log_y: bool = _phase.log_y,
    sigma_b2: float = _phase.sigma_b2,
    q0: float = _phase.q0,
    depth_multiplier: float = _phase.depth_multiplier,
    contours: Sequence[float] = _phase.contours,
    color: str = _phase.color,
    png: Optional[str] = _phase.png,
    nodes: Optional[int] = _phase.nodes,
) -> Phase:
    """A phase diagram over σ_w² (x) and μ₂ or σ_b² (``y="mu2"`` or
    ``"sigma_b2"``) (``noisyprop phase``): regime, c*, χ_c, ξ_c and trainable
    depth per cell and the critical line; ``png=`` also writes the heat map
    (``color``, ``contours``). ``.grid("xi_c")`` is a (len(y), len(x)) numpy
    array. Runs with the GIL released; Ctrl-C stops it."""
    if png is not None:
        png = _path("png", png)
    return Phase(_run("phase", locals()))


def simulate(
    activation: str = _simulate.activation,
    noise: NoiseSpec = _simulate.noise,
    sigma_w2: Optional[float] = _simulate.sigma_w2,
    sigma_b2: float = _simulate.sigma_b2,
    *,
    width: int = _simulate.width,
    input_dim: Optional[int] = _simulate.input_dim,
    depth: int = _simulate.depth,
    networks: int = _simulate.networks,
    q0: Union[float, Sequence[float]] = _simulate.q0,
    c0: Union[float, None, Sequence[Optional[float]]] = _simulate.c0,
    pairs: int = _simulate.pairs,
    partners: int = _simulate.partners,
    raw_input: bool = _simulate.raw_input,
    backward: bool = _simulate.backward,
    f64: bool = _simulate.f64,
    seed: int = _simulate.seed,
    memory_mb: int = _simulate.memory_mb,
    compare: bool = _simulate.compare,
    theory_noise: NoiseSpec = _simulate.theory_noise,
    quadrature: bool = _simulate.quadrature,
    rule: str = _simulate.rule,
    nodes: Optional[int] = _simulate.nodes,
) -> Simulation:
    """Random finite-width noisy networks, simulated and compared with the
    theory layer by layer (``noisyprop simulate``), with the simulator's
    PASS/FAIL verdict (``.passed``, ``.verdict``). The same seed gives the
    same numbers as the CLI, on any number of threads. Runs with the GIL
    released; Ctrl-C stops it."""
    return Simulation(_run("simulate", locals()))


def train(
    *,
    depth: int = _train.depth,
    noise: NoiseSpec = _train.noise,
    quick: bool = _train.quick,
    dataset: str = _train.dataset,
    data_dir: Optional[str] = _train.data_dir,
    task: Optional[str] = _train.task,
    width: Optional[int] = _train.width,
    activation: Optional[str] = _train.activation,
    init: Optional[str] = _train.init,
    optimizer: Optional[str] = _train.optimizer,
    lr: Optional[float] = _train.lr,
    momentum: Optional[float] = _train.momentum,
    batch: Optional[int] = _train.batch,
    epochs: Optional[int] = _train.epochs,
    examples: Optional[int] = _train.examples,
    seed: Optional[int] = _train.seed,
    device: str = _train.device,
    precision: Optional[str] = _train.precision,
) -> Training:
    """Train one noisy MLP on real data (``noisyprop train``): the paper's
    recipe (200 epochs), or ``quick=True`` (seconds); every other argument
    overrides the recipe. Runs with the GIL released; Ctrl-C stops it."""
    if data_dir is not None:
        data_dir = _path("data_dir", data_dir)
    return Training(_run("train", locals()))


def variance_depth(
    *,
    noise: NoiseSpec = _variance_depth.noise,
    sigma_w2_range: Tuple[float, float, int] = _variance_depth.sigma_w2_range,
    max_depth: int = _variance_depth.max_depth,
    width: int = _variance_depth.width,
    examples: int = _variance_depth.examples,
    seed: int = _variance_depth.seed,
    out: str = _variance_depth.out,
    dataset: str = _variance_depth.dataset,
    data_dir: Optional[str] = _variance_depth.data_dir,
) -> VarianceDepth:
    """Real images through deep random noisy ReLU networks over a σ_w²
    sweep: where the variance leaves the f32 range, beside the theory's L*
    (``noisyprop variance-depth``; Figure 6a). Writes CSV, JSON and a PNG
    under ``out``. Runs with the GIL released; Ctrl-C stops it."""
    out = _path("out", out)
    if data_dir is not None:
        data_dir = _path("data_dir", data_dir)
    return VarianceDepth(_run("variance-depth", locals()))


def trainable_depth(
    *,
    preset: str = _trainable_depth.preset,
    keeps: Sequence[float] = _trainable_depth.keeps,
    depths: Sequence[int] = _trainable_depth.depths,
    depth_multiplier: float = _trainable_depth.depth_multiplier,
    store: str = _trainable_depth.store,
    shard: Optional[str] = _trainable_depth.shard,
    recompute_corrupt: bool = _trainable_depth.recompute_corrupt,
    dataset: str = _trainable_depth.dataset,
    data_dir: Optional[str] = _trainable_depth.data_dir,
    task: Optional[str] = _trainable_depth.task,
    width: Optional[int] = _trainable_depth.width,
    activation: Optional[str] = _trainable_depth.activation,
    init: Optional[str] = _trainable_depth.init,
    optimizer: Optional[str] = _trainable_depth.optimizer,
    lr: Optional[float] = _trainable_depth.lr,
    momentum: Optional[float] = _trainable_depth.momentum,
    batch: Optional[int] = _trainable_depth.batch,
    epochs: Optional[int] = _trainable_depth.epochs,
    examples: Optional[int] = _trainable_depth.examples,
    seed: Optional[int] = _trainable_depth.seed,
    device: str = _trainable_depth.device,
    precision: Optional[str] = _trainable_depth.precision,
) -> TrainableDepth:
    """The Figure 6(b) grid (``noisyprop trainable-depth``): networks at
    critical initialisation over keep × depth, trained on real data, against
    k·ξ_c. Each finished cell is one file under ``store``; a rerun (or a run
    stopped with Ctrl-C and started again) reuses them."""
    store = _path("store", store)
    if data_dir is not None:
        data_dir = _path("data_dir", data_dir)
    return TrainableDepth(_run("trainable-depth", locals()))


def reproduce(
    *,
    preset: str = _reproduce.preset,
    out: str = _reproduce.out,
    parts: Union[str, Sequence[str]] = _reproduce.parts,
    assemble: Optional[int] = _reproduce.assemble,
    array_job: Optional[str] = _reproduce.array_job,
    dataset: str = _reproduce.dataset,
    data_dir: Optional[str] = _reproduce.data_dir,
    device: str = _reproduce.device,
    precision: Optional[str] = _reproduce.precision,
    seed: int = _reproduce.seed,
) -> Reproduction:
    """The paper judged claim by claim (``noisyprop reproduce``) on this
    machine: writes ``out/report.html`` and ``out/report.json`` and returns
    the report (``counts.pass``, ``counts.fail``, every part's claims).
    Finished parts and grid cells of an earlier run are reused, so a run
    stopped with Ctrl-C resumes. Cluster runs (Slurm, shards) are the CLI's:
    ``noisyprop reproduce --executor slurm``."""
    out = _path("out", out)
    if data_dir is not None:
        data_dir = _path("data_dir", data_dir)
    return Reproduction(_run("reproduce", locals()))


def figures(
    *,
    fig: Union[int, Sequence[int]] = _figures.fig,
    out: str = _figures.out,
    width: int = _figures.width,
    networks: int = _figures.networks,
    partners: int = _figures.partners,
    seed: int = _figures.seed,
) -> Result:
    """The paper's simulated Figures 2–5 (``noisyprop figures``): CSV and
    PNG under ``out``, theory as lines and simulation as points; Figure 5
    fits ξ_c to the simulated correlations. Ctrl-C stops it."""
    if isinstance(fig, int):
        fig = [fig]
    out = _path("out", out)
    return Result(_run("figures", locals()))


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
    if not isinstance(activation, str):
        raise TypeError(f"activation={activation!r}: invalid type: expected a string")
    if param is not None and (isinstance(param, bool) or not isinstance(param, (int, float))):
        raise TypeError(f"param={param!r}: invalid type: expected a number")
    name = _TORCH_NAMES.get(activation, activation)
    slope = name == "leaky-relu"
    if slope:
        name = f"leaky-relu:slope={0.01 if param is None else float(param)!r}"
    elif param is not None:
        raise ValueError(
            f"param is only used by leaky_relu (leaky-relu), not by {activation!r} "
            "(a number given as noise is torch's param)"
        )
    try:
        a = analyze(name, noise, None, sigma_b2)
    except ValueError as e:
        # gain() has no sigma_w2 to give: the reason without analyze's hint.
        text = str(e).removesuffix("\n\nhint: give sigma_w2")
        if slope and param is not None and text.startswith("activation: `leaky-relu"):
            # The slope is gain()'s param, not part of an activation given.
            text = f"param={param!r} (leaky_relu's negative slope): " + text[len("activation: "):]
        raise ValueError(text) from None
    return math.sqrt(a.sigma_w2)


def verdict(
    theory: Sequence[float],
    samples: Sequence[Sequence[float]],
    width: int,
    quantity: str = _verdict.quantity,
) -> Verdict:
    """Does a measurement agree with the theory? The simulator's PASS/FAIL
    rule (``Verdict.rule``) for a quantity (``"q"``, ``"c"``, ``"grad_q"``,
    ``"grad_c"``) measured at layers 1..L of at least two independently
    initialised networks: ``samples[k][l]`` is network k's value at layer
    l + 1 and ``theory[l]`` the theory's (e.g. ``trajectory(...).column("q")[1:]``).
    Each layer passes when |theory − mean| ≤ t·SE + a, t Bonferroni-corrected
    over the layers, a = 1/√width (relative for q)."""
    return Verdict(_run("verdict", locals()))
