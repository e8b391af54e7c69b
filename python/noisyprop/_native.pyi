"""Type stubs of the extension module built from python/src/lib.rs.

Each function returns the record the CLI prints with ``--json`` as a dict
(the package wraps it in a typed result); errors are ``ValueError`` with the
library's message. Use the wrappers in ``noisyprop`` rather than these.
"""

from typing import Any, Dict, List, Optional, Tuple

__version__: str

def analyze(
    activation: str,
    noise: List[str],
    sigma_w2: Optional[float],
    sigma_b2: float,
    q0: float,
    depth_multiplier: float,
    quadrature: bool,
    rule: str,
    nodes: Optional[int],
) -> Dict[str, Any]: ...
def init(
    activation: str,
    noise: List[str],
    sigma_b2: float,
    fan_in: int,
    depth_multiplier: float,
    frameworks: Optional[List[str]],
    quadrature: bool,
    rule: str,
    nodes: Optional[int],
) -> Dict[str, Any]: ...
def critical(
    activations: List[str],
    noises: List[str],
    sigma_b2s: List[float],
    quadrature: bool,
    rule: str,
    nodes: Optional[int],
) -> Dict[str, Any]: ...
def trajectory(
    activation: str,
    noise: List[str],
    sigma_w2: Optional[float],
    sigma_b2: float,
    depth: int,
    q0: float,
    c0: float,
    top_grad_correlation: float,
    quadrature: bool,
    rule: str,
    nodes: Optional[int],
) -> Dict[str, Any]: ...
def phase(
    activation: str,
    noise: List[str],
    y: str,
    x_range: Tuple[float, float, int],
    y_range: Optional[Tuple[float, float, int]],
    log_y: bool,
    sigma_b2: float,
    q0: float,
    depth_multiplier: float,
    nodes: Optional[int],
) -> Dict[str, Any]: ...
def verdict(
    quantity: str, theory: List[float], samples: List[List[float]], width: int
) -> Dict[str, Any]: ...
def canonical_noise(spec: str) -> str: ...
def canonical_activation(spec: str) -> str: ...
def mnist_subset() -> Dict[str, Any]: ...
