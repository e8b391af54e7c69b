"""Critical initialisation of Keras 3 models.

Two entry points:

* :func:`initializer` — a ``keras.initializers.VarianceScaling`` at the
  critical σ_w² of one activation and noise, for a layer's
  ``kernel_initializer``;
* :func:`init_model` — walks a built model, reads which activation and noise
  feed every ``Dense``/``Conv1D``/``Conv2D``/``Conv3D`` layer, sets its kernel
  (and bias) to the critical initialisation of that pair and returns the
  per-layer :class:`~noisyprop._walk.InitReport`.

A layer's weights multiply φ(h) ⊙ ε of the layer before it (Pretorius et al.
2018, spec 1.1). In Keras the ``activation`` argument of a ``Dense``/``Conv``
layer is applied to that layer's *output*, so it feeds the *next* layer; a
noise layer (``Dropout``, ``GaussianDropout``, ``GaussianNoise``, …) between
two layers is the ε of the second one.

>>> import keras, noisyprop.keras                              # doctest: +SKIP
>>> model = keras.Sequential([keras.Input((784,)),             # doctest: +SKIP
...     keras.layers.Dense(512, activation="relu"), keras.layers.Dropout(0.2),
...     keras.layers.Dense(10)])
>>> print(noisyprop.keras.init_model(model))                   # doctest: +SKIP
"""

from __future__ import annotations

import inspect
import math
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

import keras
import numpy as np

from . import NoiseSpec, _native, analyze
from ._walk import ALPHA_DROPOUT, Feed, InitReport, LayerInit, Signal, channel_dropout, plan

__all__ = [
    "initializer",
    "init_model",
    "layer_second_moments",
    "activation_spelling",
    "InitReport",
    "LayerInit",
]

_L = keras.layers

#: Keras activation names noisyprop models whose spelling needs no argument.
_PLAIN = {
    "relu": "relu",
    "linear": "linear",
    "tanh": "tanh",
    "sigmoid": "sigmoid",
    "silu": "silu",
    "swish": "silu",
    "selu": "selu",
    "softplus": "softplus",
}

#: Layers that change neither the second moment nor the activation/noise
#: feeding the next layer.
_PASS_THROUGH = (_L.InputLayer, _L.Flatten, _L.Reshape, _L.Identity)

#: Layers whose weights the walker sets.
_WEIGHTED = (_L.Dense, _L.Conv1D, _L.Conv2D, _L.Conv3D)


def _default(fn: Callable[..., Any], arg: str) -> Any:
    """The default value of ``fn``'s argument ``arg`` (``None`` if absent)."""
    try:
        p = inspect.signature(fn).parameters.get(arg)
    except (TypeError, ValueError):
        return None
    return None if p is None or p.default is inspect.Parameter.empty else p.default


def _num(x: float) -> str:
    """A number as it goes into a spelling (``0.2``, not ``0.20000000298``)."""
    return f"{float(x):.10g}"


def _keras_name_spelling(name: str) -> Optional[str]:
    """noisyprop's spelling of the Keras activation called ``name`` with its
    default arguments (Keras 3), or ``None`` if it is not a Keras name
    noisyprop models under another spelling."""
    acts = keras.activations
    if name in _PLAIN:
        return _PLAIN[name]
    if name == "leaky_relu":
        # keras.activations.leaky_relu defaults to negative_slope=0.2 in Keras 3
        # (the LeakyReLU *layer* defaults to 0.3).
        slope = _default(acts.leaky_relu, "negative_slope")
        return f"leaky-relu:slope={_num(0.2 if slope is None else slope)}"
    if name == "elu":
        alpha = _default(acts.elu, "alpha")
        return "elu" if alpha is None else f"elu:alpha={_num(alpha)}"
    if name == "gelu":
        # Keras' gelu is the exact (erf) one unless approximate=True, as is noisyprop's.
        if _default(acts.gelu, "approximate"):
            raise ValueError(
                "this Keras' gelu defaults to approximate=True (the tanh form); "
                "noisyprop models the exact erf GELU"
            )
        return "gelu"
    return None


