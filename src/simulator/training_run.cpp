#include "simulator/training_run.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>

#include "simulator/checkpoint.hpp"
#include "simulator/simulator.hpp"
#include "simulator/task.hpp"
#include "spec/input_error.hpp"

namespace autolrs::simulator {

namespace {

void require(bool condition, const std::string& field, const std::string& reason) {
  if (!condition) throw spec::InputError(field, reason);
}

/// Shortest text that parses back to exactly `value` (std::to_chars); "nan" and "inf" when diverged.
std::string format_loss(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char buffer[32];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, result.ptr);
}

/// The task and start state of this launch: fresh, or from --load checked against --task and --seed.
struct Start {
  Task task;
  State state;
};

Start resolve_start(const TrainingOptions& options, TrainingIo& io) {
  if (options.load_path.empty()) {
    Task task = preset_task(options.task.empty() ? default_task_name() : options.task);
    State state = initial_state(task, options.seed.value_or(0));
    return {std::move(task), std::move(state)};
  }
  const std::string source = "--load " + options.load_path;
  Checkpoint checkpoint = parse_checkpoint(io.read_checkpoint(options.load_path), source);
  require(options.task.empty() || options.task == checkpoint.task_name, "--task",
          "'" + options.task + "' differs from the checkpoint's task '" + checkpoint.task_name + "'");
  Task task = preset_task(checkpoint.task_name);
  require(fingerprint(task) == checkpoint.task_fingerprint, source, "saved by a different version of task '" + task.name + "'");
  require(checkpoint.state.theta.size() == static_cast<std::size_t>(task.dimension), source,
          "dimension does not match task '" + task.name + "'");
  require(!options.seed || *options.seed == checkpoint.state.seed, "--seed",
          std::to_string(*options.seed) + " differs from the checkpoint's seed " + std::to_string(checkpoint.state.seed));
  return {std::move(task), std::move(checkpoint.state)};
}

}  // namespace

void check_training_options(const TrainingOptions& options) {
  require(std::isfinite(options.lr) && options.lr >= 0, "--lr", "must be finite and >= 0");
  require(options.steps >= 0, "--steps", "must be >= 0");
  require(!options.save_path.empty(), "--save", "is required");
  require(!options.lr_end || (std::isfinite(*options.lr_end) && *options.lr_end >= 0), "--lr-end",
          "must be finite and >= 0");
  require(options.val_every >= 1, "--val-every", "must be >= 1");
  require(options.val_examples >= 0, "--val-examples", "must be >= 0");
  require(std::isfinite(options.step_ms) && options.step_ms >= 0, "--step-ms", "must be finite and >= 0");
  require(std::isfinite(options.startup_ms) && options.startup_ms >= 0, "--startup-ms", "must be finite and >= 0");
  require(options.faults.long_line_bytes >= 0, "--long-line-bytes", "must be >= 0");
  require(std::isfinite(options.faults.faults_lr_above) && options.faults.faults_lr_above >= 0, "--faults-lr-above",
          "must be finite and >= 0");
}

int run_training(const TrainingOptions& options, TrainingIo& io) {
  check_training_options(options);
  Start start = resolve_start(options, io);
  Simulator simulator(start.task);
  State& state = start.state;
  // The faults follow the launch's highest LR.
  const FaultPlan faults = faults_for_lr(options.faults, std::max(options.lr, options.lr_end.value_or(0)));
  const auto sleep_ms = [&](double milliseconds) {
    if (milliseconds > 0) io.sleep_ms(milliseconds);
  };

  if (faults.long_line_bytes > 0) {
    // In pieces of at most 1 MiB: a 100 MB line must not cost the simulator 100 MB of memory.
    constexpr std::int64_t piece_bytes = std::int64_t{1} << 20;
    for (std::int64_t offset = 0; offset < faults.long_line_bytes; offset += piece_bytes) {
      io.write_out(long_line(std::min(piece_bytes, faults.long_line_bytes - offset), offset));
    }
    io.write_out("\n");
    io.flush_out();
  }
  sleep_ms(options.startup_ms);

  const ValidationSet validation_set(start.task, state.seed, options.val_examples);
  const std::int64_t first_step = state.global_step + 1;
  const std::int64_t last_step = state.global_step + options.steps;
  const auto lr_of_step = [&](std::int64_t step) {
    if (!options.lr_end) return options.lr;
    const double k = static_cast<double>(step - first_step);
    return options.lr + (*options.lr_end - options.lr) * k / static_cast<double>(options.steps);
  };
  auto print_val = [&] {
    io.write_out("step=" + std::to_string(state.global_step) + " val_loss=" + format_loss(validation_set.loss(state)) + "\n");
  };
  if (options.steps == 0) print_val();
  while (state.global_step < last_step) {
    const std::int64_t step = state.global_step + 1;
    switch (fault_before_step(faults, step)) {
      case StepFault::crash:
        io.flush_out();
        io.write_error("autolrs simulate: injected crash before step " + std::to_string(step) + "\n");
        return 3;
      case StepFault::hang:
        io.flush_out();
        for (;;) io.sleep_ms(3'600'000);
      case StepFault::none:
        break;
    }
    if (poisoned_at(faults, step)) std::fill(state.theta.begin(), state.theta.end(), std::numeric_limits<double>::quiet_NaN());
    const double loss = simulator.step(state, lr_of_step(step));
    if (faults.junk_lines) io.write_out(junk_before_line(step));
    io.write_out("step=" + std::to_string(step) + " loss=" + format_loss(loss) + "\n");
    if (step % options.val_every == 0 || step == last_step) print_val();
    io.flush_out();
    sleep_ms(options.step_ms);
  }
  io.flush_out();

  const Checkpoint checkpoint{start.task.name, fingerprint(start.task), state};
  if (auto bytes = checkpoint_bytes_to_write(faults, serialize_checkpoint(checkpoint))) io.save_checkpoint(options.save_path, *bytes);
  return 0;
}

}  // namespace autolrs::simulator
