#pragma once

#include <cstddef>
#include <optional>
#include <vector>

namespace autolrs::search {

/// One parsed loss of a launch. `step` is the model step the loss belongs to, counted from the
/// launch's start checkpoint: 1 is the first step the launch trained.
struct LossPoint {
  double step = 0;
  double loss = 0;
};

/// A launch's losses as read, before step normalization: the trainer's own step numbers when its
/// pattern has a `step` group (global, or counting from 0 or 1 in each launch), else none.
struct RawLoss {
  std::optional<double> trainer_step;
  double loss = 0;
};

/// Places the losses of a launch of `launch_steps` steps on the launch's own axis (1..launch_steps).
/// Only the spacing of trainer step numbers matters: the first loss sits one spacing after the start
/// (spacing = the smallest positive gap, e.g. 1 for per-step losses, 100 for val every 100 steps).
/// Without step numbers, the n losses of a launch that ran to its end are spread evenly (point i sits
/// at (i+1)·launch_steps/n); those of a launch stopped early are taken as one per step.
/// Points whose step numbers go backwards are dropped.
std::vector<LossPoint> place_on_launch_axis(const std::vector<RawLoss>& losses, long launch_steps, bool ran_to_end = true);

/// Most points of a launch's train or val series that the run keeps (the search, the journal,
/// losses.csv and the report see the same kept points, so that a resume decides as the run did).
inline constexpr std::size_t max_kept_points = 4096;

/// `series` cut to at most `max_points` (≥ 2·edge_points + 1) raw points: all of a series within
/// it; else its first and last `edge_points` (the start and end levels and the last step are judged
/// from them), every non-finite point, and every k-th of the rest, k the smallest stride that fits.
/// Points are kept, never averaged: a forecast sees the trainer's own noise.
std::vector<LossPoint> thin_series(const std::vector<LossPoint>& series, std::size_t max_points = max_kept_points,
                                   std::size_t edge_points = 32);

/// The last finite loss of `series`, or nullopt when it has none (a launch's final loss).
std::optional<double> last_finite_loss(const std::vector<LossPoint>& series);

/// The level a launch ended at, to judge the next launches' divergence against: the mean of the
/// last `count` (at most) finite losses of `series`; nullopt when it has none. Not the last loss
/// alone: near convergence one minibatch's loss can be ten times below the next one's.
std::optional<double> final_loss_level(const std::vector<LossPoint>& series, std::size_t count = 20);

/// The level a falling series has reached at its last point: the least-squares line through its last
/// `count` (at most) finite losses, evaluated at the last one's step. Unlike their mean, it does not
/// lag a series still falling; its noise is twice the mean's (standard deviation). nullopt with fewer
/// than 2 finite losses or no spread in their steps.
std::optional<double> trend_level_at_end(const std::vector<LossPoint>& series, std::size_t count);

/// The level a launch started at: the mean of the first `count` (at most) finite losses of `series`;
/// nullopt when it has none.
std::optional<double> initial_loss_level(const std::vector<LossPoint>& series, std::size_t count = 20);

/// Decides when a running launch's loss has diverged: a non-finite loss, or `losses_in_a_row`
/// consecutive losses above `factor` × the reference loss (the stage's start level, see
/// final_loss_level, when known, else the launch's first loss). In a row, because a well-fitted
/// model's minibatch losses are heavy-tailed: one batch ten times above their mean is routine, three
/// in a row are not, while a diverging loss keeps climbing.
class DivergenceMonitor {
 public:
  static constexpr int losses_in_a_row = 3;

  DivergenceMonitor(double factor, std::optional<double> reference_loss)
      : m_factor(factor), m_reference(reference_loss) {}

  /// Feeds the next training loss; true once the launch has diverged (and stays true).
  bool diverged_after(double loss);

 private:
  double m_factor;
  std::optional<double> m_reference;
  int m_losses_above = 0;
  bool m_diverged = false;
};

}  // namespace autolrs::search
