"""Noise-aware critical initialisation of PyTorch models in one call.

>>> import torch.nn as nn, noisyprop.torch
>>> model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Dropout(0.2), nn.Linear(256, 10))
>>> report = noisyprop.torch.init_(model, seed=0)
>>> [round(r.sigma_w2, 3) for r in report]
[1.0, 1.6]

:func:`init_` finds every ``nn.Linear`` and ``nn.Conv1d/2d/3d``, reads the
activation and noise between it and the layer before (module order for an
``nn.Sequential``; the ``torch.fx`` graph when an example input is given or
the model is not sequential), and draws its weights from
N(0, σ_w²/fan_in) with σ_w² the critical value of that activation and noise
(biases from N(0, σ_b²)). Layers it cannot classify are left as they are
and listed with the reason.
"""

from __future__ import annotations

import math
import operator
import warnings as _warnings
from typing import Any, Dict, List, Optional, Tuple

import torch
from torch import nn
from torch.nn import functional as F

from ._walk import ALPHA_DROPOUT, Feed, InitReport, Signal, channel_dropout, plan

__all__ = ["init_", "gain", "layer_second_moments"]

_LAYERS = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)
_PASS_MODULES = (nn.Flatten, nn.Unflatten, nn.Identity)
_PASS_FUNCTIONS = {torch.flatten, torch.reshape, operator.getitem}
_PASS_METHODS = {"view", "reshape", "flatten", "contiguous", "squeeze", "unsqueeze"}


def gain(activation: str = "relu", noise: Any = "none", param: Optional[float] = None) -> float:
    """:func:`noisyprop.gain`: the critical gain, in the shape of
    ``torch.nn.init.calculate_gain`` (std = gain / √fan_in)."""
    from . import gain as _gain

    return _gain(activation, noise, param)


def _activation_module(m: nn.Module) -> Tuple[Optional[str], Optional[str]]:
    """(noisyprop spelling, None) for an activation module, or (None, reason)
    for one noisyprop does not model; (None, None) if it is not one."""
    if isinstance(m, nn.ReLU):
        return "relu", None
    if isinstance(m, nn.LeakyReLU):
        return f"leaky-relu:slope={m.negative_slope}", None
    if isinstance(m, nn.Tanh):
        return "tanh", None
    if isinstance(m, nn.Sigmoid):
        return "sigmoid", None
    if isinstance(m, nn.GELU):
        if m.approximate != "none":
            return None, "GELU(approximate='tanh') is not modelled (only the exact erf GELU)"
        return "gelu", None
    if isinstance(m, nn.SiLU):
        return "silu", None
    if isinstance(m, nn.SELU):
        return "selu", None
    if isinstance(m, nn.ELU):
        return f"elu:alpha={m.alpha}", None
    if isinstance(m, nn.Softplus):
        if m.beta != 1:
            return None, f"Softplus(beta={m.beta}) is not modelled (only beta = 1)"
        return "softplus", None
    if type(m).__module__.startswith("torch.nn.modules.activation"):
        return None, f"the activation {type(m).__name__} is not modelled"
    return None, None


_STD_ATTRS = ("std", "stddev", "sigma", "stdev")
_RATE_ATTRS = ("rate", "p")


def _scalar(m: nn.Module, attr: str) -> Tuple[Optional[float], Optional[str]]:
    """(value, None) when ``m.attr`` is one number (a Python number or a
    0-d tensor); (None, reason) for a tensor of several numbers; (None,
    None) when there is no such attribute."""
    v = getattr(m, attr, None)
    if isinstance(v, bool) or v is None:
        return None, None
    if isinstance(v, (int, float)):
        return float(v), None
    if isinstance(v, torch.Tensor):
        if v.dim() == 0:
            return float(v.item()), None
        return None, (
            f"{type(m).__name__}.{attr} is a tensor of shape {tuple(v.shape)}, not one number "
            "(a noise scale per unit is not modelled)"
        )
    return None, None


