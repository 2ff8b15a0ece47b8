"""Optional dependencies (vLLM, Ray, LeanDojo): imported when first needed, and when missing the
error names the pip extra that installs them."""
from __future__ import annotations

from types import ModuleType


def require(module: str, extra: str, hint: str = "") -> ModuleType:
    """`module` imported, or an ImportError saying `pip install 'bfs-prover[extra]'` (plus `hint`)."""
    try:
        # the builtin, not importlib: it is what tests patch to simulate a missing package
        return __import__(module, fromlist=["_"])
    except ImportError as e:
        message = f"{module} is not installed: pip install 'bfs-prover[{extra}]'"
        raise ImportError(f"{message} ({hint})" if hint else message) from e
