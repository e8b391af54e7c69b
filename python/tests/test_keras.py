"""noisyprop.keras: the critical initializer and the model walker, checked
against the theory by propagating random inputs through deep Keras models
in training mode (dropout on)."""

from __future__ import annotations

import math
import os
from typing import Callable, List, Tuple

os.environ.setdefault("KERAS_BACKEND", "jax")

import numpy as np
import pytest
from conftest import require_module

keras = require_module("keras")

import noisyprop  # noqa: E402
import noisyprop.keras as nk  # noqa: E402
from noisyprop._walk import ALPHA_DROPOUT  # noqa: E402

L = keras.layers
WIDTH = 256
DEPTH = 50
BATCH = 512


def within_band(q: float, theory: float, factor: float = 2.0) -> bool:
    """Whether a measured second moment agrees with the theory: within a
    factor ``factor`` either way. (To be replaced by the simulator's verdict
    rule; every check below goes through this function.)"""
    return theory / factor <= q <= theory * factor


def preactivation_q(model: keras.Model, x: np.ndarray, training: bool = True) -> List[float]:
    """Second moment (mean of h² over batch, positions and units) of every
    Dense/Conv layer's pre-activation, running ``model.layers`` one by one:
    the weighted layers by hand (to see h before the activation), the rest
    called with ``training`` (dropout on). For the i-th weighted layer, a
    convolution's h is cropped by i positions on each side: there the
    receptive field reaches no zero padding, which the theory does not have."""
    h = keras.ops.convert_to_tensor(x.astype("float32"))
    qs: List[float] = []
    for layer in model.layers:
        if isinstance(layer, (L.Dense, L.Conv1D, L.Conv2D, L.Conv3D)):
            if isinstance(layer, L.Dense):
                pre = keras.ops.matmul(h, layer.kernel)
            else:
                pre = layer.convolution_op(h, layer.kernel)
            if layer.bias is not None:
                pre = pre + layer.bias
            seen = pre
            if not isinstance(layer, L.Dense) and layer.padding == "same":
                i = len(qs) + 1
                seen = pre[(slice(None),) + (slice(i, -i),) * (len(pre.shape) - 2)]
            qs.append(float(keras.ops.mean(seen * seen)))
            h = layer.activation(pre)
        else:
            h = layer(h, training=training)
    return qs


def ensemble_q(
    model: keras.Model,
    x: np.ndarray,
    draws: int,
    init: Callable[[keras.Model, int], object],
    measure: Callable[[keras.Model, np.ndarray], List[float]] = nk.layer_second_moments,
) -> Tuple[np.ndarray, np.ndarray]:
    """Per-layer q averaged over ``draws`` initialisations ``init(model, seed)``
    (the theory's q is the expectation over weights, which for ReLU holds at
    any width; one finite-width draw wanders around it), and the per-draw q
    of the last layer."""
    qs = []
    for seed in range(draws):
        init(model, seed)
        qs.append(measure(model, x))
    arr = np.array(qs)
    ENSEMBLES.append(arr)
    return arr.mean(axis=0), arr[:, -1]


#: Every ensemble measured, last one last (for the verdict over draws).
ENSEMBLES: List[np.ndarray] = []


def keras_init(initializer: str) -> Callable[[keras.Model, int], None]:
    """Re-draw every kernel with a Keras initializer (biases zero)."""

    def init(model: keras.Model, seed: int) -> None:
        for i, layer in enumerate(model.layers):
            if isinstance(layer, L.Dense):
                draw = keras.initializers.get({"class_name": initializer, "config": {"seed": seed * 1000 + i}})
                layer.kernel.assign(draw(tuple(layer.kernel.shape)))
                layer.bias.assign(np.zeros(tuple(layer.bias.shape), "float32"))

    return init


def mlp(
    activation: str,
    rate: float = 0.2,
    depth: int = DEPTH,
    width: int = WIDTH,
    kernel_initializer: object = "glorot_uniform",
) -> keras.Sequential:
    """``depth`` × [Dense(width, activation), Dropout(rate)], built."""
    stack: List[object] = [keras.Input((width,))]
    for _ in range(depth):
        stack += [L.Dense(width, activation=activation, kernel_initializer=kernel_initializer), L.Dropout(rate)]
    return keras.Sequential(stack)


