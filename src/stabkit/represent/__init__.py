"""Stability and similarity of representations (issue 8).

Geometric stability (the Shesha family, arXiv:2601.09173, matching shesha-geometry
0.3.0), CKA (linear, RBF, debiased), RSA and orthogonal Procrustes similarity, each
returning a :class:`RepresentationResult` with its standard error or interval.
"""

from stabkit.represent._result import RepresentationResult
from stabkit.represent.similarity import CKA_KINDS, cka, procrustes_similarity, rsa
from stabkit.represent.stability import (
    feature_split_stability,
    rdm_drift,
    rdm_similarity,
    replicate_stability,
)

__all__ = [
    "CKA_KINDS",
    "RepresentationResult",
    "cka",
    "feature_split_stability",
    "procrustes_similarity",
    "rdm_drift",
    "rdm_similarity",
    "replicate_stability",
    "rsa",
]
