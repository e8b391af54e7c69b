"""noisyprop.torch against real PyTorch models: the critical initialisation
keeps every layer's pre-activation variance where the theory says, by the
simulator's verdict rule, and PyTorch's default and Kaiming inits drift."""

from __future__ import annotations

import math
import pathlib

import numpy as np
import pytest
from conftest import require_module

torch = require_module("torch")
from torch import nn  # noqa: E402

import noisyprop  # noqa: E402
import noisyprop.torch as nt  # noqa: E402

torch.set_num_threads(2)

DEPTH = 50
WIDTH = 256
NETWORKS = 8
BATCH = 128


def relu_mlp(depth: int = DEPTH, drop: float = 0.2, act=nn.ReLU) -> nn.Sequential:
    layers = [nn.Linear(WIDTH, WIDTH)]
    for _ in range(depth - 1):
        layers += [act(), nn.Dropout(drop), nn.Linear(WIDTH, WIDTH)]
    return nn.Sequential(*layers)


def measure(make, init, seed0: int = 0):
    """q^l of layers 1..L for NETWORKS independently initialised networks,
    each on its own batch of x ~ N(0, 1)."""
    out = []
    for k in range(NETWORKS):
        torch.manual_seed(seed0 + k)
        m = make()
        init(m, seed0 + k)
        x = torch.randn(BATCH, WIDTH, generator=torch.Generator().manual_seed(1000 + k))
        out.append(nt.layer_second_moments(m, x))
    return np.array(out)


def kaiming(m, _seed):
    for mod in m.modules():
        if isinstance(mod, (nn.Linear, nn.Conv2d)):
            nn.init.kaiming_normal_(mod.weight, nonlinearity="relu")
            nn.init.zeros_(mod.bias)


def default(_m, _seed):
    pass  # PyTorch's own init (kaiming_uniform with a = √5)


def noisy(sigma_b2: float = 0.0):
    return lambda m, seed: nt.init_(m, sigma_b2=sigma_b2, seed=seed)


def drift(q: np.ndarray) -> float:
    """Orders of magnitude the mean q moves between layer 1 and the last."""
    mean = q.mean(axis=0)
    return abs(math.log10(mean[-1] / mean[0]))


def test_relu_dropout_mlp_stays_critical_for_50_layers_and_the_usual_inits_drift():
    make = lambda: relu_mlp()  # noqa: E731
    q = measure(make, noisy())
    # Theory: layer 1 (no activation before it) keeps E[x²] = 1; every
    # ReLU + dropout layer at σ_w² = 2·keep keeps q.
    theory = noisyprop.trajectory("relu", "dropout:keep=0.8", depth=DEPTH - 1, q0=1.0).column("q")
    v = noisyprop.verdict(theory, q, WIDTH)
    assert v.passed, v.failures
    assert v.checks == DEPTH
    q_default = measure(make, default)
    q_kaiming = measure(make, kaiming)
    print(
        f"\nq at layer 50 (mean of {NETWORKS} nets): noisyprop {q.mean(0)[-1]:.3g}, "
        f"default {q_default.mean(0)[-1]:.3g}, kaiming {q_kaiming.mean(0)[-1]:.3g}"
    )
    # Both usual inits move by orders of magnitude and fail the verdict.
    # vanishes ×(σ_w² μ₂ / 2) = 0.21 per layer (σ_w² = 1/3) down to its bias floor ≈ 1/(3·fan_in)
    assert drift(q_default) > 2
    assert drift(q_kaiming) > 3  # explodes: 1.25^49 ≈ 6e4
    assert not noisyprop.verdict(theory, q_default, WIDTH).passed
    assert not noisyprop.verdict(theory, q_kaiming, WIDTH).passed
    assert drift(q) < 0.5


def test_a_sigma_w2_ten_percent_off_fails_the_same_check():
    def off(m, seed):
        nt.init_(m, seed=seed)
        with torch.no_grad():
            for mod in list(m.modules())[2:]:
                if isinstance(mod, nn.Linear):
                    mod.weight.mul_(math.sqrt(1.1))

    q = measure(lambda: relu_mlp(), off)
    theory = [1.0] * DEPTH
    assert not noisyprop.verdict(theory, q, WIDTH).passed