def activation_spelling(activation: Union[str, Callable[..., Any], None]) -> str:
    """noisyprop's canonical spelling of a Keras activation.

    Accepts a Keras activation name (``"relu"``, ``"leaky_relu"``,
    ``"swish"``, …), a Keras activation function
    (``keras.activations.gelu``), ``None`` (linear), or a noisyprop spelling
    (``"leaky-relu:slope=0.1"``, ``"elu:alpha=0.5"``, ``"erf"``). Keras'
    ``leaky_relu`` uses its Keras 3 default slope 0.2 and ``elu`` its alpha
    1.0. Raises ``ValueError`` with the library's message for anything
    noisyprop does not model (e.g. ``"softmax"``, ``"hard_sigmoid"``).
    """
    if activation is None:
        return "linear"
    if callable(activation) and not isinstance(activation, str):
        name = getattr(activation, "__name__", None)
        if not isinstance(name, str) or getattr(keras.activations, name, None) is not activation:
            raise ValueError(
                f"activation {activation!r} is not a Keras built-in activation; "
                "pass its noisyprop spelling (e.g. 'leaky-relu:slope=0.1')"
            )
        activation = name
    if not isinstance(activation, str):
        raise ValueError(f"activation must be a str, a Keras activation or None, got {activation!r}")
    spelled = _keras_name_spelling(activation)
    return _native.canonical_activation(spelled if spelled is not None else activation)


def initializer(
    activation: Union[str, Callable[..., Any], None] = "relu",
    noise: NoiseSpec = "none",
    sigma_b2: float = 0.0,
    seed: Optional[int] = None,
) -> keras.initializers.VarianceScaling:
    """A Keras kernel initializer at the critical σ_w² of ``activation``
    followed by ``noise``: ``VarianceScaling(scale=σ_w², mode="fan_in",
    distribution="untruncated_normal")``, i.e. W ~ N(0, σ_w²/fan_in).

    Use it for the layer the activation and noise *feed* (the next layer).
    ``activation`` is a Keras name (``"relu"``, ``"leaky_relu"``, ``"gelu"``,
    ``"swish"``, …) or a noisyprop spelling (see :func:`activation_spelling`);
    ``noise`` a noisyprop or Keras spelling (``"dropout:keep=0.8"``,
    ``"Dropout(0.2)"``, ``"GaussianDropout(0.3)"``) or a list of them.
    Raises ``ValueError`` with the library's message where the activation or
    noise is unknown or no critical σ_w² exists (additive noise, a σ_b² below
    the edge of chaos, …).

    >>> init = initializer("relu", "Dropout(0.2)")                 # doctest: +SKIP
    >>> keras.layers.Dense(256, activation="relu", kernel_initializer=init)  # doctest: +SKIP
    """
    spelled = activation_spelling(activation)
    try:
        a = analyze(spelled, noise, None, sigma_b2)
    except ValueError as e:
        # The library's reason; its hint names analyze()'s sigma_w2 argument,
        # which this function does not have.
        reason = str(e).split("\n\nhint: give sigma_w2")[0]
        raise ValueError(reason) from None
    return keras.initializers.VarianceScaling(
        scale=float(a.sigma_w2), mode="fan_in", distribution="untruncated_normal", seed=seed
    )


# --------------------------------------------------------------------------
# The walker


# The signal reaching each weighted layer is the shared state machine
# ``noisyprop._walk.Signal``: this walker feeds it Keras' events.


def _desc(layer: Any) -> str:
    """``Class (name)`` of a layer or operation, for reasons."""
    return f"{type(layer).__name__} ({getattr(layer, 'name', '?')})"


def _activation_of_fn(fn: Any, owner: Any) -> Tuple[Optional[str], Optional[str]]:
    """(spelling, None) for a Keras activation function noisyprop models —
    ``None`` spelling for linear — or (None, reason)."""
    if fn is None:
        return None, None
    if isinstance(fn, _L.Layer):
        return _activation_of_layer(fn)
    try:
        spelled = activation_spelling(fn)
    except ValueError as e:
        name = getattr(fn, "__name__", repr(fn))
        return None, (
            f"left as it was: the activation `{name}` of {_desc(owner)} is not one noisyprop "
            f"models: {str(e).splitlines()[0]}"
        )
    return (None if spelled == "linear" else spelled), None


def _activation_of_layer(layer: Any) -> Tuple[Optional[str], Optional[str]]:
    """(spelling, None) for an activation layer noisyprop models — ``None``
    spelling for linear — or (None, reason)."""
    try:
        return _read_activation_layer(layer)
    except ValueError as e:
        return None, f"left as it was: fed through {_desc(layer)}: {str(e).splitlines()[0]}"


