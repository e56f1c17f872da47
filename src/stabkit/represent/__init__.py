"""Stability and similarity of representations (issue 8).

Geometric stability (the Shesha family, arXiv:2601.09173, matching shesha-geometry
0.3.0), CKA (linear, RBF, debiased), RSA and orthogonal Procrustes similarity and
perturbation coherence (arXiv:2604.16642), each returning a
:class:`RepresentationResult` with its standard error or interval.
"""

from stabkit.represent._result import RepresentationResult
from stabkit.represent.coherence import (
    COHERENCE_METHODS,
    discordance,
    perturbation_coherence,
    split_half_reproducibility,
)
from stabkit.represent.similarity import CKA_KINDS, cka, procrustes_similarity, rsa
from stabkit.represent.stability import (
    feature_split_stability,
    rdm_drift,
    rdm_similarity,
    replicate_stability,
)

__all__ = [
    "CKA_KINDS",
    "COHERENCE_METHODS",
    "RepresentationResult",
    "cka",
    "discordance",
    "feature_split_stability",
    "perturbation_coherence",
    "procrustes_similarity",
    "rdm_drift",
    "rdm_similarity",
    "replicate_stability",
    "rsa",
    "split_half_reproducibility",
]
