"""What the framework walkers share: from "this layer is fed by activation A
and noise N" to the critical σ_w² of that pair, and the per-layer report.

A layer's weights multiply φ(h) ⊙ ε of the layer before (spec 1.1), so the
σ_w² of a Linear/Conv/Dense layer is the critical one of the activation φ and
the noise ε between the previous layer and it. The first layer (or one fed
straight by another layer) sees no activation: it is treated as fed by
``linear``, whose critical σ_w² (= 1/μ₂) keeps the second moment of its
input. Walkers (``noisyprop.torch``, ``noisyprop.keras``) turn a model into a
list of :class:`Feed`, call :func:`plan`, set the weights of the layers it
marks ``initialised`` and return the :class:`InitReport`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

from . import _native

__all__ = ["Feed", "LayerInit", "InitReport", "plan"]

#: Why AlphaDropout layers are refused (the walkers name it as the reason).
ALPHA_DROPOUT = (
    "AlphaDropout is refused: it sets dropped units to SELU's negative saturation "
    "value and then applies an affine correction, which is neither a multiplicative "
    "nor an additive noise of the theory's form h = W(φ(h) ⊙ ε) + b (spec 1.1)"
)

#: Activations through which a nonnegative multiplicative noise (dropout)
#: commutes: φ(x ⊙ ε) = φ(x) ⊙ ε for ε ≥ 0, so the noise may sit before them.
_HOMOGENEOUS = ("relu", "leaky-relu", "linear")


@dataclass
class Feed:
    """A layer and what feeds it, as a walker read it from the model.

    ``activation`` is noisyprop's spelling (``None``: no activation since the
    previous layer or the input); ``noises`` are noise spellings noisyprop
    parses (``"Dropout(0.2)"``, ``"GaussianNoise(0.1)"``, …) in the order
    they apply; ``noise_before_activation`` is set when a noise came before
    the activation. ``unsupported`` names why the walker could not classify
    what feeds the layer (the layer is then left as it is).
    """

    name: str
    type: str
    fan_in: Optional[int]
    activation: Optional[str] = None
    noises: List[str] = field(default_factory=list)
    noise_before_activation: bool = False
    unsupported: Optional[str] = None
    notes: List[str] = field(default_factory=list)
    has_bias: bool = True


@dataclass
class LayerInit:
    """One row of the report: what a layer is fed by and what it was set to.

    ``initialised`` is False for layers left as they were; ``note`` then says
    why (no critical point, an activation or layer noisyprop does not model).
    """

    layer: str
    type: str
    fan_in: Optional[int]
    activation: Optional[str]
    noise: Optional[str]
    sigma_w2: Optional[float]
    sigma_b2: Optional[float]
    weight_std: Optional[float]
    critical_kind: Optional[str]
    trainable_depth: Optional[float]
    trainable_depth_unbounded: bool
    initialised: bool
    note: str = ""


class InitReport(Sequence[LayerInit]):
    """The per-layer table a walker returns; ``print(report)`` shows it.

    ``trainable_depth`` is the smallest prediction over the initialised
    layers (the network is as deep-trainable as its weakest stage), ``None``
    when none is bounded. ``skipped`` lists the layers left as they were.
    """

    def __init__(self, layers: List[LayerInit], warnings: Optional[List[str]] = None) -> None:
        self.layers = layers
        self.warnings = list(warnings or [])

    def __getitem__(self, i):  # type: ignore[override]
        return self.layers[i]

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self) -> Iterator[LayerInit]:
        return iter(self.layers)

    @property
    def skipped(self) -> List[LayerInit]:
        """Layers left as they were, with the reason in ``note``."""
        return [r for r in self.layers if not r.initialised]

    @property
    def trainable_depth(self) -> Optional[float]:
        depths = [
            r.trainable_depth for r in self.layers if r.initialised and r.trainable_depth is not None
        ]
        return min(depths) if depths else None

    def to_dicts(self) -> List[Dict[str, object]]:
        """The rows as dicts (JSON-ready)."""
        return [asdict(r) for r in self.layers]

    def __repr__(self) -> str:
        return f"InitReport({len(self.layers)} layers, {len(self.skipped)} left as they were)"

    def __str__(self) -> str:
        def num(x: Optional[float]) -> str:
            return "–" if x is None else f"{x:.4g}"

        def depth(r: LayerInit) -> str:
            if r.trainable_depth is not None:
                return f"{r.trainable_depth:.3g}"
            return "∞" if r.trainable_depth_unbounded else "–"

        head = ("layer", "type", "fan_in", "activation", "noise", "σ_w²", "σ_b²", "kind", "depth")
        rows = [head] + [
            (
                r.layer,
                r.type,
                "–" if r.fan_in is None else str(r.fan_in),
                r.activation or "–",
                r.noise or "–",
                num(r.sigma_w2) if r.initialised else "left",
                num(r.sigma_b2) if r.initialised else "–",
                r.critical_kind or "–",
                depth(r) if r.initialised else "–",
            )
            for r in self.layers
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
        for r in self.layers:
            if r.note:
                lines.append(f"{r.layer}: {r.note}")
        lines += [f"warning: {w}" for w in self.warnings]
        td = self.trainable_depth
        if td is not None:
            lines.append(f"predicted trainable depth (6·ξ_c, smallest over layers): {td:.3g} layers")
        return "\n".join(lines)


def _noise_text(noises: List[str]) -> Tuple[List[str], Optional[str]]:
    """Canonical noise specs of ``noises`` (``["none"]`` for none), or the
    library's reason why one cannot be read."""
    if not noises:
        return ["none"], None
    try:
        return [_native.canonical_noise(n) for n in noises], None
    except ValueError as e:
        return [], str(e)