def _read_activation_layer(layer: Any) -> Tuple[Optional[str], Optional[str]]:
    """:func:`_activation_of_layer` without catching the library's errors."""
    if isinstance(layer, _L.ReLU):
        mv, th = layer.max_value, float(layer.threshold)
        if mv is not None or th != 0.0:
            return None, (
                f"left as it was: fed through {_desc(layer)} with max_value={mv}, "
                f"threshold={th}, which noisyprop does not model"
            )
        slope = float(layer.negative_slope)
        if slope == 0.0:
            return "relu", None
        return _native.canonical_activation(f"leaky-relu:slope={_num(slope)}"), None
    if isinstance(layer, _L.LeakyReLU):
        return _native.canonical_activation(f"leaky-relu:slope={_num(layer.negative_slope)}"), None
    if isinstance(layer, _L.ELU):
        return _native.canonical_activation(f"elu:alpha={_num(layer.alpha)}"), None
    if isinstance(layer, _L.Activation):
        return _activation_of_fn(layer.activation, layer)
    return None, f"left as it was: fed through {_desc(layer)}, which noisyprop does not model"


def _is_activation_layer(layer: Any) -> bool:
    """Whether ``layer`` is a standalone activation layer."""
    return isinstance(layer, (_L.Activation, _L.ReLU, _L.LeakyReLU, _L.ELU, _L.Softmax, _L.PReLU))


def _apply_activation(sig: Signal, spelled: Optional[str], reason: Optional[str]) -> Signal:
    """``sig`` after an activation (``spelled`` None and no reason: linear)."""
    if reason is not None:
        return sig.refused(reason)
    return sig.after_activation(spelled)


def _noise_of(layer: Any) -> Optional[Tuple[Optional[str], Optional[str], Optional[str]]]:
    """For a noise layer: (spelling, note, refusal); ``None`` for other layers."""
    if isinstance(layer, _L.AlphaDropout):
        return None, None, f"left as it was: {ALPHA_DROPOUT}"
    spatial = (_L.SpatialDropout1D, _L.SpatialDropout2D, _L.SpatialDropout3D)
    if isinstance(layer, spatial):
        # The library reads no SpatialDropout spelling: Dropout(rate), said in the note.
        spelled, note = channel_dropout(_desc(layer), _num(layer.rate))
        return spelled, note, None
    if isinstance(layer, _L.Dropout):
        note = None
        if getattr(layer, "noise_shape", None) is not None:
            note = (
                f"{_desc(layer)} shares its mask over axes (noise_shape={layer.noise_shape}); "
                "each unit still has μ₂ = 1/(1 − rate)"
            )
        return f"Dropout({_num(layer.rate)})", note, None
    if isinstance(layer, _L.GaussianDropout):
        return f"GaussianDropout({_num(layer.rate)})", None, None
    if isinstance(layer, _L.GaussianNoise):
        return f"GaussianNoise({_num(layer.stddev)})", None, None
    return None


def _fan_in(layer: Any) -> int:
    """Inputs per output unit: Dense kernel (in, out); ConvND kernel
    (*kernel_size, in_channels/groups, filters)."""
    shape = tuple(int(d) for d in layer.kernel.shape)
    return int(np.prod(shape[:-1]))


def _not_built(what: str) -> ValueError:
    """The error for a model (or layer) without weights yet."""
    return ValueError(
        f"{what} is not built, so it has no weights to set: "
        "build the model first, e.g. model.build(input_shape) or call it once"
    )


