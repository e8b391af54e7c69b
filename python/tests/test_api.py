"""The Python functions against the CLI (`--json`, field for field, and the
error texts), the paper's golden values, and the typed results' fields."""

from __future__ import annotations

import json
import math
import os
import pathlib
import subprocess
import timeit
import typing

import pytest
from conftest import requires

import noisyprop
from noisyprop import _results

ROOT = pathlib.Path(__file__).resolve().parents[2]


def cli_binary():
    env = os.environ.get("NOISYPROP_BIN")
    if env:
        return env
    built = [ROOT / "target" / p / "noisyprop" for p in ("release", "debug")]
    built = [p for p in built if p.exists()]
    return str(max(built, key=lambda p: p.stat().st_mtime)) if built else None


BIN = cli_binary()
needs_cli = requires(
    BIN is not None,
    "the noisyprop CLI binary (target/debug or target/release, or NOISYPROP_BIN)",
    "build it with `cargo build -p noisyprop` (`.ci/run` builds it with `cargo test --workspace`)",
)


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([BIN, *args], capture_output=True, text=True)


def cli_json(*args: str):
    out = cli(*args, "--json")
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def same(py, js, path="") -> None:
    """Python value equals JSON value: NaN in Python is null in JSON."""
    if isinstance(py, float) and math.isnan(py):
        assert js is None, path
    elif isinstance(py, dict):
        assert list(py) == list(js), path
        for k in py:
            same(py[k], js[k], f"{path}.{k}")
    elif isinstance(py, list):
        assert len(py) == len(js), path
        for i, (a, b) in enumerate(zip(py, js)):
            same(a, b, f"{path}[{i}]")
    else:
        assert py == js, f"{path}: {py!r} != {js!r}"


CASES = [
    ("relu", ["dropout:keep=0.6"], None, 0.0),
    ("tanh", ["none"], None, 0.05),
    ("selu", ["gauss-mult:std=0.3"], 0.5, 0.1),
    ("gelu", ["dropout:keep=0.8"], 3.2, 0.0),
    ("leaky-relu:slope=0.2", ["Dropout(0.1)", "gauss-add:std=0.2"], 1.5, 0.0),
]


def noise_flags(noises):
    return [a for n in noises for a in ("--noise", n)]


@needs_cli
@pytest.mark.parametrize("act,noises,sw,sb", CASES)
def test_analyze_equals_cli(act, noises, sw, sb):
    args = ["analyze", "-a", act, *noise_flags(noises), "--sigma-b2", str(sb)]
    if sw is not None:
        args += ["--sigma-w2", str(sw)]
    same(noisyprop.analyze(act, noises, sw, sb).to_dict(), cli_json(*args))


@needs_cli
@pytest.mark.parametrize("act,noises,sw,sb", CASES)
def test_trajectory_equals_cli(act, noises, sw, sb):
    args = ["trajectory", "-a", act, *noise_flags(noises), "--sigma-b2", str(sb), "-L", "12"]
    args += ["--q0", "0.7", "--c0", "0.3"]
    if sw is not None:
        args += ["--sigma-w2", str(sw)]
    py = noisyprop.trajectory(act, noises, sw, sb, depth=12, q0=0.7, c0=0.3)
    same(py.to_dict(), cli_json(*args))


@needs_cli
def test_init_critical_and_phase_equal_cli():
    same(
        noisyprop.init("tanh", "dropout:keep=0.8", 0.05, fan_in=300).to_dict(),
        cli_json("init", "-a", "tanh", "-n", "dropout:keep=0.8", "--sigma-b2", "0.05", "--fan-in", "300"),
    )
    same(
        noisyprop.critical_table().to_dict(),
        cli_json("critical"),
    )
    row = noisyprop.critical("gelu", "dropout:keep=0.8", 0.0)
    same(row.to_dict(), cli_json("critical", "-a", "gelu", "-n", "dropout:keep=0.8", "--sigma-b2s", "0")["rows"][0])
    for y, extra in (("mu2", []), ("sigma_b2", [])):
        py = noisyprop.phase("relu", "none", y=y, x_range=(0.5, 3, 6), y_range=(1 if y == "mu2" else 0, 2, 4))
        js = cli_json(
            "phase", "--y", y.replace("_", "-"), "--x-range", "0.5:3:6",
            "--y-range", ("1" if y == "mu2" else "0") + ":2:4", "-q", *extra,
        )
        same(py.to_dict(), js)
        assert py.grid("xi_c").shape == (4, 6)


