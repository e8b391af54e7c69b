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
