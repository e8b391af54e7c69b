"""Optional dependencies of the tests (the frameworks, the CLI binary).

Where one is missing a test is skipped, with the reason, except under CI
(`CI=true`), where `.ci/run` installs every one of them and a missing one
fails the test instead of letting it count as passed.
"""

from __future__ import annotations

import functools
import importlib
import os
import types
import typing

import pytest

#: `.ci/run` installs the frameworks into its venv with this line.
PIP_FRAMEWORKS = "`.ci/run` installs it with `pip install torch keras jax` into target/ci-venv"


def in_ci() -> bool:
    """Whether this is a CI run (`CI=true`), where nothing may be skipped."""
    return os.environ.get("CI") == "true"


def missing(what: str, how: str) -> typing.NoReturn:
    """Ends the current test (or module) because `what` is missing.

    Under CI fails, naming `what` and how `.ci/run` provides it; elsewhere skips
    with the same reason.
    """
    reason = f"{what} is missing; {how}"
    if in_ci():
        pytest.fail(f"{reason} (CI=true: optional test dependencies are required)", pytrace=False)
    pytest.skip(f"{reason} (a failure under CI=true)", allow_module_level=True)


def require_module(name: str, how: str = PIP_FRAMEWORKS) -> types.ModuleType:
    """Imports `name` for a test module (`torch = require_module("torch")`).

    In place of `pytest.importorskip`: fails under CI, skips elsewhere.
    """
    try:
        return importlib.import_module(name)
    except ImportError as e:
        error = e
    missing(f"the Python module `{name}` ({error})", how)


def requires(found: bool, what: str, how: str) -> typing.Callable:
    """A decorator for tests that need `what`, in place of `pytest.mark.skipif`:
    the test runs when `found`, else it fails under CI and is skipped elsewhere."""

    def decorate(test: typing.Callable) -> typing.Callable:
        if found:
            return test

        @functools.wraps(test)
        def unavailable(*args: object, **kwargs: object) -> None:
            missing(what, how)

        return unavailable

    return decorate