@needs_cli
@pytest.mark.parametrize(
    "py_call,cli_args",
    [
        (lambda: noisyprop.analyze("foo"), ["analyze", "-a", "foo"]),
        (lambda: noisyprop.analyze("relu", "dropout:keep=2"), ["analyze", "-n", "dropout:keep=2"]),
        (lambda: noisyprop.analyze("relu", sigma_w2=-1), ["analyze", "--sigma-w2", "-1"]),
        (lambda: noisyprop.analyze("relu", "AlphaDropout(0.1)"), ["analyze", "-n", "AlphaDropout(0.1)"]),
        (lambda: noisyprop.trajectory("relu", c0=2), ["trajectory", "--c0", "2"]),
        (
            lambda: noisyprop.phase("relu", "dropout:keep=0.5"),
            ["phase", "-n", "dropout:keep=0.5"],
        ),
    ],
)
def test_errors_have_the_cli_message(py_call, cli_args):
    """One message, two spellings: the CLI names `--sigma-w2 -1`, Python
    `sigma_w2=-1`; the rest of the text is the same, and no Python message
    names a flag."""
    import re

    out = cli(*cli_args)
    assert out.returncode != 0
    message = out.stderr.strip().removeprefix("error: ").split("\n\nhint:")[0]
    with pytest.raises(ValueError) as e:
        py_call()
    text = str(e.value)
    assert "--" not in text, text
    in_python = re.sub(
        r"--([a-z0-9-]+)(?: (\S+))?",
        lambda m: m.group(1).replace("-", "_") + ("=" + m.group(2) if m.group(2) else ""),
        message,
    )
    assert text.split("\n\nhint:")[0] == in_python


def test_no_critical_point_names_why_and_the_argument():
    with pytest.raises(ValueError) as e:
        noisyprop.analyze("gelu", "dropout:keep=0.8")
    assert "no critical σ_w² exists for `gelu`" in str(e.value)
    assert "hint: give sigma_w2" in str(e.value)
    row = noisyprop.critical("gelu", "dropout:keep=0.8")
    assert row.kind == "none" and row.sigma_w2 is None
    # The GELU edge of chaos: σ_b²(q_b) = q_b − E[φ²]/E[φ′²] at q_b = (3 + √17)/2, where the
    # critical map's slope E[φ′² + φφ″]/E[φ′²] reaches 1: 0.172922390756 (mpmath, 30 digits;
    # derivation in crates/theory/src/family.rs).
    assert row.edge_of_chaos_sigma_b2 == pytest.approx(0.172922, abs=1e-6)


def test_golden_values_from_the_paper_and_mpmath():
    a = noisyprop.analyze("relu", "dropout:keep=0.6")
    assert a.sigma_w2 == pytest.approx(1.2, abs=1e-15)
    # spec 2.10 (docs/paper-spec.md §2.10); crates/theory/tests/golden/depth_scales.csv
    # (mpmath, 30 digits): c* = 0.283908653549875, ξ_c = 0.965533025650831.
    assert a.c_star == pytest.approx(0.28391, abs=5e-6)  # spec 2.10
    assert a.xi_c == pytest.approx(0.96553, abs=5e-6)
    # Edge of chaos: crates/theory/tests/golden/critical.csv row tanh,1,0.05 (critical.py,
    # mpmath 30 digits): σ_w² = 1.76095463960674, q* = 0.570047881640764.
    t = noisyprop.analyze("tanh", sigma_b2=0.05)  # edge of chaos, mpmath
    assert t.sigma_w2 == pytest.approx(1.76095464, abs=1e-8)
    assert t.critical_q_star == pytest.approx(0.570048, abs=1e-6)
    assert t.critical_kind == "stable"
    assert math.sqrt(2.0) == noisyprop.gain("relu")


