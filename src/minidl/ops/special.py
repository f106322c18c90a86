"""Special functions NumPy lacks, on float arrays: the error function ``erf`` and its complement ``erfc``.

They are helpers of the op library (the ``erf``/``erfc`` rows of :data:`minidl.ops.elementwise.UNARY` and
the exact GELU use them), written in NumPy alone and accurate to a few float64 ulps (relative error below
about 1e-15 against 40-digit references; ``tests/test_special.py`` checks them against ``math.erf``).

Method: four pieces of |x|, each a Chebyshev series f = c₀/2 + Σⱼ cⱼ Tⱼ(t) on a variable t ∈ [−1, 1]
(coefficients from ``scripts/fit_erf.py``, which computes them in 40-digit arithmetic):

* |x| < 1:      erf(x) = x · A(x²),                t = 2x² − 1;
* 1 ≤ |x| < 2:  erfc(|x|) = e^{−x²} · erfcx(|x|),   t = 2|x| − 3;
* 2 ≤ |x| < 4:  the same,                          t = |x| − 3;
* |x| ≥ 4:      erfc(|x|) = e^{−x²} · G(1/x²) / |x|, t = 32/x² − 1, where G(u) = x·erfcx(x) → 1/√π.

erfcx(x) = e^{x²} erfc(x) is smooth and of order 1, so each piece needs 13 to 20 terms. e^{−x²} is taken as
e^{−h²} · e^{−(x−h)(x+h)} with h = ⌊16x⌋/16, whose square is exact: a rounded x² would cost up to x²·2⁻⁵³
of relative accuracy in erfc for large x (Cody's device). Then erf = ±(1 − erfc(|x|)) for |x| ≥ 1,
erfc(x) = 1 − erf(x) for |x| < 1 (≥ 0.157, no cancellation) and erfc(−x) = 2 − erfc(x).

float64 inputs are evaluated in float64, float32 inputs in float32 with the terms that matter at that
precision (see :func:`_pieces`); the result has the input's dtype (integers give float64).
"""

from __future__ import annotations

import numpy as np
from numpy.polynomial import chebyshev

from ..backend import xp

__all__ = ["erf", "erfc"]

_SMALL = (  # A(x²) = erf(x)/x on x² ∈ [0, 1]
    1.9509538787653082, -0.14226120510371365, 0.010035582187599796,
    -0.0005768764699767485, 2.741993125219606e-05, -1.1043175507344507e-06,
    3.8488755420345036e-08, -1.1808582533875466e-09, 3.2334215826050907e-11,
    -7.991015947004549e-13, 1.7990725113961456e-14, -3.718635487818693e-16,
    7.103599003714253e-18,
)
_MID1 = (  # erfcx(x) on [1, 2]
    0.662854563278904, -0.0850021377067432, 0.009951127341466115,
    -0.0010810888102208325, 0.0001102324363119495, -1.0636830518218601e-05,
    9.775012680479055e-07, -8.597922867888315e-08, 7.2677084117248425e-09,
    -5.923543840592542e-10, 4.6683928572294154e-11, -3.56612770156775e-12,
    2.6458779519104523e-13, -1.9101658673527567e-14, 1.343976588479829e-15,
    -9.228790549094326e-17, 6.19267308464391e-18,
)
_MID2 = (  # erfcx(x) on [2, 4]
    0.3748591380524482, -0.05794652883669097, 0.008595247387396534,
    -0.0012284613640242594, 0.00016974366686180488, -2.2738329337044562e-05,
    2.959844378804878e-06, -3.7513575581379714e-07, 4.6372828761738244e-08,
    -5.599455392564088e-09, 6.613160896679916e-10, -7.648271522199816e-11,
    8.670904325876594e-12, -9.645456274382108e-13, 1.0536827959360625e-13,
    -1.1312630906760667e-14, 1.1945180669174577e-15, -1.241310752580407e-16,
    1.270246323185436e-17, -1.280725873663855e-18,
)
_LARGE = (  # G(u) = x·erfcx(x), u = 1/x² ∈ [0, 1/16]
    1.111851386850352, -0.008090332092115713, 0.00016776836928685166,
    -5.531041633808364e-06, 2.443693640463472e-07, -1.3327004395823597e-08,
    8.550274891720148e-10, -6.254007601349521e-11, 5.101735166869338e-12,
    -4.56694847770334e-13, 4.4310635988433546e-14, -4.614610076462105e-15,
    5.118030871866858e-16, -6.006459509411205e-17, 7.41914386314289e-18,
)
# erfc(x) is below the smallest subnormal float64 beyond x ≈ 27.3: clamp there so x² cannot overflow
_ERFC_ZERO = 28.0


