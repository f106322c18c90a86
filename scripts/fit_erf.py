"""Compute the Chebyshev coefficients of minidl's error function (:mod:`minidl.ops.special`).

Usage::

    python scripts/fit_erf.py        # needs mpmath (a dependency of sympy/torch; not of minidl)

The error function is evaluated on four pieces of |x|, each a Chebyshev series whose coefficients are
computed here in 40-digit arithmetic (mpmath) from the exact functions, then rounded to float64:

* |x| < 1:      erf(x) = x · A(x²),              A in t = 2x² − 1;
* 1 ≤ |x| < 2:  erfc(x) = e^{−x²} · erfcx(x),     erfcx in t = 2x − 3;
* 2 ≤ |x| < 4:  the same,                        t = x − 3;
* |x| ≥ 4:      erfc(x) = e^{−x²} · G(1/x²) / x,  G(u) = x·erfcx(x) in t = 32u − 1 (u ≤ 1/16).

The number of terms per piece is the smallest whose first dropped coefficient is below 1e-18 (relative to
the piece's values, all of order 0.1 to 1.2), so truncation error is far below float64 rounding. The script
prints the tables in the form ``special.py`` holds them and the worst relative error against mpmath on a
dense grid of each piece.
"""

from __future__ import annotations

import mpmath as mp
import numpy as np

mp.mp.dps = 40
TAIL = 1e-18


def chebyshev(f, a: float, b: float, n: int) -> list:
    """The first n Chebyshev coefficients of f on [a, b] (interpolation at the n Chebyshev points)."""
    a, b = mp.mpf(a), mp.mpf(b)
    theta = [mp.pi * (k + mp.mpf(1) / 2) / n for k in range(n)]
    fx = [f(a + (b - a) * (mp.cos(t) + 1) / 2) for t in theta]
    return [2 * mp.fsum(fx[k] * mp.cos(j * theta[k]) for k in range(n)) / n for j in range(n)]


def fitted(f, a: float, b: float) -> list[float]:
    """Enough coefficients for the tail to drop below TAIL (computed with 40 terms, then cut)."""
    c = chebyshev(f, a, b, 40)
    n = next(i for i in range(len(c)) if all(abs(v) < TAIL for v in c[i:i + 3]))
    return [float(v) for v in c[:n]]


def A(u):
    return mp.erf(mp.sqrt(u)) / mp.sqrt(u) if u > 0 else 2 / mp.sqrt(mp.pi)


def erfcx(x):
    return mp.exp(x * x) * mp.erfc(x)


def G(u):
    return erfcx(1 / mp.sqrt(u)) / mp.sqrt(u) if u > 0 else 1 / mp.sqrt(mp.pi)


PIECES = {"_SMALL": (A, 0.0, 1.0), "_MID1": (erfcx, 1.0, 2.0), "_MID2": (erfcx, 2.0, 4.0), "_LARGE": (G, 0.0, 1 / 16)}


def main() -> None:
    for name, (f, a, b) in PIECES.items():
        c = fitted(f, a, b)
        print(f"{name} = (  # {len(c)} terms on [{a}, {b}]")
        for i in range(0, len(c), 3):
            print("    " + " ".join(f"{v!r}," for v in c[i:i + 3]))
        print(")")
    from minidl.ops.special import erf, erfc

    x = np.concatenate([np.linspace(-30, 30, 20000), np.geomspace(1e-300, 1, 200), np.linspace(0.9, 4.1, 3001)])
    ref_erf = np.array([float(mp.erf(mp.mpf(v))) for v in x])
    ref_erfc = np.array([float(mp.erfc(mp.mpf(v))) for v in x])
    ok = ref_erfc > 1e-300  # below that erfc is subnormal: relative error is not meaningful
    print("max relative error: erf", np.max(np.abs(erf(x) - ref_erf) / np.abs(ref_erf)),
          "erfc", np.max(np.abs(erfc(x) - ref_erfc)[ok] / ref_erfc[ok]))


if __name__ == "__main__":
    main()