def test_result_fields_are_the_json_keys_and_read_only():
    checks = [
        (_results.Analysis, noisyprop.analyze("relu", "dropout:keep=0.8")),
        (_results.Init, noisyprop.init("relu", "dropout:keep=0.8")),
        (_results.CriticalTable, noisyprop.critical_table(["relu"], ["none"], [0.0])),
        (_results.CriticalRow, noisyprop.critical("relu")),
        (_results.Trajectory, noisyprop.trajectory(depth=2)),
        (_results.TrajectoryLayer, noisyprop.trajectory(depth=2).layers[0]),
        (_results.Phase, noisyprop.phase(x_range=(1, 2, 2), y_range=(1, 2, 2))),
        (_results.PhaseCell, noisyprop.phase(x_range=(1, 2, 2), y_range=(1, 2, 2)).cells[0]),
    ]
    for cls, value in checks:
        assert type(value) is cls
        hints = set(typing.get_type_hints(cls)) - {"_nested"}
        assert hints == set(value.fields()), (cls.__name__, hints ^ set(value.fields()))
    a = noisyprop.analyze()
    with pytest.raises(AttributeError, match="read-only"):
        a.sigma_w2 = 3
    with pytest.raises(AttributeError, match="no field 'nope'"):
        a.nope
    assert a.overflow_depth.f16 is None
    assert a == noisyprop.analyze() and a != noisyprop.analyze(sigma_w2=1.5)
    assert "Analysis(kind='analysis'" in repr(a)


def test_trajectory_and_phase_arrays():
    t = noisyprop.trajectory("relu", "dropout:keep=0.8", depth=5)
    q = t.column("q")
    assert q.shape == (6,) and (abs(q - 1.0) < 1e-12).all()
    p = noisyprop.phase("relu", y="mu2", x_range=(0.5, 4, 8), y_range=(1, 3, 5))
    line = p.critical_line_array
    assert line == pytest.approx(2.0 / p.y_array)  # σ_w² = 2/μ₂ (spec 2.5)
    assert p.grid("regime").shape == (5, 8)


def test_bad_argument_types_are_value_or_type_errors():
    with pytest.raises(TypeError, match="^noise=\\[0.5\\]: expected a string or a list of strings"):
        noisyprop.analyze("relu", [0.5])
    with pytest.raises(ValueError, match="^nodes=2 is out of range; valid range is \\[4, 1024\\]"):
        noisyprop.analyze("gelu", sigma_w2=1.0, quadrature=True, nodes=2)
    with pytest.raises(ValueError, match="^y=.q.: unknown variant `q`, expected one of `sigma-b2`, `sigma_b2`, `mu2`"):
        noisyprop.phase(y="q")
    with pytest.raises(ValueError, match="^width=0 is out of range"):
        noisyprop.verdict([1.0], [[1.0], [1.0]], 0)
    with pytest.raises(ValueError, match="1 point requested from 0.1 to 4"):
        noisyprop.phase(x_range=(0.1, 4, 1))


def test_mnist_subset():
    from noisyprop.datasets import mnist_subset

    x, y = mnist_subset()
    assert x.shape == (10000, 784) and y.shape == (10000,)
    assert 0.0 <= x.min() and x.max() <= 1.0
    assert sorted(set(y.tolist())) == list(range(10))
    x0, y0 = mnist_subset(shuffle_seed=None)
    assert (y0[:-1] <= y0[1:]).all()  # stored sorted by digit


def test_analyze_relu_costs_microseconds():
    """The closing note quotes `python python/bench/bench_api.py`; this is
    only a guard against a regression by an order of magnitude."""
    n = 2000
    t = timeit.timeit(lambda: noisyprop.analyze("relu"), number=n) / n
    assert t < 100e-6, f"{t * 1e6:.1f} µs per analyze call"