def inputs(shape: tuple, seed: int = 0) -> np.ndarray:
    """x ~ N(0, 1)."""
    return np.random.default_rng(seed).standard_normal(shape).astype("float32")


@pytest.fixture(autouse=True)
def _seeded() -> None:
    keras.utils.set_random_seed(1234)


# ---------------------------------------------------------------- initializer


def test_initializer_variance_is_critical() -> None:
    init = nk.initializer("relu", "dropout:keep=0.8", seed=0)
    cfg = init.get_config()
    assert cfg["mode"] == "fan_in" and cfg["distribution"] == "untruncated_normal"
    assert cfg["scale"] == pytest.approx(1.6)
    fan_in = 4096
    w = np.asarray(init((fan_in, 256)))
    assert abs(w.mean()) < 1e-3
    assert w.var() * fan_in == pytest.approx(1.6, rel=0.02)


def test_initializer_keras_names() -> None:
    assert nk.activation_spelling("swish") == "silu"
    assert nk.activation_spelling("leaky_relu") == "leaky-relu:slope=0.2"  # Keras 3 default
    assert nk.activation_spelling(keras.activations.leaky_relu) == "leaky-relu:slope=0.2"
    assert nk.activation_spelling(None) == "linear"
    for name in ("relu", "tanh", "gelu", "silu", "elu", "selu", "softplus", "sigmoid", "linear"):
        assert nk.activation_spelling(name) == noisyprop._native.canonical_activation(name)
    # Keras' relu gain squared is 2; leaky_relu's 2/(1+0.2²); Keras name and
    # noisyprop spelling give the same scale.
    assert nk.initializer("relu").get_config()["scale"] == pytest.approx(2.0)
    assert nk.initializer("leaky_relu").get_config()["scale"] == pytest.approx(2 / 1.04)
    # silu has a critical point only above the edge of chaos (σ_b² ≈ 0.555: q_b − E[φ²]/E[φ′²]
    # at q_b = 14.3202, where E[φ′² + φφ″] = E[φ′²]; mpmath 30 digits: 0.555143170722).
    assert nk.initializer("swish", sigma_b2=1.0).get_config()["scale"] == pytest.approx(
        nk.initializer("silu", sigma_b2=1.0).get_config()["scale"]
    )
    assert nk.initializer("relu", "Dropout(0.2)").get_config()["scale"] == pytest.approx(1.6)


def test_initializer_bad_input_has_library_message() -> None:
    with pytest.raises(ValueError, match="unknown activation `foo`"):
        nk.initializer("foo")
    with pytest.raises(ValueError, match="unknown activation `softmax`"):
        nk.initializer("softmax")
    with pytest.raises(ValueError, match="no critical σ_w² exists") as e:
        nk.initializer("relu", "GaussianNoise(0.1)")
    assert "sigma_w2" not in str(e.value)  # analyze()'s hint does not apply here
    with pytest.raises(ValueError):
        nk.initializer("relu", "nonsense-noise")


# ------------------------------------------------------------ deep propagation


def test_relu_dropout_mlp_depth_50() -> None:
    x = inputs((BATCH, WIDTH))
    model = mlp("relu")
    report = nk.init_model(model, seed=0)
    assert len(report) == DEPTH and not report.skipped
    assert report[0].sigma_w2 == pytest.approx(1.0)  # fed by the input: 1/μ₂ of no noise
    assert all(r.sigma_w2 == pytest.approx(1.6) for r in report[1:])  # 2p
    assert report[0].weight_std == pytest.approx(math.sqrt(1.0 / WIDTH))

    draws = 12
    inits = {
        "noisyprop": lambda m, seed: nk.init_model(m, seed=seed),
        "glorot_uniform (Keras default)": keras_init("GlorotUniform"),
        "he_normal": keras_init("HeNormal"),
    }
    q, draws_q = {}, {}
    for name, init in inits.items():
        mean, last = ensemble_q(model, x, draws, init)
        q[name] = mean
        draws_q[name] = ENSEMBLES[-1]
        print(
            f"{name:31s} mean over {draws} draws: q^1 = {mean[0]:.4g}  q^25 = {mean[24]:.4g}  "
            f"q^50 = {mean[-1]:.4g}; q^50 of single draws: {np.min(last):.3g} .. {np.max(last):.3g}"
        )

    # Theory: q^l = 1 for every layer; judged by the simulator's verdict rule
    # over the draws (and, looser, within a factor 2 on average).
    theory = [1.0] * DEPTH
    v = noisyprop.verdict(theory, draws_q["noisyprop"], WIDTH)
    assert v.passed and v.checks == DEPTH, v.failures
    bad = [(l + 1, v) for l, v in enumerate(q["noisyprop"]) if not within_band(v, 1.0)]
    assert not bad, bad
    for name in ("glorot_uniform (Keras default)", "he_normal"):
        assert not noisyprop.verdict(theory, draws_q[name], WIDTH).passed
        drift = q[name][-1]
        assert abs(math.log(drift)) > math.log(100), (name, drift)
    assert q["glorot_uniform (Keras default)"][-1] < 1e-2  # vanishes (σ_w² μ₂ / 2 = 0.625 per layer)
    assert q["he_normal"][-1] > 1e2  # explodes (1.25 per layer)


