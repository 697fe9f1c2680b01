#pragma once

#include <cmath>

namespace autolrs::numerics {

/// Minimizes a unimodal `objective` on [lo, hi] by Brent's method (Brent 1973, "Algorithms for
/// Minimization without Derivatives", ch. 5): golden section with parabolic steps. Stops when the
/// bracket is below `tolerance` relative to the abscissa (plus 1e-12), or after 60 evaluations.
template <typename F>
double brent_minimize(F objective, double lo, double hi, double tolerance) {
  constexpr double golden = 0.3819660112501051;
  double x = lo + golden * (hi - lo), w = x, v = x;
  double fx = objective(x), fw = fx, fv = fx;
  double step = 0, previous_step = 0;
  for (int iteration = 0; iteration < 60; ++iteration) {
    const double middle = 0.5 * (lo + hi);
    const double tol1 = tolerance * std::abs(x) + 1e-12, tol2 = 2 * tol1;
    if (std::abs(x - middle) <= tol2 - 0.5 * (hi - lo)) break;
    bool golden_step = true;
    if (std::abs(previous_step) > tol1) {
      const double r = (x - w) * (fx - fv), q0 = (x - v) * (fx - fw);
      double p = (x - v) * q0 - (x - w) * r, q = 2 * (q0 - r);
      if (q > 0) p = -p;
      q = std::abs(q);
      if (std::abs(p) < std::abs(0.5 * q * previous_step) && p > q * (lo - x) && p < q * (hi - x)) {
        previous_step = step;
        step = p / q;
        const double trial = x + step;
        if (trial - lo < tol2 || hi - trial < tol2) step = x < middle ? tol1 : -tol1;
        golden_step = false;
      }
    }
    if (golden_step) {
      previous_step = x >= middle ? lo - x : hi - x;
      step = golden * previous_step;
    }
    const double u = std::abs(step) >= tol1 ? x + step : x + (step > 0 ? tol1 : -tol1);
    const double fu = objective(u);
    if (fu <= fx) {
      (u >= x ? lo : hi) = x;
      v = w, fv = fw, w = x, fw = fx, x = u, fx = fu;
    } else {
      (u < x ? lo : hi) = u;
      if (fu <= fw || w == x) {
        v = w, fv = fw, w = u, fw = fu;
      } else if (fu <= fv || v == x || v == w) {
        v = u, fv = fu;
      }
    }
  }
  return x;
}

}  // namespace autolrs::numerics