def test_readme_python_session_is_true():
    import doctest

    readme = (ROOT / "README.md").read_text()
    session = readme.split("## In Python:")[1].split("```python\n>>>")[1].split("```")[0]
    test = doctest.DocTestParser().get_doctest(">>>" + session, {}, "README", "README.md", 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test)
    assert runner.failures == 0 and runner.tries >= 4
    # and the package docstring's example
    assert doctest.testmod(noisyprop, optionflags=doctest.ELLIPSIS).failed == 0


def test_results_pickle_and_copy():
    import copy
    import pickle

    a = noisyprop.analyze("relu", "dropout:keep=0.8")
    for b in (pickle.loads(pickle.dumps(a)), copy.deepcopy(a), copy.copy(a)):
        assert type(b) is type(a) and b == a
    json.dumps(a.to_dict())  # JSON-ready


@needs_cli
def test_to_dict_is_the_cli_json_exactly_even_where_numbers_overflow():
    py = noisyprop.trajectory("relu", "none", 4.0, depth=1100).to_dict()
    js = cli_json("trajectory", "--sigma-w2", "4", "-L", "1100")
    assert py == js  # inf and nan are null in both
    json.loads(json.dumps(py, allow_nan=False))


def test_wrong_types_name_the_argument():
    with pytest.raises(TypeError, match="^noise=0.2: expected a string or a list of strings"):
        noisyprop.analyze("relu", 0.2)
    with pytest.raises(TypeError, match="^activation=None: "):
        noisyprop.analyze(None)
    with pytest.raises(TypeError, match="^sigma_b2='x': "):
        noisyprop.analyze("relu", sigma_b2="x")
    with pytest.raises(ValueError, match="^depth=-1: "):
        noisyprop.trajectory(depth=-1)
    with pytest.raises(ValueError, match="^depth=1000001 is out of range; valid range is \\[0, 1000000\\]"):
        noisyprop.trajectory(depth=1_000_001)
    with pytest.raises(ValueError, match="^fan_in=-1: "):
        noisyprop.init(fan_in=-1)
    with pytest.raises(ValueError, match="^fan_in=0 is out of range; valid range is \\[1, inf\\)"):
        noisyprop.init(fan_in=0)
    with pytest.raises(ValueError, match="^width=-5: "):
        noisyprop.verdict([1.0], [[1.0], [1.0]], -5)
    with pytest.raises(ValueError, match="unknown field 'zz'; valid: layer, q"):
        noisyprop.trajectory(depth=2).column("zz")
    with pytest.raises(ValueError, match="^theory: not finite at layer"):
        noisyprop.verdict([float("nan"), 1.0], [[1.0, 1.0], [1.0, 1.0]], 256)
    with pytest.raises(TypeError, match="unexpected keyword argument 'sigma'"):
        noisyprop.analyze("relu", sigma=1.0)  # type: ignore[call-arg]
    # A bare str is one name, not a list of letters.
    assert noisyprop.critical_table("relu", "none", 0.0).rows[0].activation == "relu"
    assert noisyprop.init(framework="pytorch").code.fields() == ("pytorch",)
    # calculate_gain's positional form
    assert noisyprop.gain("leaky_relu", 0.2) == noisyprop.gain("leaky_relu", param=0.2)


