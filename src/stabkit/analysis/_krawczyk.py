"""Interval Newton (Krawczyk) search of a box for all zeros of F.

The box is bisected recursively. On each box X the search tries, in order:

1. exclusion: some component of the enclosure F(X) does not hold 0, or F is undefined
   everywhere on X: no zero in X;
2. the Krawczyk operator, with m the midpoint of X and Y an approximate inverse of the
   midpoint of the interval Jacobian J(X),

       K(X) = m - Y F(m) + (I - Y J(X)) (X - m),

   which holds every zero of F in X: if K(X) and X are disjoint, X holds no zero; if
   K(X) lies in the interior of X, X holds exactly one zero (Krawczyk 1969; Rump's
   interior test, Neumaier 1990, Theorem 5.1.8);
3. otherwise X is replaced by K(X) & X and bisected across its widest side (relative to
   the search box) at an off-centre point, so that a zero on a symmetry plane of the
   box does not sit on a cut.

Boxes narrower than ``min_width`` (relative) and boxes left when the budget of
``max_boxes`` is spent are *uncertified*: they may hold zeros the search did not prove
or rule out (singular zeros, such as a double root, always end up there).

For a map ``f`` and period ``k`` the zeros are those of F(x) = f^k(x) - x, with the
enclosures F(X) = f(f(...f(X))) - X and J(X) = Df(X_{k-1}) ... Df(X_0) - I, where
X_i encloses f^i(X).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from stabkit.analysis._interval import IntervalProgram, Iv, iadd, imul, isub

__all__ = ["BoxSearch", "IntervalProblem", "krawczyk_search"]

_SPLIT = 0.4873  # off-centre cut: the fraction of the side below the cut


@dataclasses.dataclass(frozen=True)
class BoxSearch:
    """Outcome of :func:`krawczyk_search`: boxes of shape ``(k, n)`` as (lo, hi) pairs."""

    certified_lo: np.ndarray
    certified_hi: np.ndarray
    uncertified_lo: np.ndarray
    uncertified_hi: np.ndarray
    num_boxes: int
    num_excluded: int
    budget_spent: bool

    @property
    def num_uncertified(self) -> int:
        return int(self.uncertified_lo.shape[0])


class IntervalProblem:
    """Interval enclosures of F and of its Jacobian on batches of boxes.

    ``f_program`` encloses the right-hand side (n outputs), ``jac_program`` its Jacobian
    (n*n outputs, row-major). For maps, F(x) = f^period(x) - x.
    """

    def __init__(
        self,
        f_program: IntervalProgram,
        jac_program: IntervalProgram,
        num_variables: int,
        *,
        is_map: bool = False,
        period: int = 1,
    ) -> None:
        self.f = f_program
        self.jac = jac_program
        self.n = num_variables
        self.is_map = is_map
        self.period = period

    def _iterates(self, lo: np.ndarray, hi: np.ndarray) -> list[Iv]:
        """Enclosures of X, f(X), ..., f^period(X), each ``(B, n)``."""
        false = np.zeros(lo.shape, dtype=bool)
        out: list[Iv] = [(lo, hi, false)]
        for _ in range(self.period):
            clo, chi, cpart = out[-1]
            flo, fhi, fpart = self.f.evaluate(clo, chi)
            out.append((flo, fhi, fpart | cpart.any(axis=1, keepdims=True)))
        return out

    def residual(self, lo: np.ndarray, hi: np.ndarray) -> Iv:
        """Enclosure of F on the boxes, ``(B, n)``."""
        if not self.is_map:
            return self.f.evaluate(lo, hi)
        its = self._iterates(lo, hi)
        return isub(its[-1], its[0])

    def jacobian(self, lo: np.ndarray, hi: np.ndarray) -> Iv:
        """Enclosure of the Jacobian of F on the boxes, ``(B, n, n)``."""
        num, n = lo.shape
        if not self.is_map:
            jlo, jhi, jp = self.jac.evaluate(lo, hi)
            return jlo.reshape(num, n, n), jhi.reshape(num, n, n), jp.reshape(num, n, n)
        its = self._iterates(lo, hi)
        prod: Iv | None = None
        for clo, chi, cpart in its[:-1]:
            jlo, jhi, jp = self.jac.evaluate(clo, chi)
            factor = (
                jlo.reshape(num, n, n),
                jhi.reshape(num, n, n),
                jp.reshape(num, n, n) | np.any(cpart, axis=1).reshape(num, 1, 1),
            )
            prod = factor if prod is None else imatmul(factor, prod)
        assert prod is not None
        eye = np.broadcast_to(np.eye(n), (num, n, n))
        return isub(prod, (eye, eye, np.zeros((num, n, n), dtype=bool)))


def imatmul(a: Iv, b: Iv) -> Iv:
    """Interval matrix product of stacks ``(B, n, n) @ (B, n, m)``."""
    n = a[0].shape[2]
    acc: Iv | None = None
    for j in range(n):
        term = imul(
            (a[0][:, :, j, None], a[1][:, :, j, None], a[2][:, :, j, None]),
            (b[0][:, None, j, :], b[1][:, None, j, :], b[2][:, None, j, :]),
        )
        acc = term if acc is None else iadd(acc, term)
    assert acc is not None
    return acc


def _krawczyk(problem: IntervalProblem, lo: np.ndarray, hi: np.ndarray) -> tuple[Iv, np.ndarray]:
    """K(X) for each box and a mask of boxes where K is valid (F smooth on the whole box)."""
    num, n = lo.shape
    mid = np.clip(lo + 0.5 * (hi - lo), lo, hi)
    flo, fhi, fpart = problem.residual(mid, mid)
    jlo, jhi, jpart = problem.jacobian(lo, hi)
    valid = (
        np.all(np.isfinite(flo) & np.isfinite(fhi) & ~fpart, axis=1)
        & np.all(np.isfinite(jlo) & np.isfinite(jhi) & ~jpart, axis=(1, 2))
        & np.all(np.isfinite(mid), axis=1)
    )
    jmid = np.where(valid[:, None, None], 0.5 * (jlo + jhi), np.eye(n))
    with np.errstate(all="ignore"):
        y = np.linalg.pinv(jmid)
    valid &= np.all(np.isfinite(y), axis=(1, 2))
    y = np.where(valid[:, None, None], y, 0.0)
    jlo = np.where(valid[:, None, None], jlo, 0.0)
    jhi = np.where(valid[:, None, None], jhi, 0.0)
    flo = np.where(valid[:, None], flo, 0.0)
    fhi = np.where(valid[:, None], fhi, 0.0)
    none = np.zeros((num, n, n), dtype=bool)
    point_y: Iv = (y, y, none)
    # Y F(m): point matrix times interval vector
    yf = imatmul(point_y, (flo[:, :, None], fhi[:, :, None], none[:, :, :1]))
    # I - Y J(X)
    yj = imatmul(point_y, (jlo, jhi, none))
    eye = np.broadcast_to(np.eye(n), (num, n, n))
    m_iv = isub((eye, eye, none), yj)
    # (X - m)
    d = isub((lo, hi, none[:, 0]), (mid, mid, none[:, 0]))
    md = imatmul(m_iv, (d[0][:, :, None], d[1][:, :, None], none[:, :, :1]))
    k = isub((mid[:, :, None], mid[:, :, None], none[:, :, :1]), yf)
    k = iadd(k, md)
    return (k[0][:, :, 0], k[1][:, :, 0], k[2][:, :, 0]), valid


def _inflated_test(
    problem: IntervalProblem, lo: np.ndarray, hi: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Epsilon-inflation (Rump 1983): certify a box slightly larger than ``[lo, hi]``.

    ``[lo, hi]`` is K(X) & X, which holds every zero of X. If the Krawczyk test proves
    that the inflated box X' holds exactly one zero, X holds at most that one, and it
    is recorded (a zero recorded from two boxes is merged later). Returns the mask of
    certified boxes and the enclosures K(X') of their zeros.
    """
    pad = 0.1 * (hi - lo) + 1e-13 * (1.0 + np.maximum(np.abs(lo), np.abs(hi))) + 1e-300
    xlo, xhi = lo - pad, hi + pad
    (klo, khi, _), valid = _krawczyk(problem, xlo, xhi)
    with np.errstate(invalid="ignore"):
        inside = valid & np.all((klo > xlo) & (khi < xhi), axis=1)
    return inside, klo, khi


