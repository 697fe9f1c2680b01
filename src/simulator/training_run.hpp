#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "simulator/fault_plan.hpp"

namespace autolrs::simulator {

/// The default size of the simulator's validation set: the NQM's per-example losses spread far more
/// than a real network's (standard deviation sqrt(2cL/n) against L), so 10^6 of its examples give the
/// relative error a 10,000-example set gives a real classifier near the end of training: about 3% at
/// the `quadratic` task's final loss, 0.1-1% earlier in training.
inline constexpr std::int64_t default_val_examples = 1'000'000;

/// One launch of the simulator as a trainer (`autolrs simulate`; docs/simulator.md).
struct TrainingOptions {
  double lr = 0;                      ///< learning rate of this launch's first step, finite and >= 0
  /// With a value, the LR ramps linearly: step k (0-based) of N runs at lr + (lr_end − lr)·k/N.
  std::optional<double> lr_end;
  std::int64_t steps = 0;             ///< steps to take, >= 0
  std::string save_path;              ///< where the checkpoint goes (written atomically)
  std::string load_path;              ///< checkpoint to resume; empty: the task's initial state
  std::optional<std::uint64_t> seed;  ///< default 0, or the checkpoint's when resuming
  std::string task;                   ///< preset name; empty: the default, or the checkpoint's
  std::int64_t val_every = 100;       ///< a val_loss line every this many global steps, >= 1
  /// Examples of the finite validation set val_loss is measured on (see ValidationSet); 0: the
  /// population loss L(θ), without sampling error.
  std::int64_t val_examples = default_val_examples;
  double step_ms = 0;                 ///< sleep after each step, >= 0
  double startup_ms = 0;              ///< sleep before the first step, >= 0
  bool ignore_sigterm = false;        ///< SIGTERM is ignored from the start (done by the caller)
  FaultPlan faults;
};

/// What a simulated launch does outside its arithmetic: its output, the passing of time and its
/// checkpoint files. Implementations: the real one behind `autolrs simulate` (session/), test fakes.
class TrainingIo {
 public:
  virtual ~TrainingIo() = default;
  /// Appends to the launch's stdout (buffered until flush()).
  virtual void write_out(std::string_view bytes) = 0;
  virtual void flush_out() = 0;
  /// A line for stderr, e.g. the injected crash's message.
  virtual void write_error(std::string_view line) = 0;
  virtual void sleep_ms(double milliseconds) = 0;
  /// The bytes of the checkpoint at `path`; throws spec::InputError("--load", ...) when unreadable.
  virtual std::string read_checkpoint(const std::string& path) = 0;
  /// Replaces the checkpoint at `path` atomically; throws std::runtime_error when it cannot.
  virtual void save_checkpoint(const std::string& path, std::string_view bytes) = 0;
};

/// Throws spec::InputError naming the option ("--lr", "--val-every", ...) when `options` are out of range.
void check_training_options(const TrainingOptions& options);

/// Runs the launch: prints `step=<s> loss=<l>` for each step and `step=<s> val_loss=<l>` every
/// val_every global steps and at the end (one val line for a launch of 0 steps), sleeps as asked,
/// injects the faults, and saves the checkpoint. Returns 0 after saving (also when the run diverged:
/// its losses print as nan/inf), 3 for an injected crash; for an injected hang it sleeps for ever
/// (io.sleep_ms in a loop). Throws spec::InputError for invalid options, an unreadable checkpoint or
/// one saved under a different task or seed.
int run_training(const TrainingOptions& options, TrainingIo& io);

}  // namespace autolrs::simulator
