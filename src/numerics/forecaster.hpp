#pragma once

#include <string>
#include <vector>

namespace autolrs::numerics {

/// Which kind of loss a series holds: training (minibatch) losses are noisy and spiky, validation
/// losses are few and smooth; the robust fit treats outliers differently for each.
enum class SeriesKind { train, val };

enum class ForecastStatus {
  ok,           ///< fitted; prediction is the model's value at the horizon
  diverged,     ///< the series rises sharply (prediction: the median of its last fifth, the level it rose
                ///< to), or holds NaN/inf or defeats the fit (prediction: its largest finite loss, or 0)
  insufficient  ///< fewer than 3 usable points; prediction falls back to the last finite loss (or 0)
};

/// Which curve families forecast_loss may fit.
enum class ForecastFamily {
  exponential,              ///< y = a·exp(b·t) + c only: the published AutoLRS model (Jin et al. 2021)
  exponential_or_power_law  ///< the exponential, averaged with y = a·(t + t0)^b + c as the data support it
};

/// The curve a forecast's a, b, c and t0 describe.
enum class CurveShape {
  exponential,  ///< y(t) = a·exp(b·t) + c, b <= 0
  power_law     ///< y(t) = a·(t + t0)^b + c, b < 0, t + t0 > 0 from the first step on
};

const char* to_string(ForecastStatus status);
const char* to_string(CurveShape shape);

/// Result of fitting a decaying curve to a loss series. Every field is finite.
struct Forecast {
  ForecastStatus status = ForecastStatus::insufficient;
  double prediction = 0;      ///< forecast loss at the horizon
  CurveShape shape = CurveShape::exponential;  ///< the curve below: the family with the larger weight
  double a = 0, b = 0, c = 0;  ///< model parameters; t in the caller's step units
  double t0 = 0;              ///< power law only: the offset added to t (0 for the exponential)
  double residual_scale = 0;  ///< robust scale (MAD-based sigma) of that curve's residuals
  double prediction_std = 0;  ///< standard deviation of the prediction (fit, noise and family uncertainty)
  int points_used = 0;        ///< points left after discarding non-finite values and outliers
  double power_law_weight = 0;  ///< the power law's weight in `prediction`, in [0, 1]; 0 for the exponential family
};

/// Forecasts the loss at step `horizon` from `losses` observed at `steps` (same length, increasing).
/// Never throws on data and never returns NaN: degenerate series yield a status other than ok.
/// Both families work in time normalized to the window, u = (t - first step) / (last - first step),
/// with the horizon at u = h.
///
/// Exponential, y = a exp(-r u) + c. Variable projection (Golub & Pereyra 1973: for a fixed rate r,
/// a and c are weighted linear least squares; c is kept >= 0 when every loss is >= 0) with a
/// grid-then-Brent search over log r, r in [0.3, 50]; iteratively reweighted by Tukey's bisquare
/// (train: spikes are rejected) or Huber (val) weights from the residuals' MAD (Holland & Welsch
/// 1977). `prediction` is the posterior mean of the value at the horizon over the rate (flat prior on
/// log r, Gaussian profile likelihood; Bayesian model averaging, Hoeting et al. 1999),
/// `prediction_std` its posterior spread plus the a, c least-squares variance. Series longer than
/// 2,048 points are fitted on 1,024 equal-count bin medians.
///
/// Power law, y = a (1 + u/s)^-p + c, s in [0.02, 20], p in [0.1, 4]: the learning-curve family of
/// Domhan et al. 2015 ("pow3"/"pow4") and of the scaling laws of training loss (Kaplan et al. 2020,
/// Hoffmann et al. 2022); it tends to exp(-r u) as s and p grow with p/s = r, and decays more slowly
/// than any exponential. In the caller's units t0 = s (last - first step) - first step and b = -p.
/// For a fixed offset s it is an exponential of rate p in v = log(1 + u/s), fitted like the exponential
/// (variable projection, grid over log p and a parabolic step, Brent at the best offset) on 12 offsets
/// spaced evenly in log s, with the exponential's final robust weights, so that both discount the
/// same outliers. Its prediction averages the offsets' profile likelihoods as the exponential's does
/// the rates' (flat prior on log s). Series longer than 128 points are fitted on 128 bin medians.
///
/// ForecastFamily::exponential_or_power_law (the default): on series of at least 12 points and a
/// horizon at or after the first step, the two forecasts are averaged with the power law's posterior
/// probability as its weight,
///     w = 1 / (1 + exp(T - L)),   L = (m/2) log(SSE_exp / SSE_pow),
/// L being the Gaussian log-likelihood ratio of the two weighted fits with the noise variance
/// profiled out (Wilks 1938) over the m points the reweighting kept, and T the prior log odds against
/// the power law: 3 for training, 4 for validation series (whose 15-20 points make a wrongly weighted
/// power law costlier). L - T approximates the log posterior odds (Kass & Raftery 1995; an extra
/// parameter costs about log(m)/2 <= 2.4 nats at m <= 128). `prediction` = (1 - w) exp + w pow,
/// `prediction_std` the mixture's (within-family variances plus w (1 - w) times the squared gap);
/// shape, a, b, c, t0, residual_scale and points_used are the heavier family's. A weight below
/// 0.001 is dropped (the exponential's forecast, unchanged). T was set on the synthetic corpus of
/// tests/numerics/forecast_accuracy_test.cpp: lower, the power law's weight on noisy exponentials
/// costs their 90th percentile; higher, slowly decaying curves keep the exponential's over-prediction.
/// Choosing the family by the error of each one's extrapolation of the window's last third (fitted to
/// the first two thirds) was tried first and measured worse: over 1.5x the window the two families
/// differ by less than the noise, so that choice was a coin toss on exponential curves.
///
/// Throws std::invalid_argument on misuse: sizes differ, steps not finite and strictly increasing,
/// or a non-finite horizon. A series rises sharply when the median of its last fifth exceeds the
/// median of its first fifth by more than 50% of the latter's magnitude.
Forecast forecast_loss(const std::vector<double>& steps, const std::vector<double>& losses,
                       double horizon, SeriesKind kind,
                       ForecastFamily family = ForecastFamily::exponential_or_power_law);

}  // namespace autolrs::numerics
