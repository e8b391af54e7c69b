"""Typed results: the records the CLI prints with ``--json``, field for field.

A result wraps the dict the Rust core returned and reads its fields as
attributes (nested objects as results too), so constructing one costs
nothing and the field names are exactly the JSON keys. The class-level
annotations list the fields for type checkers and IDEs; a test checks them
against the JSON of the CLI. Undefined or infinite numbers, ``null`` in
JSON, are ``None`` where the field is optional; a plain number that has no
finite value (a correlation once the variance has left the float range)
reads as ``nan`` or ``inf``. ``to_dict()`` gives the JSON's view, with
``None`` for every non-finite number, as the CLI prints it.
"""

from __future__ import annotations

import math
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

__all__ = [
    "Result",
    "Analysis",
    "Init",
    "CriticalRow",
    "CriticalTable",
    "Trajectory",
    "TrajectoryLayer",
    "Phase",
    "PhaseCell",
    "Check",
    "Verdict",
    "Simulation",
    "Training",
    "VarianceDepth",
    "TrainableDepth",
    "Reproduction",
]


def _wrap(value: Any) -> Any:
    if isinstance(value, dict):
        return Result(value)
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return [Result(v) for v in value]
    return value


class Result:
    """A read-only record with attribute access to its JSON fields."""

    __slots__ = ("_data",)
    _nested: Dict[str, type] = {}

    def __init__(self, data: Dict[str, Any]) -> None:
        object.__setattr__(self, "_data", data)

    def __getattr__(self, name: str) -> Any:
        try:
            value = self._data[name]
        except KeyError:
            raise AttributeError(
                f"{type(self).__name__} has no field {name!r}; fields: {', '.join(self._data)}"
            ) from None
        cls = self._nested.get(name)
        if cls is not None:
            return [cls(v) for v in value]
        return _wrap(value)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is read-only")

    def __dir__(self) -> List[str]:
        return sorted(set(super().__dir__()) | set(self._data))

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and _same(self._data, other._data)  # type: ignore[attr-defined]

    def __reduce__(self):
        # Pickle and deepcopy through the constructor (the class is read-only).
        return (type(self), (self._data,))

    def __hash__(self) -> int:
        raise TypeError(f"unhashable type: {type(self).__name__}")

    def __repr__(self) -> str:
        def short(v: Any) -> str:
            if isinstance(v, list) and len(v) > 4:
                return f"[…{len(v)} items]"
            text = repr(v)
            return text if len(text) <= 80 else text[:77] + "…"

        body = ", ".join(f"{k}={short(v)}" for k, v in self._data.items())
        return f"{type(self).__name__}({body})"

    def fields(self) -> Tuple[str, ...]:
        """The field names, in the order of the JSON record."""
        return tuple(self._data)

    def to_dict(self) -> Dict[str, Any]:
        """The fields as plain Python values, as the CLI's ``--json`` has
        them: a deep copy with every non-finite number as ``None``
        (``json.dumps`` gives valid JSON)."""
        return _json_view(self._data)


