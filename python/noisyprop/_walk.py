"""What the framework walkers share: from "this layer is fed by activation A
and noise N" to the critical σ_w² of that pair, and the per-layer report.

A layer's weights multiply φ(h) ⊙ ε of the layer before (spec 1.1), so the
σ_w² of a Linear/Conv/Dense layer is the critical one of the activation φ and
the noise ε between the previous layer and it. The first layer (or one fed
straight by another layer) sees no activation: it is treated as fed by
``linear``, whose critical σ_w² (= 1/μ₂) keeps the second moment of its
input. Walkers (``noisyprop.torch``, ``noisyprop.keras``) feed the events of
their framework (an activation, a noise, a layer that passes the signal
through, one it refuses, a merge) to one :class:`Signal` per chain, turn it
into a :class:`Feed` at each weight layer, call :func:`plan`, set the weights
of the layers it marks ``initialised`` and return the :class:`InitReport`.
What the theory knows (whether φ is positively homogeneous, whether a noise
may sit before it, μ₂ and the evaluation-mode factor) is asked of the
library (``_native.describe_activation`` / ``describe_noise``).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

from . import _native

__all__ = ["Feed", "Signal", "LayerInit", "InitReport", "plan", "channel_dropout"]

#: Why AlphaDropout layers are refused (the walkers name it as the reason).
ALPHA_DROPOUT = (
    "AlphaDropout is refused: it sets dropped units to SELU's negative saturation "
    "value and then applies an affine correction, which is neither a multiplicative "
    "nor an additive noise of the theory's form h = W(φ(h) ⊙ ε) + b (spec 1.1)"
)

#: The prefix of every reason a layer is left as it was.
LEFT = "left as it was: "


def _left(reason: str) -> str:
    """``reason`` with the :data:`LEFT` prefix (once)."""
    return reason if reason.startswith(LEFT) else LEFT + reason


def channel_dropout(what: str, rate: str) -> Tuple[str, str]:
    """(noise spelling, note) of a dropout that drops whole channels
    (torch ``Dropout1d/2d/3d``, Keras ``SpatialDropout1D/2D/3D``): the
    library has no spelling of its own for it, so it goes to the library as
    ``Dropout(rate)`` and the note says so. ``rate`` is the drop probability
    as the walker writes it into the spelling."""
    return (
        f"Dropout({rate})",
        f"{what} drops whole channels (one mask per channel, shared over positions): "
        f"read as Dropout({rate}); each unit still has μ₂ = 1/(1 − rate), which is all "
        "the variance map uses",
    )


@dataclass(frozen=True)
class Signal:
    """What reaches the next weight layer, read event by event in forward
    order from the last weight layer (or the input): the one state machine
    of both walkers.

    ``activation``: noisyprop spelling, ``None`` while no activation has
    been seen; ``noises``: noise spellings in the order they apply, the
    first ``pre_activation_noises`` of them before the activation;
    ``unsupported``: why the next weight layer must be left as it is (the
    first reason along the chain is kept). A Signal is a value: every event
    returns a new one, so one signal can feed several branches.
    """

    activation: Optional[str] = None
    noises: Tuple[str, ...] = ()
    pre_activation_noises: int = 0
    unsupported: Optional[str] = None
    notes: Tuple[str, ...] = ()

    # ---- events

    def after_activation(self, spelling: Optional[str]) -> "Signal":
        """After an activation (``None`` or ``"linear"``: the identity, no
        event). A second activation before the next weight layer leaves it."""
        if spelling is None or spelling == "linear":
            return self
        if self.activation is not None:
            if self.unsupported is not None:
                return self
            return self.refused(
                f"two activations in a row ({self.activation}, then {spelling}); "
                "noisyprop models one activation between two layers"
            )
        return replace(self, activation=spelling, pre_activation_noises=len(self.noises))

    def after_noise(self, spelling: str, note: Optional[str] = None) -> "Signal":
        """After a noise (a spelling the library parses)."""
        return replace(
            self,
            noises=self.noises + (spelling,),
            notes=self.notes + ((note,) if note else ()),
        )

    def refused(self, reason: str) -> "Signal":
        """After something noisyprop does not model, or refuses: the next
        weight layer is left, with ``reason`` (the first along the chain)."""
        if self.unsupported is not None:
            return self
        return replace(self, unsupported=_left(reason))

    def unmodelled(self, what: str) -> "Signal":
        """After a layer or operation the walker does not know."""
        return self.refused(f"fed through {what}, which noisyprop does not model")

    @classmethod
    def merged(cls, what: str, tensors: int) -> "Signal":
        """The signal out of an operation on several tensors (a residual
        ``+``, a concatenation): what it feeds is left."""
        return cls().refused(
            f"fed by {what}, which merges {tensors} tensors (a residual or concatenation: "
            "noisyprop follows chains of single-input layers)"
        )

    # ---- at a weight layer

    def feed(
        self,
        name: str,
        type: str,
        fan_in: Optional[int],
        has_bias: bool,
        left: Optional[str] = None,
    ) -> "Feed":
        """The :class:`Feed` of a weight layer this signal reaches; ``left``:
        a reason of the layer's own to leave it (frozen, quantized, …), used
        when the signal has none."""
        unsupported = self.unsupported
        if unsupported is None and left is not None:
            unsupported = _left(left)
        return Feed(
            name=name,
            type=type,
            fan_in=fan_in,
            activation=self.activation,
            noises=list(self.noises),
            noise_before_activation=self.activation is not None and self.pre_activation_noises > 0,
            unsupported=unsupported,
            notes=list(self.notes),
            has_bias=has_bias,
            pre_activation_noises=self.pre_activation_noises if self.activation is not None else 0,
        )


@dataclass
class Feed:
    """A layer and what feeds it, as a walker read it from the model.

    ``activation`` is noisyprop's spelling (``None``: no activation since the
    previous layer or the input); ``noises`` are noise spellings noisyprop
    parses (``"Dropout(0.2)"``, ``"GaussianNoise(0.1)"``, …) in the order
    they apply, the first ``pre_activation_noises`` of them before the
    activation (``noise_before_activation`` is set when there are any).
    ``unsupported`` names why the walker could not classify what feeds the
    layer (the layer is then left as it is). Walkers build it with
    :meth:`Signal.feed`.
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
    pre_activation_noises: int = 0


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

    def __eq__(self, other: object) -> bool:
        """Equal when the rows and the warnings are."""
        if not isinstance(other, InitReport):
            return NotImplemented
        return self.layers == other.layers and self.warnings == other.warnings

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value

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