class _Walk:
    """Collects the feeds of weighted layers in the order the walk meets them."""

    def __init__(self) -> None:
        self.feeds: List[Feed] = []
        self.layers: List[Any] = []
        self.warnings: List[str] = []
        self._seen: Dict[int, str] = {}

    # One layer or operation with one input signal.
    def step(self, layer: Any, sig: Signal, prefix: str) -> Signal:
        """The signal after ``layer``; records a feed for a weighted layer."""
        if isinstance(layer, keras.Model):
            return self.model(layer, sig, f"{prefix}{layer.name}/")
        if isinstance(layer, _PASS_THROUGH):
            return sig
        if isinstance(layer, _WEIGHTED):
            return self.weighted(layer, sig, prefix)
        noise = _noise_of(layer)
        if noise is not None:
            spelled, note, refusal = noise
            if refusal is not None:
                return sig.refused(refusal)
            return sig.after_noise(spelled, note)  # type: ignore[arg-type]
        if _is_activation_layer(layer):
            return _apply_activation(sig, *_activation_of_layer(layer))
        return sig.unmodelled(_desc(layer))

    def weighted(self, layer: Any, sig: Signal, prefix: str) -> Signal:
        """Record the feed of a Dense/ConvND layer; the signal after it."""
        if not layer.built:
            raise _not_built(f"layer {layer.name!r}")
        name = prefix + layer.name
        if id(layer) in self._seen:
            self.warnings.append(
                f"{name} is called more than once (shared weights); "
                f"it was set for its first call ({self._seen[id(layer)]})"
            )
        else:
            left = None
            if getattr(layer, "lora_enabled", False):
                left = "LoRA-enabled layer"
            elif getattr(layer, "quantization_mode", None):
                left = f"quantized layer ({layer.quantization_mode})"
            self._seen[id(layer)] = name
            self.feeds.append(
                sig.feed(
                    name,
                    type(layer).__name__,
                    _fan_in(layer),
                    getattr(layer, "bias", None) is not None,
                    left=left,
                )
            )
            self.layers.append(layer)
        spelled, reason = _activation_of_fn(getattr(layer, "activation", None), layer)
        return _apply_activation(Signal(), spelled, reason)

    def model(self, model: Any, sig: Signal, prefix: str) -> Signal:
        """Walk a (possibly nested) model fed by ``sig``; the signal after it."""
        if not model.built:
            raise _not_built(f"model {model.name!r}")
        if isinstance(model, keras.Sequential):
            return self.chain(model.layers, sig, prefix)
        by_depth = getattr(model, "_nodes_by_depth", None)
        if by_depth:
            return self.graph(model, by_depth, sig, prefix)
        self.warnings.append(
            f"{prefix or model.name}: a subclassed model's call() is not visible; its layers "
            "were taken in the order they were created, as if chained"
        )
        return self.chain(model.layers, sig, prefix)

    def chain(self, layers: List[Any], sig: Signal, prefix: str) -> Signal:
        """Walk layers applied one after the other."""
        for layer in layers:
            sig = self.step(layer, sig, prefix)
        return sig

    def graph(self, model: Any, by_depth: Dict[int, List[Any]], sig: Signal, prefix: str) -> Signal:
        """Walk a functional model's layer graph, inputs first. A node with
        more than one input tensor (``Add``, ``Concatenate``, …) marks what it
        feeds as unsupported."""
        signals: Dict[int, Signal] = {}
        for depth in sorted(by_depth, reverse=True):
            for node in by_depth[depth]:
                op = node.operation
                inputs = list(node.input_tensors)
                if isinstance(op, _L.InputLayer) or not inputs:
                    out = sig
                elif len(inputs) > 1:
                    merged = Signal.merged(_desc(op), len(inputs))
                    # A nested model is still walked, so its layers get rows (left as they are).
                    out = self.step(op, merged, prefix) if isinstance(op, keras.Model) else merged
                else:
                    src = signals.get(id(inputs[0]))
                    if src is None:
                        src = Signal().refused(
                            f"{_desc(op)} is fed by a tensor noisyprop could not trace"
                        )
                    out = self.step(op, src, prefix)
                for t in node.output_tensors:
                    signals[id(t)] = out
        outs = [signals.get(id(t)) for t in getattr(model, "outputs", None) or []]
        if len(outs) == 1 and outs[0] is not None:
            return outs[0]
        return Signal().refused(f"fed by {_desc(model)}, whose outputs noisyprop cannot follow")


