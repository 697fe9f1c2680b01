#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "simulator/fault_plan.hpp"

namespace autolrs::simulator {

/// One launch of the simulator as a trainer (`autolrs simulate`; docs/simulator.md).
struct TrainingOptions {
  double lr = 0;                      ///< constant learning rate of this launch, finite and >= 0
  std::int64_t steps = 0;             ///< steps to take, >= 0
  std::string save_path;              ///< where the checkpoint goes (written atomically)
  std::string load_path;              ///< checkpoint to resume; empty: the task's initial state
  std::optional<std::uint64_t> seed;  ///< default 0, or the checkpoint's when resuming
  std::string task;                   ///< preset name; empty: the default, or the checkpoint's
  std::int64_t val_every = 100;       ///< a val_loss line every this many global steps, >= 1
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