def plan(
    feeds: List[Feed], sigma_b2: float = 0.0, depth_multiplier: float = 6.0
) -> InitReport:
    """The critical initialisation of each layer in ``feeds``.

    Raises ``ValueError`` for an invalid ``sigma_b2`` (the library's message);
    everything a layer cannot be given is a row left as it was, with why.
    """
    # Validate σ_b² once, with the library's message.
    _native.analyze("relu", ["none"], 2.0, sigma_b2, 1.0, depth_multiplier, False, "legendre", None)
    cache: Dict[Tuple[str, Tuple[str, ...], float], Dict[str, object]] = {}
    rows: List[LayerInit] = []
    cache_mu2: Dict[str, float] = {}
    for f in feeds:
        act = f.activation or "linear"
        noises, bad = _noise_text(f.noises)
        noise = ", then ".join(noises) if noises else None
        b2 = sigma_b2 if f.has_bias else 0.0

        def left(note: str) -> LayerInit:
            return LayerInit(
                f.name, f.type, f.fan_in, f.activation, noise, None, None, None, None, None,
                False, False, "; ".join([note] + f.notes),
            )

        if f.unsupported is not None:
            rows.append(left(f.unsupported))
            continue
        if bad is not None:
            rows.append(left(f"left as it was: {bad}"))
            continue
        if f.fan_in is None or f.fan_in <= 0:
            rows.append(left("left as it was: fan-in unknown"))
            continue
        if f.noise_before_activation and (
            not act.startswith(_HOMOGENEOUS) or any(not n.startswith("dropout") for n in noises)
        ):
            rows.append(
                left(
                    f"left as it was: noise before {act} does not commute with it "
                    "(only dropout before relu/leaky-relu does); put the noise after the activation"
                )
            )
            continue
        fed_raw = f.activation is None
        # A layer fed straight by the input (or another layer) is linear in
        # it: σ_w² μ₂ = 1 keeps its input's second moment and the bias adds
        # σ_b² once (the linear map's critical point, found without a bias:
        # with one, a deep *linear* stack has none).
        # The walker's own spellings go to the library (it reads framework
        # spellings exactly; the canonical text is rounded for display).
        spelled = list(f.noises) or ["none"]
        key = (act, tuple(spelled), 0.0 if fed_raw else b2)
        if key not in cache:
            try:
                a = _native.analyze(
                    act, spelled, None, key[2], 1.0, depth_multiplier, False, "legendre", None
                )
                cache[key] = a
            except ValueError as e:
                # The library's reason, which names where the edge of chaos
                # starts when a larger σ_b² has a critical point.
                reason = str(e).split("\n\n")[0]
                cache[key] = {"error": reason}
        a = cache[key]
        if "error" in a:
            rows.append(left(f"left as it was: {a['error']}"))
            continue
        s2 = float(a["sigma_w2"])  # type: ignore[arg-type]
        cache_mu2[f.name] = float(a["mu2"])  # type: ignore[arg-type]
        notes = list(f.notes)
        if fed_raw:
            notes.insert(0, "no activation before it: keeps its input's second moment (σ_w² μ₂ = 1)")
        notes += list(a["warnings"])  # type: ignore[arg-type]
        if not fed_raw and a["trainable_depth"] is None and not a["trainable_depth_unbounded"]:
            notes.append(f"trainable depth: none ({a['depth_limit']})")
        rows.append(
            LayerInit(
                layer=f.name,
                type=f.type,
                fan_in=f.fan_in,
                activation=act,
                noise=noise,
                sigma_w2=s2,
                sigma_b2=b2,
                weight_std=math.sqrt(s2 / f.fan_in),
                critical_kind=str(a["critical_kind"]),
                # The depth of a deep *linear* net says nothing about this one.
                trainable_depth=None if fed_raw else a["trainable_depth"],  # type: ignore[arg-type]
                trainable_depth_unbounded=False if fed_raw else bool(a["trainable_depth_unbounded"]),
                initialised=True,
                note="; ".join(notes),
            )
        )
    report = InitReport(rows)
    # The critical σ_w² is critical with the noise on (training). With it
    # off (evaluation) a multiplicative noise's μ₂ is gone: each such layer
    # scales the variance by 1/μ₂, compounding with depth.
    shrink = 1.0
    for r in rows:
        if r.initialised and r.noise and r.noise != "none":
            mu2 = float(cache_mu2.get(r.layer, 1.0))
            shrink /= mu2
    if shrink < 0.5:
        report.warnings.append(
            f"in evaluation mode (noise off) the variance is ×{shrink:.3g} at the last layer "
            "instead of ×1: each noisy layer scales it by 1/μ₂ (the critical point holds while "
            "training, as the theory assumes)"
        )
    return report