def test_tanh_dropout_with_bias_follows_its_trajectory():
    b2 = 0.05
    make = lambda: relu_mlp(act=nn.Tanh)  # noqa: E731
    q = measure(make, noisy(b2))
    crit = noisyprop.analyze("tanh", "dropout:keep=0.8", sigma_b2=b2)
    assert crit.critical_kind == "stable"
    # Layer 1: E[x²] + σ_b²; from there the tanh + dropout map at the
    # critical σ_w² (spec 2.1), which settles at q* = 0.570048 (q* does not depend on the
    # dropout: crates/theory/tests/golden/critical.csv, tanh rows at σ_b² = 0.05, mpmath).
    q1 = 1.0 + b2
    theory = noisyprop.trajectory(
        "tanh", "dropout:keep=0.8", crit.sigma_w2, b2, depth=DEPTH - 1, q0=q1
    ).column("q")
    v = noisyprop.verdict(theory, q, WIDTH)
    assert v.passed, v.failures
    assert abs(theory[-1] - crit.q_star) < 1e-6
    # PyTorch's default init shrinks tanh signals towards its tiny bias.
    q_default = measure(make, default)
    print(f"\ntanh q at layer 50: noisyprop {q.mean(0)[-1]:.3g}, default {q_default.mean(0)[-1]:.3g}")
    assert drift(q_default) > 2
    assert not noisyprop.verdict(theory, q_default, WIDTH).passed


class SmallCNN(nn.Module):
    """Valid (unpadded) 3×3 convolutions, so every output sums over the
    full fan-in C·9, then a dense read-out."""

    def __init__(self, channels: int = 16, depth: int = 8, drop: float = 0.2):
        super().__init__()
        self.convs = nn.ModuleList(
            [nn.Conv2d(3 if i == 0 else channels, channels, 3) for i in range(depth)]
        )
        self.drop = nn.Dropout(drop)
        self.head = nn.Linear(channels * (32 - 2 * depth) ** 2, 10)

    def forward(self, x):
        x = self.convs[0](x)
        for conv in self.convs[1:]:
            x = conv(self.drop(torch.relu(x)))
        return self.head(self.drop(torch.relu(x)).flatten(1))


def test_small_cnn_is_traced_and_kept_critical():
    x_example = torch.randn(2, 3, 32, 32)
    report = nt.init_(SmallCNN(), x_example, seed=0)
    assert [r.fan_in for r in report][:3] == [27, 144, 144]
    assert all(r.initialised for r in report), str(report)
    assert report[1].activation == "relu" and report[1].noise == "dropout:keep=0.8"
    assert report[-1].type == "Linear" and report[-1].fan_in == 16 * 16 * 16

    qs = []
    for k in range(NETWORKS):
        torch.manual_seed(k)
        m = SmallCNN()
        nt.init_(m, x_example, seed=k)
        x = torch.randn(16, 3, 32, 32, generator=torch.Generator().manual_seed(k))
        qs.append(nt.layer_second_moments(m, x))
    theory = [1.0] * 9
    v = noisyprop.verdict(theory, np.array(qs), 144)
    assert v.passed, v.failures


def test_report_lists_what_it_left_and_why():
    m = nn.Sequential(
        nn.Linear(20, 20),
        nn.SELU(),
        nn.AlphaDropout(0.1),
        nn.Linear(20, 20),
        nn.ReLU(),
        nn.BatchNorm1d(20),
        nn.Linear(20, 20),
        nn.GELU(),
        nn.Dropout(0.2),
        nn.Linear(20, 20),
        nn.Hardswish(),
        nn.Linear(20, 20),
    )
    before = [mod.weight.clone() for mod in m if isinstance(mod, nn.Linear)]
    report = nt.init_(m, seed=0)
    left = {r.layer: r.note for r in report.skipped}
    assert "AlphaDropout is refused" in left["3"]
    assert "BatchNorm1d" in left["6"]
    assert "no critical σ_w² exists for `gelu`" in left["9"]
    # GELU edge of chaos 0.172922390756 (mpmath; derivation in crates/theory/src/family.rs).
    assert "edge of chaos starts at σ_b² = 0.172922" in left["9"]
    assert "Hardswish" in left["11"]
    after = [mod.weight for mod in m if isinstance(mod, nn.Linear)]
    for i, (b, a) in enumerate(zip(before, after)):
        assert torch.equal(a, b) == (i != 0), i  # only the first layer was set
    text = str(report)
    assert "left" in text and "AlphaDropout" in text
    # A larger σ_b² gives GELU + dropout its critical point.
    report = nt.init_(m, sigma_b2=0.2, seed=0)
    assert report[3].initialised and report[3].critical_kind == "stable"