def _json_view(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _json_view(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_view(v) for v in value]
    return value


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return bool(a == b)


def _column(rows: List[Dict[str, Any]], field: str) -> np.ndarray:
    """One field of every row as a float array (``None`` → ``nan``)."""
    if rows and field not in rows[0]:
        raise ValueError(f"unknown field {field!r}; valid: {', '.join(rows[0])}")
    return np.array([np.nan if r[field] is None else r[field] for r in rows], dtype=float)


class Analysis(Result):
    """Everything the theory says about one network (``noisyprop analyze``)."""

    kind: str
    schema_version: int
    activation: str
    noise: str
    noise_stages: List[Result]
    mu2: float
    additive_variance: float
    sigma_w2: float
    sigma_b2: float
    q0: float
    depth_multiplier: float
    critical_sigma_w2: Optional[float]
    critical_q_star: Optional[float]
    critical_kind: str
    critical_reason: Optional[str]
    edge_of_chaos_sigma_b2: Optional[float]
    regime: str
    regime_description: str
    per_layer_growth: Optional[float]
    per_layer_increment: Optional[float]
    q_star: Optional[float]
    xi_q: Optional[float]
    chi_1: float
    c_star: float
    chi_c: float
    xi_c: Optional[float]
    correlation_basis: str
    c_star_approached: bool
    gradient_covariance_factor: float
    gradient_correlation_factor: float
    trainable_depth: Optional[float]
    trainable_depth_unbounded: bool
    warnings: List[str]
    depth_limit: str
    overflow_depth: Result
    overflow_direction: Optional[str]
    integration: Result


class Init(Result):
    """The critical initialisation and its framework code (``noisyprop init``)."""

    kind: str
    schema_version: int
    activation: str
    noise: str
    noise_stages: List[Result]
    mu2: float
    sigma_w2: float
    sigma_w: float
    sigma_b2: float
    fan_in: int
    weight_std: float
    critical_kind: str
    critical_q_star: Optional[float]
    critical_reason: str
    c_star: float
    xi_c: Optional[float]
    trainable_depth: Optional[float]
    trainable_depth_unbounded: bool
    depth_limit: str
    warnings: List[str]
    depth_multiplier: float
    code: Dict[str, str]


class CriticalRow(Result):
    """One activation, noise and σ_b² of the critical table
    (``noisyprop critical``); ``kind`` is ``none`` without a critical point."""

    activation: str
    noise: str
    sigma_b2: float
    kind: str
    sigma_w2: Optional[float]
    q_star: Optional[float]
    edge_of_chaos_sigma_b2: Optional[float]
    reason: str


class CriticalTable(Result):
    """The critical table (``noisyprop critical``)."""

    kind: str
    schema_version: int
    rows: List[CriticalRow]
    _nested = {"rows": CriticalRow}


class TrajectoryLayer(Result):
    """One layer of a trajectory."""

    layer: int
    q: float
    c: float
    chi_1: float
    grad_second_moment: float
    grad_correlation: float


class Trajectory(Result):
    """q^l, c^l and the backward factors layer by layer
    (``noisyprop trajectory``); ``column(name)`` gives one as an array."""

    kind: str
    schema_version: int
    activation: str
    noise: str
    sigma_w2: float
    sigma_b2: float
    q0: float
    c0: float
    depth: int
    layers: List[TrajectoryLayer]
    _nested = {"layers": TrajectoryLayer}

    def column(self, field: str) -> np.ndarray:
        """``field`` (e.g. ``"q"``, ``"c"``) of layers 0..=depth as an array."""
        return _column(self._data["layers"], field)


class PhaseCell(Result):
    """One cell of a phase diagram."""

    sigma_w2: float
    sigma_b2: float
    mu2: float
    y: float
    regime: str
    q_star: Optional[float]
    chi_1: float
    c_star: float
    chi_c: float
    xi_c: Optional[float]
    trainable_depth: Optional[float]
    correlation_basis: str


class Phase(Result):
    """A phase diagram over σ_w² (x) and σ_b² or μ₂ (y) (``noisyprop phase``).

    ``grid(name)`` gives a cell field as a ``(len(y), len(x))`` array,
    ``None`` (no fixed point, unbounded) as ``nan``."""

    kind: str
    schema_version: int
    activation: str
    noise: str
    y_axis: str
    x: List[float]
    y: List[float]
    cells: List[PhaseCell]
    critical_line: List[Optional[float]]
    depth_multiplier: float
    _nested = {"cells": PhaseCell}

    def grid(self, field: str) -> np.ndarray:
        """Cell field ``field`` (e.g. ``"xi_c"``) as a (ny, nx) float array;
        ``regime`` and ``correlation_basis`` as a (ny, nx) array of str."""
        cells = self._data["cells"]
        shape = (len(self._data["y"]), len(self._data["x"]))
        if cells and isinstance(cells[0].get(field), str):
            return np.array([c[field] for c in cells], dtype=object).reshape(shape)
        return _column(cells, field).reshape(shape)

    @property
    def x_array(self) -> np.ndarray:
        """σ_w² values."""
        return np.asarray(self._data["x"], dtype=float)

    @property
    def y_array(self) -> np.ndarray:
        """y values (σ_b² or μ₂)."""
        return np.asarray(self._data["y"], dtype=float)

    @property
    def critical_line_array(self) -> np.ndarray:
        """Critical σ_w² per y value, ``nan`` where none exists."""
        return np.array(
            [np.nan if s is None else s for s in self._data["critical_line"]], dtype=float
        )


class Check(Result):
    """One layer's comparison: |theory − sim_mean| ≤ band."""

    layer: int
    quantity: str
    theory: float
    sim_mean: float
    band: float
    # `pass` is a Python keyword: read it as `passed`.

    @property
    def passed(self) -> bool:
        return bool(self._data["pass"])


class Verdict(Result):
    """PASS/FAIL of measured layers against the theory, by the simulator's
    rule (``rule``); ``passed`` is the JSON field ``pass``."""

    kind: str
    schema_version: int
    checks: int
    failed: int
    t: float
    allowance: float
    rule: str
    failures: List[Check]
    _nested = {"failures": Check}

    @property
    def passed(self) -> bool:
        return bool(self._data["pass"])


class Simulation(Result):
    """Monte-Carlo networks against the theory (``noisyprop simulate``):
    ``layers`` (the first input class's arrays: ``q_sim``, ``q_theory``, …),
    every class under ``classes``, and the PASS/FAIL ``verdict``
    (``passed``)."""

    kind: str
    schema_version: int
    activation: str
    noise: str
    theory_noise: str
    sigma_w2: float
    sigma_b2: float
    width: int
    input_dim: int
    depth: int
    networks: int
    seed: int
    precision: str
    input_activation: bool
    backward: bool
    seconds: float
    layers: Result
    classes: List[Result]
    verdict: Verdict

    @property
    def passed(self) -> bool:
        """The verdict: every check agrees."""
        return bool(self._data["verdict"]["pass"])

    def __getattr__(self, name: str) -> Any:
        if name == "verdict":
            return Verdict(self._data["verdict"])
        return super().__getattr__(name)


class Training(Result):
    """One noisy MLP trained on real data (``noisyprop train``): per-epoch
    ``train_loss`` (noise on) and ``val_loss`` (noise off), the run's
    parameters, σ_w² and the device."""

    kind: str
    schema_version: int
    dataset: str
    data_source: str
    examples: int
    val_fraction: float
    task: str
    depth: int
    width: int
    activation: str
    noise: Any
    init: Any
    optimizer: Any
    batch: int
    epochs: int
    seed: int
    sigma_w2: float
    device: str
    val_loss_init: float
    val_loss_baseline: float
    train_loss: List[float]
    val_loss: List[float]
    train_accuracy: Optional[List[float]]
    val_accuracy: Optional[List[float]]
    diverged: bool
    seconds: float


class VarianceDepth(Result):
    """Where the variance of real images leaves the f32 range, per σ_w²,
    beside the theory's L* (``noisyprop variance-depth``)."""

    kind: str
    schema_version: int
    dataset: str
    examples: int
    noise: str
    width: int
    max_depth: int
    sigma_w2: List[Result]
    files: List[str]


class TrainableDepth(Result):
    """The keep × depth grid against k·ξ_c (``noisyprop trainable-depth``):
    how the run went (``run``) and the boundary ``report``."""

    kind: str
    schema_version: int
    activation: str
    init: str
    depth_multiplier: float
    store: str
    device: str
    run: Result
    report: Result
    files: List[str]


class Reproduction(Result):
    """The paper judged claim by claim (``noisyprop reproduce``): counts of
    PASS/FAIL/info, and every part with its claims."""

    kind: str
    schema_version: int
    provenance: Result
    counts: Result
    failed_parts: int
    parts: List[Result]