def test_tanh_dropout_bias_follows_trajectory() -> None:
    b2 = 0.05
    x = inputs((BATCH, WIDTH), seed=1)
    model = mlp("tanh")
    report = nk.init_model(model, sigma_b2=b2, seed=1)
    sw2 = noisyprop.analyze("tanh", "dropout:keep=0.8", None, b2).sigma_w2
    for row in report[1:]:
        assert row.initialised and row.sigma_w2 == pytest.approx(sw2) and row.sigma_b2 == b2
    # The first layer is linear in the input: σ_w² = 1, and the bias adds σ_b² once.
    assert report[0].initialised and report[0].sigma_w2 == pytest.approx(1.0)
    qs = nk.layer_second_moments(model, x)
    assert qs[0] == pytest.approx(1.0 + b2, rel=0.1)
    theory = noisyprop.trajectory(
        "tanh", "dropout:keep=0.8", sigma_w2=sw2, sigma_b2=b2, depth=DEPTH, q0=qs[0]
    ).column("q")
    # Measured layer l (2..50) is trajectory index l - 1 (q^0 = measured layer 1).
    pairs = [(l, qs[l - 1], float(theory[l - 1])) for l in range(2, DEPTH + 1)]
    rel = max(abs(m / t - 1) for _, m, t in pairs)
    print(f"tanh: q^1 = {qs[0]:.4g}, q^50 = {qs[-1]:.4g} (theory {pairs[-1][2]:.4g}), max rel. error {rel:.3g}")
    bad = [p for p in pairs if not within_band(p[1], p[2])]
    assert not bad, bad


def test_cnn_fan_in_and_variance() -> None:
    channels, convs = 32, 6
    stack: List[object] = [keras.Input((32, 32, 3))]
    for _ in range(convs):
        stack += [L.Conv2D(channels, 3, padding="same", activation="relu"), L.Dropout(0.2)]
    stack += [L.Flatten(), L.Dense(10)]
    model = keras.Sequential(stack)
    report = nk.init_model(model, seed=2)
    assert [r.type for r in report] == ["Conv2D"] * convs + ["Dense"]
    assert [r.fan_in for r in report] == [9 * 3] + [9 * channels] * (convs - 1) + [32 * 32 * channels]
    assert not report.skipped
    assert report[0].sigma_w2 == pytest.approx(1.0) and report[1].sigma_w2 == pytest.approx(1.6)
    k = np.asarray(model.layers[2].kernel)
    assert k.var() * 9 * channels == pytest.approx(1.6, rel=0.05)
    assert k.std() == pytest.approx(report[1].weight_std, rel=0.05)

    mean, _ = ensemble_q(
        model, inputs((16, 32, 32, 3), seed=2), 8, lambda m, s: nk.init_model(m, seed=s), preactivation_q
    )
    conv_q = mean[:convs]  # the Dense after Flatten also sees the zero-padded borders
    print("cnn conv q (interior, mean of 8 draws):", [f"{v:.3g}" for v in conv_q])
    # Theory: q^l = 1 for every conv layer.
    bad = [(l + 1, v) for l, v in enumerate(conv_q) if not within_band(v, 1.0)]
    assert not bad, bad