def test_functional_ops_and_gaussian_noise_modules_are_read():
    class GaussianNoise(nn.Module):
        def __init__(self, std):
            super().__init__()
            self.std = std

        def forward(self, x):
            return x + self.std * torch.randn_like(x) if self.training else x

    class GaussianDropout(nn.Module):
        def __init__(self, rate):
            super().__init__()
            self.rate = rate

        def forward(self, x):
            s = math.sqrt(self.rate / (1 - self.rate))
            return x * (1 + s * torch.randn_like(x)) if self.training else x

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(10, 10)
            self.b = nn.Linear(10, 10)
            self.c = nn.Linear(10, 10)
            self.gd = GaussianDropout(0.5)
            self.gn = GaussianNoise(0.3)

        def forward(self, x):
            x = self.a(x)
            x = self.b(self.gd(torch.nn.functional.leaky_relu(x, 0.1)))
            return self.c(self.gn(x.relu()))

    report = nt.init_(Net(), torch.randn(3, 10), seed=0)
    assert report[1].activation == "leaky-relu:slope=0.1"
    assert report[1].noise == "gauss-mult:std=1"
    assert report[1].sigma_w2 == pytest.approx(2 / (1 + 0.01) / 2)  # 2/((1+a²) μ₂), μ₂ = 2
    assert not report[2].initialised
    assert "additive noise" in report[2].note


def test_seed_makes_init_reproducible_and_bad_input_is_a_value_error():
    a, b = relu_mlp(depth=3), relu_mlp(depth=3)
    nt.init_(a, seed=7)
    nt.init_(b, seed=7)
    for x, y in zip(a.parameters(), b.parameters()):
        assert torch.equal(x, y)
    with pytest.raises(ValueError, match="^sigma_b2=-1 is out of range"):
        nt.init_(a, sigma_b2=-1)
    with pytest.raises(ValueError, match="torch.nn.Module"):
        nt.init_("not a model")


def test_gain_matches_pytorch_where_both_are_defined():
    for name, param in [("relu", None), ("linear", None), ("leaky_relu", 0.2), ("leaky_relu", None)]:
        assert noisyprop.gain(name, param=param) == pytest.approx(
            torch.nn.init.calculate_gain(name, param), rel=1e-12
        )
    # With dropout (keep p) the ReLU gain is √(2p).
    assert noisyprop.gain("relu", "Dropout(0.2)") == pytest.approx(math.sqrt(1.6))
    with pytest.raises(ValueError, match="no critical σ_w²"):
        noisyprop.gain("relu", "gauss-add:std=0.5")


def test_readme_example_prints_what_the_readme_shows(capsys):
    readme = (pathlib.Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("## In Python:")[1]
    code = section.split("```python\n")[1].split("```")[0]
    shown = section.split("```text\n")[1].split("```")[0]
    exec(compile(code, "README.md", "exec"), {})
    assert capsys.readouterr().out == shown


def test_module_docstring_example():
    import doctest

    assert doctest.testmod(nt, optionflags=doctest.ELLIPSIS).failed == 0


def test_what_module_order_cannot_tell_is_traced_or_left():
    import torch.nn.functional as F

    class FBlock(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(8, 8)

        def forward(self, x):
            return F.relu(self.fc(x))

    class Residual(FBlock):
        def forward(self, x):
            return x + F.relu(self.fc(x))

    # A custom block inside a Sequential: traced, so its functional ReLU counts.
    r = nt.init_(nn.Sequential(nn.Linear(4, 8), nn.ReLU(), FBlock(), nn.Dropout(0.5), nn.Linear(8, 2)))
    assert r[-1].activation == "relu" and r[-1].sigma_w2 == pytest.approx(1.0)
    r = nt.init_(nn.Sequential(nn.Linear(4, 8), nn.ReLU(), Residual(), nn.Linear(8, 2)))
    assert not r[-1].initialised and "merges 2 tensors" in r[-1].note

    # view(x.size(0), -1) is a reshape, not a merge.
    class Flat(nn.Module):
        def __init__(self):
            super().__init__()
            self.c = nn.Conv2d(1, 4, 3)
            self.fc = nn.Linear(4 * 6 * 6, 2)

        def forward(self, x):
            x = torch.relu(self.c(x))
            return self.fc(x.view(x.size(0), -1))

    r = nt.init_(Flat(), torch.randn(2, 1, 8, 8))
    assert r[1].initialised and r[1].activation == "relu"

    # A layer called twice has two feeds and one weight: left.
    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(8, 8)

        def forward(self, x):
            return self.a(torch.relu(self.a(x)))

    r = nt.init_(Twice())
    assert len(r) == 1 and "called 2 times" in r[0].note

    # Untraceable: every layer left, not guessed from registration order.
    class Branchy(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(4, 4)

        def forward(self, x):
            return self.a(x) if x.sum() > 0 else x

    r = nt.init_(Branchy())
    assert not r[0].initialised and "could not trace" in r[0].note

    with pytest.raises(ValueError, match="example_input does not run through the model"):
        nt.init_(Flat(), torch.randn(2, 7))
    with pytest.raises(ValueError, match="example_input must be a tensor"):
        nt.init_(Flat(), [torch.randn(2, 1, 8, 8)])


def test_lazy_meta_and_frozen_weights_are_left():
    r = nt.init_(nn.Sequential(nn.LazyLinear(8), nn.ReLU(), nn.Linear(8, 2)))
    assert not r[0].initialised and "lazy" in r[0].note and r[1].initialised
    with torch.device("meta"):
        m = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 2))
    assert all("meta device" in row.note for row in nt.init_(m))
    m = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 2))
    m[0].weight.requires_grad_(False)
    before = m[0].weight.clone()
    r = nt.init_(m, seed=0)
    assert "frozen" in r[0].note and torch.equal(m[0].weight, before) and r[1].initialised


