"""Turn a failed curvature product into an error that names the module at fault.

Double backward (and forward-over-reverse) fail on in-place operations that overwrite a
tensor the backward pass needs, and on operations whose second derivative torch lacks.
torch's message names the tensor, not the code. Re-running the product under anomaly
detection records the forward traceback of the failing operation; the innermost frame
inside a ``forward`` of one of the model's modules is where the user's code is.
"""

from __future__ import annotations

import inspect
import re
import warnings
from collections.abc import Callable
from typing import Any

from stabkit.errors import InputError

__all__ = ["diagnose_product_failure"]

_FRAME = re.compile(r'File "([^"]+)", line (\d+), in (\w+)\n\s*(.*)')


def _module_at(model: Any, path: str, line: int) -> tuple[str, Any] | None:
    """The (name, module) whose class's ``forward`` holds ``path:line``, innermost first."""
    best = None
    for name, module in model.named_modules():
        forward = type(module).forward
        try:
            src = inspect.getsourcefile(forward)
            lines, start = inspect.getsourcelines(forward)
        except (OSError, TypeError):
            continue
        if src == path and start <= line < start + len(lines):
            best = (name or type(module).__name__, module)
    return best


def diagnose_product_failure(model: Any, rerun: Callable[[], Any], exc: Exception) -> InputError:
    """An :class:`InputError` naming the module and line where the product failed."""
    import torch

    text = str(exc).splitlines()[0]
    captured: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            with torch.autograd.detect_anomaly(check_nan=False):
                rerun()
        except Exception:  # the same failure, now with a forward traceback recorded
            pass
        captured = [str(w.message) for w in caught]
    where = ""
    for message in captured:
        for path, line, func, code in reversed(_FRAME.findall(message)):
            if func != "forward":
                continue
            found = _module_at(model, path, int(line))
            if found is not None:
                name, module = found
                where = (
                    f" in module {name!r} ({type(module).__name__}.forward, line {line}: "
                    f"`{code.strip()}`)"
                )
                break
        if where:
            break
    if "inplace" in text or "in-place" in text:
        fix = (
            "an in-place operation overwrites a tensor the second derivative needs; "
            "use its out-of-place form (x = x * 2 instead of x.mul_(2), inplace=False)"
        )
    elif "not implemented" in text.lower() or "derivative" in text.lower():
        fix = (
            "an operation has no second derivative in torch; replace it by a twice-"
            "differentiable one, or exclude its parameters with params=[...]"
        )
    else:
        fix = "the model's forward pass cannot be differentiated twice as written"
    return InputError(f"curvature product failed{where}: {fix} (torch: {text})")
