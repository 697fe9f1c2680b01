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

const char* to_string(ForecastStatus status);

/// Result of fitting y(t) = a·exp(b·t) + c (b <= 0) to a loss series. Every field is finite.
struct Forecast {
  ForecastStatus status = ForecastStatus::insufficient;
  double prediction = 0;      ///< forecast loss at the horizon
  double a = 0, b = 0, c = 0;  ///< model parameters; t in the caller's step units
  double residual_scale = 0;  ///< robust scale (MAD-based sigma) of the fit's residuals
  double prediction_std = 0;  ///< standard deviation of the prediction (fit and noise uncertainty)
  int points_used = 0;        ///< points left after discarding non-finite values and outliers
};

/// Forecasts the loss at step `horizon` from `losses` observed at `steps` (same length, increasing).
/// Never throws on data and never returns NaN: degenerate series yield a status other than ok.
///
/// Method: variable projection (for a fixed rate r, a and c are weighted linear least squares; c is
/// kept >= 0 when every loss is >= 0) with a grid-then-Brent search over log r, the rate bounded to
/// [0.3, 50] / (last step - first step); iteratively reweighted by Tukey's bisquare (train: spikes are
/// rejected) or Huber (val) weights from the residuals' MAD. a, b, c are the best fit; `prediction`
/// is the posterior mean of the value at the horizon over the rate (flat prior on log r, Gaussian
/// profile likelihood), `prediction_std` its posterior spread plus the a, c least-squares variance.
/// Series longer than 2,048 points are fitted on 1,024 equal-count bin medians.
/// Throws std::invalid_argument on misuse: sizes differ, steps not finite and strictly increasing,
/// or a non-finite horizon. A series rises sharply when the median of its last fifth exceeds the
/// median of its first fifth by more than 50% of the latter's magnitude.
Forecast forecast_loss(const std::vector<double>& steps, const std::vector<double>& losses,
                       double horizon, SeriesKind kind);

}  // namespace autolrs::numerics