def test_report_warns_that_evaluation_mode_shrinks_a_deep_dropout_net():
    report = nt.init_(relu_mlp(depth=20), seed=0)
    (w,) = [w for w in report.warnings if "evaluation mode" in w]
    assert f"×{0.8 ** 19:.3g}" in w  # 19 dropout layers, each ×keep with dropout off
    m = relu_mlp(depth=20)
    nt.init_(m, seed=0)
    x = torch.randn(256, WIDTH, generator=torch.Generator().manual_seed(0))
    train, evaluation = nt.layer_second_moments(m, x), nt.layer_second_moments(m, x, training=False)
    assert evaluation[-1] / train[-1] == pytest.approx(0.8**19, rel=0.5)
    # The factor is the library's: 1/μ₂ per dropout layer.
    assert noisyprop._native.describe_noise(["Dropout(0.2)"])["eval_variance_factor"] == pytest.approx(0.8)


def test_layer_second_moments_takes_training_and_the_deprecated_train():
    m = relu_mlp(depth=3)
    nt.init_(m, seed=0)
    x = torch.randn(64, WIDTH, generator=torch.Generator().manual_seed(0))
    # Evaluation mode is deterministic: the same numbers through both names.
    evaluation = nt.layer_second_moments(m, x, training=False)
    with pytest.warns(DeprecationWarning, match="training="):
        assert nt.layer_second_moments(m, x, train=False) == evaluation
    with pytest.raises(TypeError, match="training= only"):
        nt.layer_second_moments(m, x, training=True, train=False)
    # Training mode (the default) has dropout on: different numbers.
    torch.manual_seed(0)
    assert nt.layer_second_moments(m, x) != evaluation
    assert m.training  # the mode is restored


def test_without_a_seed_init_draws_from_torchs_global_generator():
    a, b, c = relu_mlp(depth=3), relu_mlp(depth=3), relu_mlp(depth=3)
    torch.manual_seed(0)
    nt.init_(a)
    torch.manual_seed(0)
    nt.init_(b)
    torch.manual_seed(1)
    nt.init_(c)
    for x, y in zip(a.parameters(), b.parameters()):
        assert torch.equal(x, y)
    assert not torch.equal(a[0].weight, c[0].weight)
    # seed= uses a private generator: the global one is not advanced.
    torch.manual_seed(0)
    state = torch.get_rng_state()
    nt.init_(c, seed=3)
    assert torch.equal(torch.get_rng_state(), state)


def test_init_reports_compare_by_rows_and_warnings():
    r1 = nt.init_(relu_mlp(depth=3), seed=0)
    r2 = nt.init_(relu_mlp(depth=3), seed=1)  # other weights, the same report
    assert r1 == r2 and not r1 != r2
    assert r1 != nt.init_(relu_mlp(depth=3), sigma_b2=0.1, seed=0)
    assert r1 != nt.init_(relu_mlp(depth=20), seed=0)  # more rows and a warning
    assert r1 != r1.layers  # a report equals only a report
    same_rows = nt.init_(relu_mlp(depth=3), seed=0)
    same_rows.warnings.append("something else")
    assert r1 != same_rows


