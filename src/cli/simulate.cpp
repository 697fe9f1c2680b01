#include "cli/simulate.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <string_view>
#include <thread>

#include "simulator/checkpoint.hpp"
#include "simulator/simulator.hpp"
#include "simulator/task.hpp"
#include "spec/input_error.hpp"
#include "storage/atomic_file.hpp"

namespace autolrs::cli {

namespace {

void require(bool condition, const std::string& field, const std::string& reason) {
  if (!condition) throw spec::InputError(field, reason);
}

void validate(const SimulateOptions& options) {
  require(std::isfinite(options.lr) && options.lr >= 0, "--lr", "must be finite and >= 0");
  require(options.steps >= 0, "--steps", "must be >= 0");
  require(!options.save_path.empty(), "--save", "is required");
  require(options.val_every >= 1, "--val-every", "must be >= 1");
  require(std::isfinite(options.step_ms) && options.step_ms >= 0, "--step-ms", "must be finite and >= 0");
  require(std::isfinite(options.startup_ms) && options.startup_ms >= 0, "--startup-ms", "must be finite and >= 0");
  require(options.faults.long_line_bytes >= 0, "--long-line-bytes", "must be >= 0");
  require(std::isfinite(options.faults.faults_lr_above) && options.faults.faults_lr_above >= 0, "--faults-lr-above",
          "must be finite and >= 0");
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw spec::InputError("--load", "cannot read " + path + ": " + std::strerror(errno));
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// Shortest text that parses back to exactly `value` (std::to_chars); "nan" and "inf" when diverged.
std::string format_loss(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char buffer[32];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, result.ptr);
}

void write_out(std::string_view bytes) { std::fwrite(bytes.data(), 1, bytes.size(), stdout); }

void sleep_ms(double milliseconds) {
  if (milliseconds > 0) std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(milliseconds));
}

/// The task and start state of this launch: fresh, or from --load checked against --task and --seed.
struct Start {
  simulator::Task task;
  simulator::State state;
};

Start resolve_start(const SimulateOptions& options) {
  if (options.load_path.empty()) {
    simulator::Task task =
        simulator::preset_task(options.task.empty() ? simulator::default_task_name() : options.task);
    simulator::State state = simulator::initial_state(task, options.seed.value_or(0));
    return {std::move(task), std::move(state)};
  }
  const std::string source = "--load " + options.load_path;
  simulator::Checkpoint checkpoint = simulator::parse_checkpoint(read_file(options.load_path), source);
  require(options.task.empty() || options.task == checkpoint.task_name, "--task",
          "'" + options.task + "' differs from the checkpoint's task '" + checkpoint.task_name + "'");
  simulator::Task task = simulator::preset_task(checkpoint.task_name);
  require(simulator::fingerprint(task) == checkpoint.task_fingerprint, source,
          "saved by a different version of task '" + task.name + "'");
  require(checkpoint.state.theta.size() == static_cast<std::size_t>(task.dimension), source,
          "dimension does not match task '" + task.name + "'");
  require(!options.seed || *options.seed == checkpoint.state.seed, "--seed",
          std::to_string(*options.seed) + " differs from the checkpoint's seed " +
              std::to_string(checkpoint.state.seed));
  return {std::move(task), std::move(checkpoint.state)};
}

}  // namespace

