"""Canonical models with citations.

Each function returns a :class:`~stabkit.model.model.Model` with sensible default
parameters and initial state; keyword arguments change the defaults. The models are
shipped as TOML model files in ``stabkit/model/models/`` (the same files a user can
copy and edit) and read on first use.

>>> from stabkit.model import library
>>> library.lorenz(rho=20.0).default_parameter_map()["rho"]
20.0
>>> library.names()[:3]
('brusselator', 'duffing', 'fitzhugh_nagumo')
"""

from __future__ import annotations

import functools
import importlib.resources
import inspect
from collections.abc import Callable

from stabkit.errors import InputError, suggest
from stabkit.model.files import loads_model
from stabkit.model.model import Model

__all__ = [
    "brusselator",
    "duffing",
    "fitzhugh_nagumo",
    "get",
    "henon_map",
    "logistic_map",
    "lorenz",
    "lotka_volterra",
    "model_file",
    "names",
    "robertson",
    "rossler",
    "selkov",
    "van_der_pol",
]


def model_file(name: str) -> str:
    """The text of the shipped model file ``models/<name>.toml``."""
    resource = importlib.resources.files("stabkit.model").joinpath("models", f"{name}.toml")
    return resource.read_text(encoding="utf-8")


@functools.cache
def _load(name: str) -> Model:
    return loads_model(model_file(name), file=f"stabkit/model/models/{name}.toml")


def lorenz(sigma: float = 10.0, rho: float = 28.0, beta: float = 8 / 3) -> Model:
    """The Lorenz system (Lorenz 1963), chaotic at the defaults.

    x' = sigma*(y - x), y' = x*(rho - z) - y, z' = x*y - beta*z; initial state (1, 1, 1).

    Examples
    --------
    >>> lorenz().parameters
    ('sigma', 'rho', 'beta')
    """
    return _load("lorenz").with_params(sigma=sigma, rho=rho, beta=beta)


def rossler(a: float = 0.2, b: float = 0.2, c: float = 5.7) -> Model:
    """The Rössler system (Rössler 1976), chaotic at the defaults.

    x' = -y - z, y' = x + a*y, z' = b + z*(x - c); initial state (1, 1, 1).

    Examples
    --------
    >>> rossler(c=4.0).default_parameter_map()["c"]
    4.0
    """
    return _load("rossler").with_params(a=a, b=b, c=c)


def brusselator(a: float = 1.0, b: float = 3.0) -> Model:
    """The Brusselator (Prigogine and Lefever 1968); Hopf bifurcation at b = 1 + a^2.

    x' = a - (b + 1)*x + x^2*y, y' = b*x - x^2*y; initial state (1, 1).

    Examples
    --------
    >>> brusselator().equations[1]
    b*x - x**2*y
    """
    return _load("brusselator").with_params(a=a, b=b)


def van_der_pol(mu: float = 1.0) -> Model:
    """The van der Pol oscillator (van der Pol 1926); stiff for large ``mu``.

    x' = y, y' = mu*(1 - x^2)*y - x; initial state (2, 0).

    Examples
    --------
    >>> van_der_pol(mu=1000.0).default_params
    (1000.0,)
    """
    return _load("van_der_pol").with_params(mu=mu)


def robertson(k1: float = 0.04, k2: float = 3e7, k3: float = 1e4) -> Model:
    """Robertson's stiff chemical kinetics (Robertson 1966).

    y1' = -k1*y1 + k3*y2*y3, y2' = k1*y1 - k3*y2*y3 - k2*y2^2, y3' = k2*y2^2;
    initial state (1, 0, 0); y1 + y2 + y3 is conserved.

    Examples
    --------
    >>> robertson().variables
    ('y1', 'y2', 'y3')
    """
    return _load("robertson").with_params(k1=k1, k2=k2, k3=k3)


def selkov(a: float = 0.08, b: float = 0.6) -> Model:
    """Sel'kov's glycolysis oscillator (Sel'kov 1968), a limit cycle at the defaults.

    x' = -x + a*y + x^2*y, y' = b - a*y - x^2*y; initial state (1, 1).

    Examples
    --------
    >>> selkov().parameters
    ('a', 'b')
    """
    return _load("selkov").with_params(a=a, b=b)