def test_which_noise_may_precede_which_activation_is_the_theorys():
    """A noise before φ is moved after it when φ(x ⊙ ε) = φ(x) ⊙ ε: ε ≥ 0
    (dropout) and φ positively homogeneous — relu, leaky-relu, linear and
    abs (|a x| = a|x|, a > 0), as the library says."""
    act = noisyprop._native.describe_activation
    assert [act(a)["positively_homogeneous"] for a in ("relu", "leaky-relu:slope=0.1", "linear", "abs")] == [True] * 4
    assert [act(a)["positively_homogeneous"] for a in ("tanh", "gelu", "erf", "selu")] == [False] * 4
    assert act("swish")["spec"] == "silu"

    class Abs(nn.Module):
        def __init__(self, op, drop=0.5):
            super().__init__()
            self.a, self.b, self.drop, self.op = nn.Linear(16, 16), nn.Linear(16, 16), nn.Dropout(drop), op

        def forward(self, x):
            return self.b(self.op(self.drop(self.a(x))))

    # abs after dropout: the noise commutes (it used to be left).
    r = nt.init_(Abs(torch.abs), torch.randn(2, 16), seed=0)
    assert r[1].initialised, r[1].note
    assert r[1].activation == "abs" and r[1].noise == "dropout:keep=0.5"
    # E[|h|²] = q: σ_w² = 1/μ₂ = keep, as analyze says.
    assert r[1].sigma_w2 == pytest.approx(noisyprop.analyze("abs", "Dropout(0.5)").sigma_w2)
    assert r[1].sigma_w2 == pytest.approx(0.5)
    # tanh is not homogeneous: left, saying so.
    r = nt.init_(Abs(torch.tanh), torch.randn(2, 16), seed=0)
    assert not r[1].initialised
    assert "noise before tanh does not commute" in r[1].note
    assert "tanh is not positively homogeneous" in r[1].note

    class GaussianDropout(nn.Module):
        def __init__(self, rate):
            super().__init__()
            self.rate = rate

        def forward(self, x):
            return x

    # Gaussian dropout before relu: ε can be negative, left.
    m = nn.Sequential(nn.Linear(8, 8), GaussianDropout(0.5), nn.ReLU(), nn.Linear(8, 8))
    r = nt.init_(m, seed=0)
    assert not r[1].initialised and "can take negative values" in r[1].note
    # Only the noise before the activation is judged: dropout before relu and
    # Gaussian dropout after it is fine (it used to be left).
    m = nn.Sequential(nn.Linear(8, 8), nn.Dropout(0.5), nn.ReLU(), GaussianDropout(0.5), nn.Linear(8, 8))
    r = nt.init_(m, seed=0)
    assert r[1].initialised, r[1].note
    assert r[1].sigma_w2 == pytest.approx(2 / (2 * 2))  # 2/μ₂, μ₂ = 2 · 2


def test_gaussian_noise_modules_by_class_name():
    def module(cls_name, **attrs):
        cls = type(cls_name, (nn.Module,), {"forward": lambda self, x: x})
        m = cls()
        for k, v in attrs.items():
            setattr(m, k, v)
        return m

    def fed_by(noise):
        return nt.init_(nn.Sequential(nn.Linear(8, 8), nn.ReLU(), noise, nn.Linear(8, 8)), seed=0)[1]

    # Multiplicative by name: not read as additive.
    row = fed_by(module("MultiplicativeGaussianNoise", std=1.0))
    assert row.initialised and row.noise == "gauss-mult:std=1", row.note
    assert row.sigma_w2 == pytest.approx(1.0)  # 2/μ₂, μ₂ = 1 + 1
    assert "multiplicative" in row.note and "additive" not in row.note
    # Additive by name: no critical point.
    row = fed_by(module("GaussianNoise", std=0.3))
    assert not row.initialised and "additive" in row.note
    # A 0-d tensor std is one number.
    row = fed_by(module("MultiplicativeGaussianNoise", std=torch.tensor(0.5)))
    assert row.initialised and row.noise == "gauss-mult:std=0.5"
    # A tensor of per-unit scales is not.
    row = fed_by(module("GaussianNoise", std=torch.full((8,), 0.5)))
    assert not row.initialised and "tensor of shape (8,)" in row.note
    row = fed_by(module("GaussianNoise"))
    assert not row.initialised and "no std" in row.note


def test_channel_dropout_goes_to_the_library_as_dropout():
    m = nn.Sequential(nn.Conv2d(2, 4, 3), nn.ReLU(), nn.Dropout2d(0.2), nn.Conv2d(4, 4, 3))
    row = nt.init_(m, seed=0)[1]
    assert row.initialised and row.noise == "dropout:keep=0.8"
    assert "Dropout2d drops whole channels" in row.note and "read as Dropout(0.2)" in row.note
    # The spelling the note names is one the library reads.
    assert row.sigma_w2 == pytest.approx(noisyprop.analyze("relu", "Dropout(0.2)").sigma_w2)