def test_layer_second_moments_matches_by_hand() -> None:
    stack: List[object] = [keras.Input((12, 12, 2))]
    stack += [L.Conv2D(8, 3, activation="relu"), L.Dropout(0.3), L.Conv2D(8, 3, activation="tanh")]
    stack += [L.Flatten(), L.Dense(4, activation="softmax")]
    model = keras.Sequential(stack)
    nk.init_model(model, seed=5)
    x = inputs((4, 12, 12, 2), seed=5)
    got = nk.layer_second_moments(model, x, training=False)
    assert got == pytest.approx(preactivation_q(model, x, training=False), rel=1e-5)
    assert len(got) == 3
    acts = [l.activation for l in model.layers if hasattr(l, "activation")]
    assert acts == [keras.activations.relu, keras.activations.tanh, keras.activations.softmax]


# ------------------------------------------------------------------ the report


def test_report_rows_and_skipped_layers() -> None:
    model = keras.Sequential(
        [
            keras.Input((32,)),
            L.Dense(32, activation="relu", name="d1"),
            L.Dropout(0.25, name="drop"),
            L.Dense(32, activation="relu", name="d2"),
            L.BatchNormalization(name="bn"),
            L.Dense(32, activation="relu", name="d3"),
            L.GaussianNoise(0.1, name="gn"),
            L.Dense(32, activation="selu", name="d4"),
            L.AlphaDropout(0.1, name="ad"),
            L.Dense(32, name="d5"),
            L.LeakyReLU(name="lrelu"),  # layer default negative_slope 0.3
            L.GaussianDropout(0.3, name="gd"),
            L.Dense(32, activation="softmax", name="d6"),
            L.Dense(8, name="d7"),
        ]
    )
    before = {n: np.asarray(model.get_layer(n).kernel).copy() for n in ("d3", "d4", "d5", "d7")}
    report = nk.init_model(model, seed=3)
    rows = {r.layer: r for r in report}
    assert list(rows) == ["d1", "d2", "d3", "d4", "d5", "d6", "d7"]
    assert rows["d2"].noise == "dropout:keep=0.75" and rows["d2"].sigma_w2 == pytest.approx(1.5)
    # GaussianDropout(0.3): std = √(rate/(1 − rate)) = √(3/7) = 0.654653670708.
    assert rows["d6"].activation == "leaky-relu:slope=0.3" and rows["d6"].noise.startswith("gauss-mult:std=0.6546")
    assert rows["d6"].initialised
    assert {r.layer for r in report.skipped} == {"d3", "d4", "d5", "d7"}
    assert "BatchNormalization" in rows["d3"].note
    assert "no critical σ_w² exists" in rows["d4"].note and "gauss-add" in rows["d4"].note
    assert ALPHA_DROPOUT in rows["d5"].note
    assert "softmax" in rows["d7"].note
    for name, k in before.items():
        np.testing.assert_array_equal(np.asarray(model.get_layer(name).kernel), k)
    text = str(report)
    print(text)
    for needle in ("d1", "BatchNormalization", "AlphaDropout is refused", "left", "predicted trainable depth"):
        assert needle in text
    assert "7 layers" in repr(report)
    assert report.trainable_depth is not None
    assert len(report.to_dicts()) == 7


def test_functional_graph_merges_and_nesting() -> None:
    x = keras.Input((16,))
    a = L.Dense(16, activation="relu", name="a")(x)
    b = L.Dropout(0.1, name="drop")(a)
    b = L.Dense(16, name="b")(b)
    s = L.Add(name="add")([a, b])
    c = L.Dense(16, activation="tanh", name="c")(s)
    inner = keras.Sequential([keras.Input((16,)), L.Dense(16, activation="relu", name="inner_d")], name="inner")
    d = inner(c)
    r = L.Reshape((4, 4), name="reshape")(d)
    r = L.SpatialDropout1D(0.5, name="sd")(r)
    e = L.Conv1D(8, 2, name="conv")(r)
    model = keras.Model(x, L.Dense(2, name="out")(L.Flatten()(e)))
    report = nk.init_model(model, seed=4)
    rows = {r.layer: r for r in report}
    assert list(rows) == ["a", "b", "c", "inner/inner_d", "conv", "out"]
    assert rows["b"].initialised and rows["b"].activation == "relu" and rows["b"].noise == "dropout:keep=0.9"
    assert not rows["c"].initialised and "Add" in rows["c"].note
    assert rows["inner/inner_d"].activation == "tanh" and rows["inner/inner_d"].initialised
    assert rows["conv"].fan_in == 2 * 4 and rows["conv"].noise == "dropout:keep=0.5"
    assert rows["conv"].sigma_w2 == pytest.approx(1.0)  # relu with keep 0.5: 2p
    assert "SpatialDropout1D" in rows["conv"].note
    assert rows["out"].fan_in == 3 * 8