def lotka_volterra(
    alpha: float = 1.1, beta: float = 0.4, delta: float = 0.1, gamma: float = 0.4
) -> Model:
    """The Lotka-Volterra predator-prey model (Lotka 1925, Volterra 1926).

    x' = alpha*x - beta*x*y, y' = delta*x*y - gamma*y; initial state (10, 10).

    Examples
    --------
    >>> lotka_volterra().variables
    ('x', 'y')
    """
    return _load("lotka_volterra").with_params(alpha=alpha, beta=beta, delta=delta, gamma=gamma)


def logistic_map(r: float = 3.8) -> Model:
    """The logistic map x -> r*x*(1 - x) (May 1976); initial state 0.2.

    Examples
    --------
    >>> logistic_map().kind.value
    'map'
    """
    return _load("logistic_map").with_params(r=r)


def henon_map(a: float = 1.4, b: float = 0.3) -> Model:
    """The Hénon map (x, y) -> (1 - a*x^2 + y, b*x) (Hénon 1976); initial state (0.1, 0.1).

    Examples
    --------
    >>> henon_map().equations
    (-a*x**2 + y + 1, b*x)
    """
    return _load("henon_map").with_params(a=a, b=b)


def fitzhugh_nagumo(
    a: float = 0.7, b: float = 0.8, tau: float = 12.5, current: float = 0.5
) -> Model:
    """The FitzHugh-Nagumo neuron (FitzHugh 1961; Nagumo et al. 1962).

    v' = v - v^3/3 - w + current, w' = (v + a - b*w)/tau; initial state (-1, 1).

    Examples
    --------
    >>> fitzhugh_nagumo(current=0.0).default_parameter_map()["current"]
    0.0
    """
    return _load("fitzhugh_nagumo").with_params(a=a, b=b, tau=tau, current=current)


def duffing(
    delta: float = 0.3,
    alpha: float = -1.0,
    beta: float = 1.0,
    gamma: float = 0.5,
    omega: float = 1.2,
) -> Model:
    """The forced Duffing oscillator (Duffing 1918), chaotic at the defaults.

    x' = y, y' = -delta*y - alpha*x - beta*x^3 + gamma*cos(omega*t); initial state (1, 0).

    Examples
    --------
    >>> duffing().parameters
    ('delta', 'alpha', 'beta', 'gamma', 'omega')
    """
    return _load("duffing").with_params(
        delta=delta, alpha=alpha, beta=beta, gamma=gamma, omega=omega
    )


_REGISTRY: dict[str, Callable[..., Model]] = {
    fn.__name__: fn
    for fn in (
        brusselator,
        duffing,
        fitzhugh_nagumo,
        henon_map,
        logistic_map,
        lorenz,
        lotka_volterra,
        robertson,
        rossler,
        selkov,
        van_der_pol,
    )
}


def names() -> tuple[str, ...]:
    """The names of the library's models, sorted.

    Examples
    --------
    >>> "lorenz" in names()
    True
    """
    return tuple(sorted(_REGISTRY))


def get(name: str, **params: float) -> Model:
    """A library model by name, with optional parameter values.

    Parameters
    ----------
    name
        One of :func:`names`.
    **params
        Parameter values overriding the defaults.

    Returns
    -------
    Model

    Raises
    ------
    InputError
        Unknown model or parameter name (with ``did you mean ...?``).

    Examples
    --------
    >>> get("brusselator", b=2.5).default_params
    (1.0, 2.5)
    """
    factory = _REGISTRY.get(name) if isinstance(name, str) else None
    if factory is None:
        hint = suggest(str(name), _REGISTRY)
        raise InputError(
            f"name={name!r}: no such library model; the models are {', '.join(names())}"
            + (f"; {hint}" if hint else "")
        )
    accepted = inspect.signature(factory).parameters
    for key in params:
        if key not in accepted:
            hint = suggest(key, accepted)
            raise InputError(
                f"{key}={params[key]!r}: model {name!r} has no parameter {key!r}; it has "
                + ", ".join(accepted)
                + (f"; {hint}" if hint else "")
            )
    return factory(**params)