CLI::App* setup_simulate(CLI::App& parent, SimulateOptions& options) {
  CLI::App* command = parent.add_subcommand(
      "simulate", "Built-in training simulator (noisy quadratic model); see docs/simulator.md");
  command->add_option("--lr", options.lr, "Learning rate (constant for this launch)")->required();
  command->add_option("--steps", options.steps, "Steps to take")->required();
  command->add_option("--save", options.save_path, "Checkpoint to write at the end")->required();
  command->add_option("--load", options.load_path, "Checkpoint to resume from");
  command->add_option_function<std::uint64_t>(
      "--seed", [&options](const std::uint64_t& seed) { options.seed = seed; },
      "Minibatch noise seed (default 0; the checkpoint's when resuming)");
  std::string task_names;
  for (const std::string& name : simulator::preset_names()) task_names += (task_names.empty() ? "" : ", ") + name;
  command->add_option("--task", options.task,
                      "Preset, one of " + task_names + " (default " + simulator::default_task_name() +
                          "; the checkpoint's when resuming)");
  command->add_option("--val-every", options.val_every, "Print val_loss every this many global steps")
      ->capture_default_str();
  command->add_option("--step-ms", options.step_ms, "Sleep this long after each step");
  command->add_option("--startup-ms", options.startup_ms, "Sleep this long before the first step");
  command->add_option("--crash-at-step", options.faults.crash_at_step,
                      "Exit with status 3 instead of taking this global step");
  command->add_option("--hang-at-step", options.faults.hang_at_step,
                      "Stop printing and sleep forever instead of taking this global step");
  command->add_flag("--ignore-sigterm", options.ignore_sigterm, "Ignore SIGTERM");
  command->add_option("--nan-from-step", options.faults.nan_from_step,
                      "Parameters turn NaN at this global step");
  command->add_flag("--skip-checkpoint", options.faults.skip_checkpoint, "Exit 0 without writing the checkpoint");
  command->add_flag("--truncate-checkpoint", options.faults.truncate_checkpoint,
                    "Write only the first half of the checkpoint");
  command->add_flag("--junk-lines", options.faults.junk_lines,
                    "Interleave binary junk and carriage-return progress bars with the loss lines");
  command->add_option("--long-line-bytes", options.faults.long_line_bytes,
                      "Print one line of this many bytes at start");
  command->add_option("--faults-lr-above", options.faults.faults_lr_above,
                      "Inject the faults above only when --lr exceeds this (0: always)");
  return command;
}

int run_simulate(const SimulateOptions& options) {
  validate(options);
  if (options.ignore_sigterm) std::signal(SIGTERM, SIG_IGN);
  Start start = resolve_start(options);
  simulator::Simulator simulator(start.task);
  simulator::State& state = start.state;
  const simulator::FaultPlan faults = simulator::faults_for_lr(options.faults, options.lr);

  if (faults.long_line_bytes > 0) {
    // In pieces of at most 1 MiB: a 100 MB line must not cost the simulator 100 MB of memory.
    constexpr std::int64_t piece_bytes = std::int64_t{1} << 20;
    for (std::int64_t offset = 0; offset < faults.long_line_bytes; offset += piece_bytes) {
      write_out(simulator::long_line(std::min(piece_bytes, faults.long_line_bytes - offset), offset));
    }
    write_out("\n");
    std::fflush(stdout);
  }
  sleep_ms(options.startup_ms);

  const std::int64_t last_step = state.global_step + options.steps;
  auto print_val = [&] {
    write_out("step=" + std::to_string(state.global_step) +
              " val_loss=" + format_loss(simulator.noise_free_loss(state)) + "\n");
  };
  if (options.steps == 0) print_val();
  while (state.global_step < last_step) {
    const std::int64_t step = state.global_step + 1;
    switch (simulator::fault_before_step(faults, step)) {
      case simulator::StepFault::crash:
        std::fflush(stdout);
        std::fprintf(stderr, "autolrs simulate: injected crash before step %lld\n", static_cast<long long>(step));
        return 3;
      case simulator::StepFault::hang:
        std::fflush(stdout);
        for (;;) std::this_thread::sleep_for(std::chrono::hours(1));
      case simulator::StepFault::none:
        break;
    }
    if (simulator::poisoned_at(faults, step)) {
      std::fill(state.theta.begin(), state.theta.end(), std::numeric_limits<double>::quiet_NaN());
    }
    const double loss = simulator.step(state, options.lr);
    if (faults.junk_lines) write_out(simulator::junk_before_line(step));
    write_out("step=" + std::to_string(step) + " loss=" + format_loss(loss) + "\n");
    if (step % options.val_every == 0 || step == last_step) print_val();
    std::fflush(stdout);
    sleep_ms(options.step_ms);
  }
  std::fflush(stdout);

  const simulator::Checkpoint checkpoint{start.task.name, simulator::fingerprint(start.task), state};
  if (auto bytes = simulator::checkpoint_bytes_to_write(faults, simulator::serialize_checkpoint(checkpoint))) {
    storage::write_file_atomically(options.save_path, *bytes);
  }
  return 0;
}

}  // namespace autolrs::cli
