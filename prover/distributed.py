"""Ray support (optional extra `[dist]`)."""
from __future__ import annotations


def check_ray(address: str):
    try:
        import ray
    except ImportError as e:
        raise ImportError("Ray is not installed: pip install 'bfs-prover[dist]'") from e
    return ray