def test_bias_seed_and_errors() -> None:
    def build() -> keras.Sequential:
        return keras.Sequential(
            [keras.Input((64,)), L.Dense(512, activation="tanh"), L.Dropout(0.2), L.Dense(2048)]
        )

    m1, m2 = build(), build()
    r = nk.init_model(m1, sigma_b2=0.05, seed=7)
    nk.init_model(m2, sigma_b2=0.05, seed=7)
    assert r[1].initialised
    for v1, v2 in zip(m1.layers[2].weights, m2.layers[2].weights):
        np.testing.assert_array_equal(np.asarray(v1), np.asarray(v2))
    assert np.asarray(m1.layers[2].bias).std() == pytest.approx(math.sqrt(0.05), rel=0.1)
    m3 = build()
    nk.init_model(m3, seed=7)
    assert not np.asarray(m3.layers[2].bias).any()  # σ_b² = 0: zeros

    with pytest.raises(ValueError, match="build the model first"):
        nk.init_model(keras.Sequential([L.Dense(4)]))
    with pytest.raises(ValueError):
        nk.init_model(build(), sigma_b2=-1.0)


def test_reports_compare_equal_and_which_noise_may_precede_an_activation() -> None:
    def build(before: object, act: object, after: object = None) -> keras.Sequential:
        stack = [keras.Input((16,)), L.Dense(16, name="a"), before, act]
        if after is not None:
            stack.append(after)
        return keras.Sequential(stack + [L.Dense(16, name="b")])

    # Dropout before relu commutes; Gaussian dropout after it is not judged
    # (it used to leave the layer).
    r = nk.init_model(build(L.Dropout(0.5), L.ReLU(), L.GaussianDropout(0.5)), seed=0)
    assert r[1].initialised, r[1].note
    assert r[1].sigma_w2 == pytest.approx(0.5)  # 2/μ₂, μ₂ = 2 · 2
    # Gaussian dropout before relu can be negative; dropout before tanh does
    # not commute (tanh is not positively homogeneous).
    r = nk.init_model(build(L.GaussianDropout(0.5), L.Activation("relu")), seed=0)
    assert not r[1].initialised and "can take negative values" in r[1].note
    r = nk.init_model(build(L.Dropout(0.5), L.Activation("tanh")), seed=0)
    assert not r[1].initialised and "tanh is not positively homogeneous" in r[1].note

    # InitReport equality: same rows and warnings, whatever the draw.
    make = lambda: build(L.Dropout(0.2), L.ReLU())  # noqa: E731
    assert nk.init_model(make(), seed=0) == nk.init_model(make(), seed=1)
    assert nk.init_model(make(), seed=0) != nk.init_model(make(), sigma_b2=0.1, seed=0)


def test_spatial_dropout_goes_to_the_library_as_dropout() -> None:
    model = keras.Sequential(
        [keras.Input((8, 8, 2)), L.Conv2D(4, 3, activation="relu"), L.SpatialDropout2D(0.2, name="sd"), L.Conv2D(4, 3)]
    )
    row = nk.init_model(model, seed=0)[1]
    assert row.initialised and row.noise == "dropout:keep=0.8"
    assert "SpatialDropout2D (sd) drops whole channels" in row.note
    assert "read as Dropout(0.2)" in row.note
    # The spelling the note names is one the library reads, with the same σ_w².
    assert row.sigma_w2 == pytest.approx(noisyprop.analyze("relu", "Dropout(0.2)").sigma_w2)