def _noise_module(m: nn.Module) -> Tuple[Optional[str], Optional[str], Optional[str]]:
    """(noise spelling, note, refusal) for a noise module; all None if it is
    not one. Gaussian noise modules are recognised by class name: a name
    with ``dropout`` or ``mult`` in it is multiplicative (``rate``/``p`` read
    as Keras' GaussianDropout, a ``std`` as N(1, std²)), any other additive."""
    if isinstance(m, (nn.AlphaDropout, nn.FeatureAlphaDropout)):
        return None, None, ALPHA_DROPOUT
    if isinstance(m, nn.Dropout):
        return f"Dropout({m.p})", None, None
    if isinstance(m, (nn.Dropout1d, nn.Dropout2d, nn.Dropout3d)):
        spelling, note = channel_dropout(type(m).__name__, repr(float(m.p)))
        return spelling, note, None
    cls = type(m).__name__
    name = cls.lower()
    if not ("gauss" in name and ("noise" in name or "dropout" in name)):
        return None, None, None
    multiplicative = "dropout" in name or "mult" in name
    if "dropout" in name:
        attrs = _RATE_ATTRS + _STD_ATTRS
    elif multiplicative:
        attrs = _STD_ATTRS + _RATE_ATTRS
    else:
        attrs = _STD_ATTRS
    for a in attrs:
        v, why = _scalar(m, a)
        if why is not None:
            return None, None, why
        if v is None:
            continue
        if a in _RATE_ATTRS:
            return (
                f"GaussianDropout({v!r})",
                f"{cls}.{a}: read as Keras' GaussianDropout(rate), multiplicative (from the class name)",
                None,
            )
        if multiplicative:
            return (
                f"gauss-mult:std={v!r}",
                "multiplicative Gaussian noise N(1, std²) (read from the class name)",
                None,
            )
        return f"GaussianNoise({v!r})", "additive Gaussian noise (read from the class name)", None
    return None, None, f"{cls}: no {'/'.join(attrs)} attribute to read the noise from"


def _module_event(sig: Signal, m: nn.Module) -> Signal:
    """``sig`` after the module ``m`` (one event of the shared state machine)."""
    if isinstance(m, _PASS_MODULES):
        return sig
    act, why = _activation_module(m)
    if act is not None:
        return sig.after_activation(act)
    spelling, note, refusal = _noise_module(m)
    if refusal is not None:
        return sig.refused(refusal)
    if spelling is not None:
        return sig.after_noise(spelling, note)
    if why is not None:
        return sig.refused(why)
    return sig.unmodelled(type(m).__name__)


def _feed(sig: Signal, name: str, layer: nn.Module) -> Feed:
    """The feed of the weight layer ``layer`` that ``sig`` reaches."""
    w = layer.weight
    lazy = isinstance(w, nn.parameter.UninitializedParameter)
    return sig.feed(
        name,
        type(layer).__name__,
        None if lazy or w.dim() < 2 else int(w[0].numel()),
        layer.bias is not None,
    )


def _leaves(model: nn.Module) -> List[Tuple[str, nn.Module]]:
    """Modules in forward order for a (nested) nn.Sequential; registration
    order otherwise."""
    out: List[Tuple[str, nn.Module]] = []

    def walk(prefix: str, m: nn.Module) -> None:
        children = list(m.named_children())
        if not children or isinstance(m, _LAYERS):
            out.append((prefix, m))
            return
        for n, c in children:
            walk(f"{prefix}.{n}" if prefix else n, c)

    walk("", model)
    return out


def _feeds_sequential(model: nn.Module) -> List[Feed]:
    feeds: List[Feed] = []
    sig = Signal()
    for name, m in _leaves(model):
        if isinstance(m, _LAYERS):
            feeds.append(_feed(sig, name, m))
            sig = Signal()
        else:
            sig = _module_event(sig, m)
    return feeds


_FUNCTION_ACTIVATIONS = {
    F.relu: "relu",
    torch.relu: "relu",
    torch.tanh: "tanh",
    F.tanh: "tanh",
    torch.sigmoid: "sigmoid",
    F.sigmoid: "sigmoid",
    F.silu: "silu",
    F.selu: "selu",
    torch.selu: "selu",
    F.softplus: "softplus",
    torch.abs: "abs",
    torch.erf: "erf",
}
_METHOD_ACTIVATIONS = {
    "relu": "relu",
    "tanh": "tanh",
    "sigmoid": "sigmoid",
    "abs": "abs",
    "erf": "erf",
}