class _Theory:
    """The library's facts about activations and noise stacks, asked once
    per spelling during one :func:`plan`."""

    def __init__(self) -> None:
        self._acts: Dict[str, Dict[str, Any]] = {}
        self._noises: Dict[Tuple[str, ...], Dict[str, Any]] = {}

    def activation(self, spec: str) -> Dict[str, Any]:
        if spec not in self._acts:
            self._acts[spec] = _native.describe_activation(spec)
        return self._acts[spec]

    def noise(self, specs: Sequence[str]) -> Dict[str, Any]:
        key = tuple(specs) or ("none",)
        if key not in self._noises:
            self._noises[key] = _native.describe_noise(list(key))
        return self._noises[key]


def _does_not_commute(theory: _Theory, act: str, f: Feed) -> Optional[str]:
    """Why the noise before ``act`` cannot be moved after it (``None`` when
    it can): φ(x ⊙ ε) = φ(x) ⊙ ε holds for every ε ≥ 0 exactly when φ is
    positively homogeneous, φ(λx) = λφ(x) for λ > 0."""
    before = f.noises[: f.pre_activation_noises] if f.pre_activation_noises else list(f.noises)
    try:
        homogeneous = bool(theory.activation(act)["positively_homogeneous"])
        noise = theory.noise(before)
    except ValueError as e:
        return f"{LEFT}{str(e).splitlines()[0]}"
    why = []
    if not homogeneous:
        why.append(f"{act} is not positively homogeneous (φ(λx) ≠ λφ(x))")
    if not noise["commutes_with_homogeneous"]:
        why.append(f"{noise['canonical']} can take negative values or adds to x")
    if not why:
        return None
    return (
        f"{LEFT}noise before {act} does not commute with it: {' and '.join(why)} "
        "(only a noise with ε ≥ 0, such as dropout, before a positively homogeneous φ, "
        "such as relu, does); put the noise after the activation"
    )


def _analyze(activation: str, noise: List[str], sigma_w2: Optional[float], sigma_b2: float,
             depth_multiplier: float) -> Dict[str, Any]:
    """The library's ``analyze`` record (a dict)."""
    return _native.run(
        "analyze",
        {
            "activation": activation,
            "noise": noise,
            "sigma_w2": sigma_w2,
            "sigma_b2": sigma_b2,
            "depth_multiplier": depth_multiplier,
        },
    )


def plan(
    feeds: List[Feed], sigma_b2: float = 0.0, depth_multiplier: float = 6.0
) -> InitReport:
    """The critical initialisation of each layer in ``feeds``.

    Raises ``ValueError`` for an invalid ``sigma_b2`` (the library's message);
    everything a layer cannot be given is a row left as it was, with why.
    """
    # Validate σ_b² once, with the library's message.
    _analyze("relu", ["none"], 2.0, sigma_b2, depth_multiplier)
    theory = _Theory()
    cache: Dict[Tuple[str, Tuple[str, ...], float], Dict[str, object]] = {}
    rows: List[LayerInit] = []
    eval_factor: Dict[str, float] = {}
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
            rows.append(left(f"{LEFT}{bad}"))
            continue
        if f.fan_in is None or f.fan_in <= 0:
            rows.append(left(f"{LEFT}fan-in unknown"))
            continue
        if f.noise_before_activation:
            why = _does_not_commute(theory, act, f)
            if why is not None:
                rows.append(left(why))
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
                cache[key] = _analyze(act, spelled, None, key[2], depth_multiplier)
            except ValueError as e:
                # The library's reason, which names where the edge of chaos
                # starts when a larger σ_b² has a critical point.
                reason = str(e).split("\n\n")[0]
                cache[key] = {"error": reason}
        a = cache[key]
        if "error" in a:
            rows.append(left(f"{LEFT}{a['error']}"))
            continue
        s2 = float(a["sigma_w2"])  # type: ignore[arg-type]
        factor = theory.noise(spelled)["eval_variance_factor"]
        if factor is not None:
            eval_factor[f.name] = float(factor)
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
    # off (evaluation) each noisy layer scales the variance by the library's
    # evaluation-mode factor (1/μ₂ of a multiplicative noise), compounding
    # with depth.
    shrink = 1.0
    for r in rows:
        if r.initialised:
            shrink *= eval_factor.get(r.layer, 1.0)
    if shrink < 0.5:
        report.warnings.append(
            f"in evaluation mode (noise off) the variance is ×{shrink:.3g} at the last layer "
            "instead of ×1: each noisy layer scales it by 1/μ₂ (the critical point holds while "
            "training, as the theory assumes)"
        )
    return report