BAD_CALLS = [
    lambda: noisyprop.analyze("relu", sigma_w2=-1),
    lambda: noisyprop.analyze("relu", sigma_b2=-1),
    lambda: noisyprop.analyze("relu", q0=0),
    lambda: noisyprop.analyze("relu", depth_multiplier=-2),
    lambda: noisyprop.analyze("relu", nodes=2, quadrature=True),
    lambda: noisyprop.analyze("relu", "dropout:keep=0.8, gauss-add:std=1"),
    lambda: noisyprop.analyze("gelu", "dropout:keep=0.8"),
    lambda: noisyprop.init("gelu"),
    lambda: noisyprop.init(fan_in=0),
    lambda: noisyprop.init(framework="jax"),
    lambda: noisyprop.trajectory(c0=3),
    lambda: noisyprop.trajectory(top_grad_correlation=2),
    lambda: noisyprop.critical_table(["relu"], ["dropout:keep=0.8,gauss-add:std=1"]),
    lambda: noisyprop.critical_table(sigma_b2s=[-1]),
    lambda: noisyprop.phase(noise="dropout:keep=0.5"),
    lambda: noisyprop.phase(y="sigma_b2", sigma_b2=0.1),
    lambda: noisyprop.phase(x_range=(2, 1, 5)),
    lambda: noisyprop.phase(contours=[-1]),
    lambda: noisyprop.phase(color="rainbow"),
    lambda: noisyprop.phase(png="/nonexistent-dir/x.png"),
    lambda: noisyprop.simulate(width=0),
    lambda: noisyprop.simulate(networks=1, compare=True),
    lambda: noisyprop.simulate(pairs=0),
    lambda: noisyprop.simulate(c0="x"),
    lambda: noisyprop.train(precision="tf32"),
    lambda: noisyprop.train(device="tpu"),
    lambda: noisyprop.train(lr=0, examples=50),
    lambda: noisyprop.train(optimizer="rmsprop"),
    lambda: noisyprop.trainable_depth(keeps=[1.5]),
    lambda: noisyprop.trainable_depth(shard="3/2"),
    lambda: noisyprop.trainable_depth(preset="huge"),
    lambda: noisyprop.variance_depth(examples=0),
    lambda: noisyprop.variance_depth(sigma_w2_range=(2, 1, 3)),
    lambda: noisyprop.reproduce(preset="nope"),
    lambda: noisyprop.reproduce(assemble=0),
    lambda: noisyprop.reproduce(parts=["fig9"]),
    lambda: noisyprop.figures(fig=6),
    lambda: noisyprop.figures(networks=1),
]


@pytest.mark.parametrize("call", BAD_CALLS)
def test_no_python_error_names_a_cli_flag(call):
    with pytest.raises((ValueError, TypeError)) as e:
        call()
    assert "--" not in str(e.value), str(e.value)


def test_signatures_hold_the_operations_defaults():
    import inspect

    from noisyprop import _native

    for name, fn in [("analyze", noisyprop.analyze), ("trajectory", noisyprop.trajectory),
                     ("init", noisyprop.init), ("phase", noisyprop.phase),
                     ("critical", noisyprop.critical_table)]:
        defaults = _native.defaults(name)
        params = inspect.signature(fn).parameters
        assert set(params) == set(defaults), (name, set(params) ^ set(defaults))
        for p in params.values():
            assert p.default == defaults[p.name], (name, p.name)


@needs_cli
def test_simulate_equals_cli_field_for_field():
    """Issue 16: the same seed gives the CLI's record, field for field (the
    wall time aside)."""
    kw = dict(width=64, networks=4, depth=3, seed=7, backward=True, compare=True)
    py = noisyprop.simulate("relu", "dropout:keep=0.8", **kw).to_dict()
    js = cli_json(
        "simulate", "-n", "dropout:keep=0.8", "--width", "64", "--networks", "4",
        "--depth", "3", "--seed", "7", "--backward", "--compare", "-q",
    )
    assert py.pop("seconds") > 0 and js.pop("seconds") > 0
    assert py == js
    sim = noisyprop.simulate("relu", "dropout:keep=0.8", **kw)
    assert sim.passed is sim.verdict.passed is True
    wrong = noisyprop.simulate("relu", "dropout:keep=0.8", theory_noise="mult:mu2=1.6", **kw)
    assert wrong.kind == "simulation" and not wrong.passed