def init_model(
    model: keras.Model,
    sigma_b2: float = 0.0,
    seed: Optional[int] = None,
    depth_multiplier: float = 6.0,
) -> InitReport:
    """Set every ``Dense``/``Conv1D``/``Conv2D``/``Conv3D`` layer of a built
    Keras 3 model to the critical initialisation of the activation and noise
    that feed it, and return the per-layer report.

    Kernels become N(0, σ_w²/fan_in) and biases N(0, σ_b²) (zeros when
    ``sigma_b2 == 0``), drawn with ``numpy.random.default_rng(seed)``;
    fan_in is the Dense kernel's input size, and kernel_size × in_channels /
    groups for a convolution.

    What feeds a layer is read from the model: the ``activation`` of the
    weighted layer before it (Keras applies it to that layer's output),
    standalone ``Activation``/``ReLU``/``LeakyReLU``/``ELU`` layers, and
    noise layers — ``Dropout`` and ``SpatialDropout1D/2D/3D`` (drop
    probability ``rate``), ``GaussianDropout`` (multiplicative) and
    ``GaussianNoise`` (additive: no critical σ_w² exists, so the layer after
    it is left with the library's reason). ``Flatten``, ``Reshape``,
    ``InputLayer`` and ``Identity`` pass the signal through. Anything else
    between two layers (``BatchNormalization``, pooling, ``Softmax``,
    ``AlphaDropout``, a merge such as ``Add``/``Concatenate``, an unknown
    layer) leaves the next weighted layer as it is, with the reason in its
    row's ``note``; the first layer (no activation before it) is set to keep
    its input's second moment.

    Sequential models are walked in order, functional models along their
    layer graph (nested models included); a subclassed model's layers are
    taken in creation order, with a warning in ``report.warnings``.

    Raises ``ValueError`` if the model is not built, or for an invalid
    ``sigma_b2`` (the library's message).
    """
    if not isinstance(model, _L.Layer):
        raise ValueError(f"init_model expects a Keras model or layer, got {type(model).__name__}")
    if not model.built:
        raise _not_built(f"model {model.name!r}")
    walk = _Walk()
    if isinstance(model, keras.Model):
        walk.model(model, Signal(), "")
    else:
        walk.step(model, Signal(), "")
    report = plan(walk.feeds, sigma_b2, depth_multiplier)
    report.warnings.extend(walk.warnings)
    if not report.layers:
        report.warnings.append("no Dense or Conv1D/2D/3D layer found")
    rng = np.random.default_rng(seed)
    for row, layer in zip(report.layers, walk.layers):
        if not row.initialised:
            continue
        kernel = layer.kernel
        kernel.assign(
            keras.ops.convert_to_tensor(
                rng.normal(0.0, row.weight_std, size=tuple(kernel.shape)), dtype=kernel.dtype
            )
        )
        bias = getattr(layer, "bias", None)
        if bias is not None:
            b2 = row.sigma_b2 or 0.0
            values = (
                rng.normal(0.0, math.sqrt(b2), size=tuple(bias.shape))
                if b2 > 0
                else np.zeros(tuple(bias.shape))
            )
            bias.assign(keras.ops.convert_to_tensor(values, dtype=bias.dtype))
    return report


def _all_layers(layer: Any) -> List[Any]:
    """``layer`` and, for a model, every layer inside it (nested models
    included), each once."""
    out: List[Any] = []
    seen: set = set()

    def walk(l: Any) -> None:
        if id(l) in seen:
            return
        seen.add(id(l))
        out.append(l)
        if isinstance(l, keras.Model):
            for sub in l.layers:
                walk(sub)

    walk(layer)
    return out


def layer_second_moments(model: keras.Model, x: Any, *, training: bool = True) -> List[float]:
    """The pre-activation second moment q^l = mean of h² (over the batch,
    positions and units) of every ``Dense``/``Conv1D/2D/3D`` layer of
    ``model``, in the order they run, from one eager forward pass of ``x`` —
    in training mode by default, so dropout and noise layers are active as
    the theory assumes.

    Keras applies a layer's ``activation`` inside the layer, so h is caught
    on its way into that activation (each weighted layer's ``activation`` is
    wrapped for the pass and restored after). Compare with
    ``noisyprop.trajectory(...).column("q")``.
    """
    out: List[float] = []
    layers = [l for l in _all_layers(model) if isinstance(l, _WEIGHTED)]
    originals = [l.activation for l in layers]

    def recording(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
        def act(h: Any) -> Any:
            out.append(float(keras.ops.mean(keras.ops.square(keras.ops.cast(h, "float32")))))
            return fn(h)

        return act

    try:
        for layer, fn in zip(layers, originals):
            layer.activation = recording(fn if fn is not None else keras.activations.linear)
        model(x, training=training)
    finally:
        for layer, fn in zip(layers, originals):
            layer.activation = fn
    return out