def _monomial(c: tuple[float, ...], keep: float) -> tuple[float, ...]:
    """The Chebyshev series c₀/2 + Σ cⱼ Tⱼ(t), cut before its first coefficient below ``keep``·c₀, as the
    coefficients of a polynomial in t (constant first). For these rapidly decaying series the conversion
    is well conditioned (every monomial coefficient is below c₀ in size): evaluating it by Horner's rule
    agrees with Clenshaw's recurrence to 1 ulp, at two in-place passes per term instead of three."""
    n = next((j for j in range(1, len(c)) if abs(c[j]) < keep * c[0]), len(c))
    return tuple(float(v) for v in chebyshev.cheb2poly([c[0] / 2, *c[1:n]]))


def _tables(dtype: np.dtype) -> tuple[tuple[float, ...], ...]:
    """Polynomials of the four pieces: all terms for float64, and for narrower floats only the terms that
    matter at their precision (relative 1e-10)."""
    keep = 0.0 if dtype.itemsize >= 8 else 1e-10
    tables = _TABLES.get(keep)
    if tables is None:
        tables = _TABLES[keep] = tuple(_monomial(c, keep) for c in (_SMALL, _MID1, _MID2, _LARGE))
    return tables


_TABLES: dict[float, tuple[tuple[float, ...], ...]] = {}


def _horner(p: tuple[float, ...], t: np.ndarray) -> np.ndarray:
    """Σⱼ pⱼ tʲ, in place on one new array (in t's dtype)."""
    out = xp.full_like(t, p[-1])
    for pj in p[-2::-1]:
        out *= t
        out += t.dtype.type(pj)
    return out


def _exp_neg_square(a: np.ndarray) -> np.ndarray:
    """e^{−a²} as e^{−h²}·e^{−(a−h)(a+h)}, h = ⌊16a⌋/16 (h² exact), for 1 ≤ a ≤ _ERFC_ZERO."""
    h = xp.floor(a * 16) / 16
    e = xp.exp(-h * h)
    e *= xp.exp((h - a) * (a + h))
    return e


def _erfc_tail(a: np.ndarray, tables: tuple) -> np.ndarray:
    """erfc(a) for a ≥ 1 (float64; past _ERFC_ZERO it is 0; nan stays nan)."""
    _, mid1, mid2, large = tables
    a = xp.minimum(a, _ERFC_ZERO)  # nan propagates through minimum
    out = xp.empty_like(a)
    for idx, erfcx in ((xp.flatnonzero(a < 2), lambda v: _horner(mid1, 2 * v - 3)),
                       (xp.flatnonzero((a >= 2) & (a < 4)), lambda v: _horner(mid2, v - 3)),
                       (xp.flatnonzero(a >= 4), lambda v: _horner(large, 32 / (v * v) - 1) / v)):
        v = a[idx]
        r = erfcx(v)
        r *= _exp_neg_square(v)
        out[idx] = r
    out[xp.isnan(a)] = xp.nan
    return out


def _pieces(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x flat in the working dtype, indices of |x| < 1, erf there, indices of |x| ≥ 1 or nan, erfc(|x|) there).

    float64 (and integer) inputs are worked on in float64 with every term; float32 in float32 with the terms
    that matter at its precision (twice the SIMD width; measured against ``math.erf``/``math.erfc``: erf within
    2 float32 ulps, erfc within 7 where it is tiny).
    """
    dt = _float_dtype(x)
    tables = _tables(dt)
    x64 = xp.asarray(x, dtype=np.float32 if dt == np.float32 else np.float64).reshape(-1)
    a = xp.abs(x64)
    small = a < 1
    i_small, i_big = xp.flatnonzero(small), xp.flatnonzero(~small)
    xs = x64[i_small]
    erf_small = _horner(tables[0], 2 * (xs * xs) - 1)
    erf_small *= xs
    return x64, i_small, erf_small, i_big, _erfc_tail(a[i_big], tables)


def erf(x: np.ndarray) -> np.ndarray:
    r"""erf(x) = (2/√π) ∫₀ˣ e^{−t²} dt, elementwise, in x's float dtype (see the module docstring)."""
    x64, i_small, erf_small, i_big, tail = _pieces(x)
    out = xp.empty_like(x64)
    out[i_small] = erf_small
    out[i_big] = xp.copysign(1 - tail, x64[i_big])
    return out.reshape(np.shape(x)).astype(_float_dtype(x), copy=False)


def erfc(x: np.ndarray) -> np.ndarray:
    r"""erfc(x) = 1 − erf(x), accurate also where it is tiny (x ≫ 1), in x's float dtype."""
    x64, i_small, erf_small, i_big, tail = _pieces(x)
    out = xp.empty_like(x64)
    out[i_small] = 1 - erf_small
    out[i_big] = xp.where(x64[i_big] < 0, 2 - tail, tail)
    return out.reshape(np.shape(x)).astype(_float_dtype(x), copy=False)


def _float_dtype(x: np.ndarray) -> np.dtype:
    dt = np.asarray(x).dtype
    return dt if dt.kind == "f" else np.dtype(np.float64)