def test_long_commands_release_the_gil_and_stop_on_ctrl_c():
    """phase runs with the GIL released (another Python thread runs
    meanwhile) and a SIGINT stops it within a fraction of its run time."""
    import signal
    import threading
    import time

    args = dict(x_range=(0.5, 4, 100), y_range=(0, 0.5, 100), y="sigma_b2")
    start = time.perf_counter()
    full = noisyprop.phase("tanh", **args)
    full_time = time.perf_counter() - start
    assert full_time > 0.5, f"the grid took only {full_time:.2f} s: too small to test stopping"

    ticks = []
    stop = threading.Event()

    def count():
        while not stop.is_set():
            ticks.append(1)
            time.sleep(0.001)

    t = threading.Thread(target=count)
    t.start()
    noisyprop.phase("tanh", **args)
    stop.set()
    t.join()
    assert len(ticks) > 10 * full_time, len(ticks)

    timer = threading.Timer(0.1 * full_time, lambda: signal.raise_signal(signal.SIGINT))
    start = time.perf_counter()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        noisyprop.phase("tanh", **args)
    stopped = time.perf_counter() - start
    timer.cancel()
    assert stopped < 0.6 * full_time, (stopped, full_time)
    assert full.grid("xi_c").shape == (100, 100)


def test_channel_dropout_spellings_are_dropout():
    """The Keras walker reads SpatialDropout2D; the library reads its
    spelling too (a channel's mask is shared, each unit's μ₂ is 1/p)."""
    for spelling in ("SpatialDropout2D(0.2)", "nn.Dropout2d(p=0.2)"):
        a = noisyprop.analyze("relu", spelling)
        assert a.noise == "dropout:keep=0.8" and a.sigma_w2 == pytest.approx(1.6, abs=1e-15)


def test_numpy_values_are_read_as_their_python_values():
    import numpy as np

    a = noisyprop.simulate(width=32, networks=2, depth=2, q0=np.array([1.0, 2.0]), c0=[np.float64(0.5)])
    assert [c.q0 for c in a.classes] == [1.0, 2.0]
    t = noisyprop.critical_table(["relu"], ["none"], np.array([0.0, 0.1]))
    assert [r.sigma_b2 for r in t.rows] == [0.0, 0.1]
    p = noisyprop.phase(x_range=(np.float64(0.5), 4, np.int64(3)), y_range=(1, 2, 2))
    assert p.grid("xi_c").shape == (2, 3)
    with pytest.raises(TypeError, match="^samples="):
        noisyprop.verdict([1.0], "xy", width=16)


def test_negative_counts_say_their_range_and_gain_names_no_missing_argument():
    with pytest.raises(ValueError, match=r"^depth=-3: out of range; valid range is whole numbers ≥ 0"):
        noisyprop.trajectory(depth=-3)
    with pytest.raises(ValueError) as e:
        noisyprop.gain("gelu", "Dropout(0.2)")
    assert "no critical σ_w²" in str(e.value) and "hint" not in str(e.value)


def test_to_dict_has_lists_where_the_json_has_lists():
    d = noisyprop.Result({"pairs": [(0.5, {"x": 1.0})]}).to_dict()
    assert d == {"pairs": [[0.5, {"x": 1.0}]]}


def test_errors_name_the_sweep_or_list_parameter_not_the_library_name():
    with pytest.raises(ValueError, match="^x_range: "):
        noisyprop.phase(x_range=(4, 0.5, 10))
    with pytest.raises(ValueError, match="^y_range: "):
        noisyprop.phase(y_range=(0.5, 2, 3))
    with pytest.raises(ValueError, match=r"^keeps=0 is out of range"):
        noisyprop.trainable_depth(keeps=[0, 1])
    with pytest.raises(ValueError, match=r"^parts=`fig9` is out of range"):
        noisyprop.reproduce(parts="tables,fig9")
    with pytest.raises(ValueError, match="data directory \\(data_dir\\)"):
        noisyprop.train(dataset="cifar10")


def test_an_operations_warning_reaches_python_warnings(tmp_path):
    """Issue 20: Figure 5 at a size too small to fit its depth scales warns
    before it runs (the CLI prints ``warning: …``); Python gets the same text
    as a ``UserWarning``, and the rows say "no fit" rather than a number."""
    with pytest.warns(UserWarning, match=r"Figure 5 at width 30 with 2 networks"):
        noisyprop.figures(fig=5, width=30, networks=2, partners=4, out=str(tmp_path))