def _feeds_fx(model: nn.Module, example_input: Any) -> List[Feed]:
    import torch.fx as fx

    class Tracer(fx.Tracer):
        # Noise and activation modules stay whole (a Gaussian-noise module is
        # read by its class name, not traced into its arithmetic).
        def is_leaf_module(self, m: nn.Module, qualname: str) -> bool:
            return (
                super().is_leaf_module(m, qualname)
                or any(x is not None for x in _noise_module(m))
                or any(x is not None for x in _activation_module(m))
            )

    gm = fx.GraphModule(model, Tracer().trace(model))
    if example_input is not None:
        from torch.fx.passes.shape_prop import ShapeProp

        args = example_input if isinstance(example_input, tuple) else (example_input,)
        try:
            ShapeProp(gm).propagate(*args)
        except Exception as e:
            raise _ExampleInputError(f"{type(e).__name__}: {e}") from e
    modules = dict(gm.named_modules())
    feeds: List[Feed] = []

    def is_layer(n: fx.Node) -> bool:
        return n.op == "call_module" and isinstance(modules.get(str(n.target)), _LAYERS)

    for node in gm.graph.nodes:
        if not is_layer(node):
            continue
        # Walk back from the layer's input to the previous layer or the input,
        # collecting the ops in between (in reverse).
        chain: List[fx.Node] = []
        cur = node.args[0] if node.args else None
        sig = Signal()
        merged: Optional[Signal] = None
        while isinstance(cur, fx.Node) and not is_layer(cur) and cur.op != "placeholder":
            reshaping = (cur.op == "call_method" and cur.target in _PASS_METHODS) or (
                cur.op == "call_function" and cur.target in _PASS_FUNCTIONS
            )
            if reshaping and cur.args and isinstance(cur.args[0], fx.Node):
                # view(x.size(0), -1): only the first argument is data.
                chain.append(cur)
                cur = cur.args[0]
                continue
            tensor_args = [a for a in cur.args if isinstance(a, fx.Node)]
            if len(tensor_args) != 1:
                merged = Signal.merged(f"`{cur.name}`", len(tensor_args))
                break
            chain.append(cur)
            cur = tensor_args[0]
        if merged is not None:
            sig = merged
        for op in reversed(chain):
            if op.op == "call_module":
                sig = _module_event(sig, modules[str(op.target)])
            elif op.op == "call_function":
                if op.target in _PASS_FUNCTIONS:
                    continue
                if op.target in (F.leaky_relu,):
                    slope = op.kwargs.get("negative_slope", op.args[1] if len(op.args) > 1 else 0.01)
                    sig = sig.after_activation(f"leaky-relu:slope={slope}")
                elif op.target in (F.gelu,):
                    if op.kwargs.get("approximate", "none") != "none":
                        sig = sig.refused("GELU(approximate='tanh') is not modelled")
                    else:
                        sig = sig.after_activation("gelu")
                elif op.target in (F.dropout, torch.dropout):
                    p = op.kwargs.get("p", op.args[1] if len(op.args) > 1 else 0.5)
                    sig = sig.after_noise(f"Dropout({p})")
                elif op.target in _FUNCTION_ACTIVATIONS:
                    sig = sig.after_activation(_FUNCTION_ACTIVATIONS[op.target])
                else:
                    sig = sig.unmodelled(str(getattr(op.target, "__name__", op.target)))
            elif op.op == "call_method":
                if op.target in _PASS_METHODS:
                    continue
                if op.target in _METHOD_ACTIVATIONS:
                    sig = sig.after_activation(_METHOD_ACTIVATIONS[str(op.target)])
                else:
                    sig = sig.unmodelled(f".{op.target}()")
            else:
                sig = sig.unmodelled(f"`{op.name}` ({op.op})")
        feeds.append(_feed(sig, str(node.target), modules[str(node.target)]))
    return feeds


class _ExampleInputError(Exception):
    """The example input failed to run through the traced model."""


def _plain_sequential(model: nn.Module) -> bool:
    """An nn.Sequential whose containers are all nn.Sequential (module order
    is then the forward order)."""
    if not isinstance(model, nn.Sequential):
        return False
    for m in model.modules():
        if isinstance(m, _LAYERS) or not list(m.children()):
            continue
        if not isinstance(m, nn.Sequential):
            return False
    return True


def _check_parameters(model: nn.Module, feeds: List[Feed]) -> List[Feed]:
    """Leaves layers whose weights cannot or should not be drawn: lazy
    (uninitialised), on the meta device, frozen; and layers called more than
    once (each call has its own feed, one weight)."""
    layers = dict(model.named_modules())
    calls: Dict[str, int] = {}
    for f in feeds:
        calls[f.name] = calls.get(f.name, 0) + 1
    out, seen = [], set()
    for f in feeds:
        if f.name in seen:
            continue
        seen.add(f.name)
        w = getattr(layers.get(f.name), "weight", None)
        why = None
        if isinstance(w, nn.parameter.UninitializedParameter):
            why = "its parameters are uninitialised (lazy): pass example_input, or run the model once"
        elif w is not None and w.is_meta:
            why = "its parameters are on the meta device: materialise them first (model.to_empty(device=...))"
        elif w is not None and not w.requires_grad:
            why = "its weight is frozen (requires_grad=False): a pretrained layer is not redrawn"
        elif calls[f.name] > 1:
            why = f"it is called {calls[f.name]} times in the forward pass, each with its own feed, but has one weight"
        if why is not None and f.unsupported is None:
            f.unsupported = f"left as it was: {why}"
            f.fan_in = f.fan_in if not isinstance(w, nn.parameter.UninitializedParameter) else None
        out.append(f)
    return out