def krawczyk_search(
    problem: IntervalProblem,
    lo: np.ndarray,
    hi: np.ndarray,
    *,
    max_boxes: int,
    min_width: float,
    batch_size: int = 256,
) -> BoxSearch:
    """All zeros of ``problem`` in the box ``[lo, hi]`` (shape ``(n,)``), by bisection.

    Returns the certified boxes (each holds exactly one zero, in its interior) and the
    uncertified ones. See the module docstring for the tests applied to each box.
    """
    n = lo.shape[0]
    scale = np.where(hi > lo, hi - lo, 1.0)
    queue_lo, queue_hi = [lo[None, :].astype(np.float64)], [hi[None, :].astype(np.float64)]
    cert_lo: list[np.ndarray] = []
    cert_hi: list[np.ndarray] = []
    unc_lo: list[np.ndarray] = []
    unc_hi: list[np.ndarray] = []
    processed = excluded = 0
    while queue_lo and processed < max_boxes:
        qlo, qhi = np.concatenate(queue_lo), np.concatenate(queue_hi)
        take = min(batch_size, qlo.shape[0], max_boxes - processed)
        blo, bhi = qlo[-take:], qhi[-take:]
        queue_lo, queue_hi = ([qlo[:-take]], [qhi[:-take]]) if take < qlo.shape[0] else ([], [])
        processed += take

        flo, fhi, _ = problem.residual(blo, bhi)
        with np.errstate(invalid="ignore"):
            no_zero = np.any(np.isnan(flo) | (flo > 0.0) | (fhi < 0.0), axis=1)
        excluded += int(no_zero.sum())
        blo, bhi = blo[~no_zero], bhi[~no_zero]
        if blo.shape[0] == 0:
            continue

        (klo, khi, _), valid = _krawczyk(problem, blo, bhi)
        with np.errstate(invalid="ignore"):
            disjoint = valid & np.any((klo > bhi) | (khi < blo), axis=1)
            inside = valid & ~disjoint & np.all((klo > blo) & (khi < bhi), axis=1)
        excluded += int(disjoint.sum())
        cert_lo.append(klo[inside])
        cert_hi.append(khi[inside])

        rest = ~disjoint & ~inside
        rlo, rhi = blo[rest], bhi[rest]
        rv = valid[rest]
        old_width = np.max((rhi - rlo) / scale, axis=1)
        rlo = np.where(rv[:, None], np.maximum(rlo, klo[rest]), rlo)
        rhi = np.where(rv[:, None], np.minimum(rhi, khi[rest]), rhi)
        # a strong contraction: try to certify a slightly inflated K(X) & X directly
        shrunk = rv & (np.max((rhi - rlo) / scale, axis=1) < 0.25 * old_width)
        if np.any(shrunk):
            done, ilo, ihi = _inflated_test(problem, rlo[shrunk], rhi[shrunk])
            cert_lo.append(ilo[done])
            cert_hi.append(ihi[done])
            keep = np.ones(rlo.shape[0], dtype=bool)
            keep[np.flatnonzero(shrunk)[done]] = False
            rlo, rhi = rlo[keep], rhi[keep]
        widths = (rhi - rlo) / scale
        tiny = np.max(widths, axis=1) < min_width
        unc_lo.append(rlo[tiny])
        unc_hi.append(rhi[tiny])
        rlo, rhi, widths = rlo[~tiny], rhi[~tiny], widths[~tiny]
        if rlo.shape[0]:
            axis = np.argmax(widths, axis=1)
            rows = np.arange(rlo.shape[0])
            cut = rlo[rows, axis] + _SPLIT * (rhi[rows, axis] - rlo[rows, axis])
            left_hi = rhi.copy()
            left_hi[rows, axis] = cut
            right_lo = rlo.copy()
            right_lo[rows, axis] = cut
            queue_lo.append(np.concatenate([rlo, right_lo]))
            queue_hi.append(np.concatenate([left_hi, rhi]))
    spent = bool(queue_lo) and sum(q.shape[0] for q in queue_lo) > 0
    if spent:
        unc_lo.extend(queue_lo)
        unc_hi.extend(queue_hi)

    def stack(parts: list[np.ndarray]) -> np.ndarray:
        parts = [p for p in parts if p.size]
        return np.concatenate(parts) if parts else np.empty((0, n))

    return BoxSearch(
        certified_lo=stack(cert_lo),
        certified_hi=stack(cert_hi),
        uncertified_lo=stack(unc_lo),
        uncertified_hi=stack(unc_hi),
        num_boxes=processed,
        num_excluded=excluded,
        budget_spent=spent,
    )
