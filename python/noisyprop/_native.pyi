"""Type stubs of the extension module built from python/src/lib.rs.

`run` returns the record the CLI prints with ``--json`` as a dict (the
package wraps it in a typed result); errors are the operations layer's
messages spelled for Python. Use the wrappers in ``noisyprop`` rather than
these.
"""

from typing import Any, Dict, List, Optional, Tuple

__version__: str

def run(command: str, arguments: Dict[str, Any]) -> Dict[str, Any]:
    """The record of `command` (analyze, init, critical, trajectory, phase,
    simulate, train, variance_depth, trainable_depth, reproduce, verdict)
    for its keyword arguments (the CLI's long flags in snake_case); missing
    ones take the defaults of `defaults(command)`. ``TypeError`` for a value
    of the wrong type, ``ValueError`` for a bad value, ``KeyboardInterrupt``
    when Ctrl-C stopped a long command."""
    ...

def defaults(command: str) -> Dict[str, Any]:
    """The defaults of `command`'s request."""
    ...

def canonical_noise(spec: str) -> str: ...
def canonical_activation(spec: str) -> str: ...
def mnist_subset() -> Dict[str, Any]: ...

def describe_activation(spec: str) -> Dict[str, Any]:
    """``{"spec": canonical spec, "positively_homogeneous": bool}`` of an
    activation (φ(λx) = λφ(x) for λ > 0: relu, leaky-relu, linear, abs).
    ``ValueError`` with the library's message for an unknown one."""
    ...

def describe_noise(specs: List[str]) -> Dict[str, Any]:
    """Facts of a noise stack given stage by stage (noisyprop or framework
    spellings): ``specs`` (canonical, ``["none"]`` for none), ``canonical``
    (joined by ``, then ``), ``mu2``, ``additive_variance``,
    ``multiplicative`` (no additive part), ``commutes_with_homogeneous``
    (ε ≥ 0 at every stage: may sit before a positively homogeneous φ),
    ``eval_variance_factor`` (1/μ₂: one layer's variance factor with the
    noise off, exact for a positively homogeneous φ without bias; ``None``
    with an additive part) and ``stages`` (per stage: spec, effect, mu2,
    additive_variance, commutes_with_homogeneous, framework_convention).
    ``ValueError`` with the library's message for a spec it cannot read."""
    ...