def init_(
    model: nn.Module,
    example_input: Any = None,
    sigma_b2: float = 0.0,
    *,
    seed: Optional[int] = None,
    depth_multiplier: float = 6.0,
) -> InitReport:
    """Sets every Linear/Conv layer of ``model`` to the critical
    initialisation of the activation and noise that feed it, in place.

    Weights ~ N(0, σ_w²/fan_in) with fan_in = in_features, or in_channels ×
    kernel size (/ groups) for convolutions; biases ~ N(0, σ_b²) (zero when
    ``sigma_b2`` is 0). The order is the module order of an
    ``nn.Sequential``; other models are traced with ``torch.fx`` (with
    ``example_input`` shapes are propagated too). ``seed`` makes the draw
    reproducible with a private generator; without it the draw comes from
    torch's global generator (``torch.manual_seed`` applies).

    Returns the per-layer :class:`~noisyprop._walk.InitReport` (layer,
    activation and noise as understood, σ_w², kind, predicted trainable
    depth 6·ξ_c); layers it could not classify (AlphaDropout, BatchNorm,
    pooling, residual merges, no critical point …) are left as they are and
    listed with the reason.
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"init_ needs a torch.nn.Module, got {type(model).__name__}")
    warnings: List[str] = []
    if _plain_sequential(model) and example_input is None:
        feeds = _feeds_sequential(model)
    else:
        if example_input is not None and not isinstance(example_input, (torch.Tensor, tuple)):
            raise ValueError(
                "example_input must be a tensor or a tuple of tensors (the model's forward "
                f"arguments), got {type(example_input).__name__}"
            )
        try:
            feeds = _feeds_fx(model, example_input)
        except _ExampleInputError as e:
            raise ValueError(f"example_input does not run through the model: {e}") from None
        except Exception as e:  # torch.fx raises many types for untraceable code
            reason = (
                f"left as it was: torch.fx could not trace {type(model).__name__} "
                f"({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}), so what "
                "feeds this layer is unknown; make the model traceable or an nn.Sequential"
            )
            feeds = [
                Feed(n, type(m).__name__, None, unsupported=reason)
                for n, m in model.named_modules()
                if isinstance(m, _LAYERS)
            ]
    feeds = _check_parameters(model, feeds)
    report = plan(feeds, sigma_b2, depth_multiplier)
    report.warnings += warnings
    if not any(r.initialised for r in report) and not report.layers:
        report.warnings.append("no Linear or Conv layer found")
    # With a seed, a private generator (the global one is left as it is);
    # without, torch's global generator, so torch.manual_seed(0) before the
    # call makes it reproducible.
    gen: Optional[torch.Generator] = None
    if seed is not None:
        gen = torch.Generator(device="cpu")
        gen.manual_seed(seed)
    layers: Dict[str, nn.Module] = dict(model.named_modules())
    with torch.no_grad():
        for row in report:
            if not row.initialised:
                continue
            layer = layers[row.layer]
            w = layer.weight
            assert row.weight_std is not None and row.sigma_b2 is not None
            w.copy_(torch.randn(w.shape, generator=gen, dtype=torch.float64).mul_(row.weight_std))
            if layer.bias is not None:
                b = layer.bias
                b.copy_(
                    torch.randn(b.shape, generator=gen, dtype=torch.float64).mul_(
                        math.sqrt(row.sigma_b2)
                    )
                )
    return report


def layer_second_moments(
    model: nn.Module,
    x: torch.Tensor,
    *,
    training: Optional[bool] = None,
    train: Optional[bool] = None,
) -> List[float]:
    """The pre-activation second moment q^l = mean of h² (over the batch and
    the units) at the output of every Linear/Conv layer of ``model``, in the
    order they run, from one forward pass of ``x`` — in training mode by
    default (``training=True``), so dropout and noise layers are active as
    the theory assumes. ``train=`` is the deprecated name of ``training=``
    (the Keras walker's). Compare with
    ``noisyprop.trajectory(...).column("q")`` or judge with
    ``noisyprop.verdict``."""
    if train is not None:
        if training is not None and bool(training) != bool(train):
            raise TypeError("layer_second_moments: give training= only (train= is its deprecated name)")
        _warnings.warn(
            "layer_second_moments(train=...) is deprecated; use training=...",
            DeprecationWarning,
            stacklevel=2,
        )
        training = train
    mode = True if training is None else bool(training)
    out: List[float] = []

    def hook(_m: nn.Module, _inp: Any, h: torch.Tensor) -> None:
        out.append(float(h.detach().double().pow(2).mean()))

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, _LAYERS)]
    was_training = model.training
    try:
        model.train(mode)
        with torch.no_grad():
            model(x)
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()
    return out
