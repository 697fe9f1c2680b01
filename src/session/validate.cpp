#include "session/validate.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "orchestrator/launch_command.hpp"
#include "process/process_launcher.hpp"
#include "search/peak_decay_search.hpp"
#include "search/search_strategy.hpp"
#include "search/stage_plan.hpp"
#include "session/job_loading.hpp"
#include "session/run_dir.hpp"
#include "search/stage_plan.hpp"
#include "session/run_identity.hpp"
#include "spec/command_template.hpp"
#include "spec/input_error.hpp"
#include "storage/filesystem_checkpoint_store.hpp"

namespace autolrs::session {

std::string shell_quote(const std::string& argument) {
  const bool plain = !argument.empty() && argument.find_first_not_of(
                                              "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                              "0123456789@%+=:,./_-") == std::string::npos;
  if (plain) return argument;
  std::string quoted = "'";
  for (const char c : argument) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

namespace {

/// Each slot's launcher program must resolve like the trainer's.
void check_slot_launchers(const spec::JobSpec& job) {
  for (size_t slot = 0; slot < job.slots.size(); ++slot) {
    const spec::SlotSpec& slot_spec = job.slots[slot];
    if (slot_spec.launcher.empty()) continue;
    std::map<std::string, std::string> env = job.trainer.env;
    for (const auto& [name, value] : slot_spec.env) env[name] = value;
    if (!process::resolve_program(slot_spec.launcher.front(), env, job.trainer.workdir)) {
      throw spec::InputError("slots[" + std::to_string(slot) + "].launcher[0]",
                             "program not found: " + slot_spec.launcher.front());
    }
  }
}

/// Whether any argument of the trainer's command or resume args passes `{load_checkpoint}`.
bool loads_checkpoints(const spec::TrainerSpec& trainer) {
  const auto passes = [](const std::vector<std::string>& arguments) {
    return std::any_of(arguments.begin(), arguments.end(),
                       [](const std::string& argument) { return argument.find("{load_checkpoint}") != std::string::npos; });
  };
  // A serve-mode trainer gets load_checkpoint in every command.
  return trainer.mode == spec::TrainerMode::serve || passes(trainer.command) || passes(trainer.resume_args);
}

/// The default search's plan (when nothing fails): its rounds, the hold and the decay, and how often
/// the trainer must print a train loss for the shortest decay tail to be judged on a few of them.
void print_peak_decay_plan(const spec::JobSpec& job, std::ostream& out) {
  const search::PeakDecaySearch search(job);
  const std::vector<long>& horizons = search.horizons();
  const long start = job.warmup.steps;
  const long end = job.total_steps;
  char line[256];
  if (horizons.empty()) {
    std::snprintf(line, sizeof line, "plan (default preset): too short to search; a %s decay from lr %g over steps %ld-%ld in %d launches\n",
                  search.progress().decay->shape.c_str(), std::sqrt(job.search.lr_min * job.search.lr_max), start, end,
                  search.progress().planned_stages);
    out << line;
    return;
  }
  std::snprintf(line, sizeof line, "plan (default preset): the peak among %d LRs in [%g, %g] by successive halving\n",
                job.search.probes_per_stage, job.search.lr_min, job.search.lr_max);
  out << line << "  round  candidates  chain_to_step  decay_tail\n";
  long shortest_tail = 0;
  for (size_t round = 0; round < horizons.size(); ++round) {
    const long tail = search::PeakDecaySearch::tail_steps(horizons[round]);
    shortest_tail = shortest_tail == 0 ? tail : std::min(shortest_tail, tail);
    std::snprintf(line, sizeof line, "  %5zu  %10d  %13ld  %10ld\n", round, search.round_sizes()[round], start + horizons[round], tail);
    out << line;
  }
  const long hold_end = start + search.hold_end();
  const bool auto_shape = job.search.decay_shape == "auto";
  std::snprintf(line, sizeof line, "  stage 0: the winner holds its LR to step %ld; stages 1-%d: a %sdecay to 0 over steps %ld-%ld%s\n",
                hold_end, search.progress().planned_stages - 1, auto_shape ? "" : (job.search.decay_shape + " ").c_str(),
                hold_end, end, auto_shape ? ", cubic or linear as the last round's decay tails say" : "");
  out << line;
  out << "loss lines: a candidate is judged by the trend of the train losses over its decay tail's last half (or its last val loss); "
         "print one at least every "
      << std::max(1L, shortest_tail / 4) << " steps (the shortest decay tail runs " << shortest_tail << ")\n";
}

/// The stages the run plans (when nothing fails) and how often the trainer must print a train loss
/// for the shortest probe to be forecast (search::min_forecast_points losses).
void print_stage_plan(const spec::JobSpec& job, std::ostream& out) {
  if (job.search.preset == "default") return print_peak_decay_plan(job, out);
  const search::SearchStrategy strategy = search::strategy_for(job.search);
  out << "stage plan (" << job.search.preset << " preset):\n  stage  start_step    steps  probe_steps  decay_tail  probes\n";
  long remaining = job.total_steps - job.warmup.steps;
  long start = job.warmup.steps;
  long shortest_probe = 0;
  char row[128];
  for (int stage = 0; remaining > 0; ++stage) {
    const long length = search::stage_steps(job.search, stage, remaining);
    const long probe_length = search::probe_steps(job.search, length);
    if (probe_length >= search::min_forecast_points) {
      const int probes = search::planned_probes(job.search, stage);
      const bool tails = strategy.decay_factor > 0 && length < remaining && probes > 1;
      std::snprintf(row, sizeof row, "  %5d  %10ld  %7ld  %11ld  %10ld  %6d\n", stage, start, length, probe_length,
                    tails ? search::decay_tail_steps(strategy, probe_length) : 0L, probes);
      shortest_probe = shortest_probe == 0 ? probe_length : std::min(shortest_probe, probe_length);
    } else {
      std::snprintf(row, sizeof row, "  %5d  %10ld  %7ld  %11s  %10s  %6s  (too short to probe: the last LR goes on)\n",
                    stage, start, length, "-", "-", "-");
    }
    out << row;
    start += length;
    remaining -= length;
  }
  if (shortest_probe > 0) {
    out << "loss lines: a probe is judged on at least " << search::min_forecast_points
        << " train losses; print one at least every " << shortest_probe / search::min_forecast_points
        << " steps (the shortest probe runs " << shortest_probe << ")\n";
  }
}

}  // namespace

std::vector<std::string> job_warnings(const spec::JobSpec& job) {
  const spec::SearchSpec& search = job.search;
  const long longest_probe = search::probe_steps(search, search.max_stage_steps);
  const long first_probe = search::probe_steps(search, search.first_stage_steps);
  if (first_probe >= search::min_forecast_points) return {};
  const std::string what = longest_probe < search::min_forecast_points ? "no stage is probed" : "the first stages are not probed";
  return {"search.probe_fraction " + spec::format_number(search.probe_fraction) + " makes probes of " +
          std::to_string(first_probe) + " step(s) in the first stage (" + std::to_string(longest_probe) +
          " at most); a stage whose probes would be shorter than " + std::to_string(search::min_forecast_points) +
          " steps is trained at a guessed LR without probes: " + what};
}

void validate_job(const spec::JobSpec& job, std::ostream& out) {
  check_slot_launchers(job);
  const std::string run_dir_state = describe(inspect_run_dir(job.run_dir));

  const search::LaunchRequest first = make_planner(job, AutoLrsRun{})->next_launches(1).front();
  const std::string save_path = storage::staging_checkpoint_path(job.run_dir, orchestrator::checkpoint_name(first));
  const orchestrator::LaunchCommand command =
      orchestrator::build_launch_command(job, first, 0, save_path, job.initial_checkpoint);

  out << "spec: " << job.spec_path << ": valid\n";
  out << "trainer: " << resolve_trainer_program(job.trainer) << "\n";
  if (!loads_checkpoints(job.trainer)) {
    out << "warning: trainer.resume_args: {load_checkpoint} appears nowhere in trainer.command or trainer.resume_args: "
           "every launch will train from scratch (a run that continues from a checkpoint stops as soon as it sees that)\n";
  }
  out << "run_dir: " << job.run_dir << " (" << run_dir_state << ")\n";
  print_stage_plan(job, out);
  for (const std::string& warning : job_warnings(job)) out << "warning: " << warning << "\n";
  out << "first launch: " << first.id() << " (slot 0, " << first.steps << " steps at lr " << first.lr << ")\n";
  out << "  workdir: " << command.workdir << "\n";
  std::string env_words;
  for (const auto& [name, value] : command.env) {
    out << "  env: " << name << "=" << value << "\n";
    env_words += shell_quote(name + "=" + value) + " ";
  }
  out << "  stdout: " << command.stdout_log << "\n  stderr: " << command.stderr_log << "\n";
  std::string argv_words;
  for (const std::string& argument : command.argv) argv_words += (argv_words.empty() ? "" : " ") + shell_quote(argument);
  out << "  argv: " << argv_words << "\n";
  if (command.serve) {
    // The line ends with '\n' already.
    out << "  mode: serve (this argv starts slot 0's trainer; each launch is one command line on its stdin)\n";
    out << "  first command: " << command.serve->line;
  }
  out << "to run it by hand:\n  cd " << shell_quote(command.workdir) << " && ";
  if (command.serve) out << "printf '%s\\n' " << shell_quote(command.serve->line.substr(0, command.serve->line.size() - 1)) << " | ";
  out << (env_words.empty() ? "" : "env " + env_words) << argv_words << "\n";
}

}  // namespace autolrs::session
