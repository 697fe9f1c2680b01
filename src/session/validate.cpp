#include "session/validate.hpp"

#include <map>

#include "orchestrator/launch_command.hpp"
#include "process/process_launcher.hpp"
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
  out << "run_dir: " << job.run_dir << " (" << run_dir_state << ")\n";
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
  out << "to run it by hand:\n  cd " << shell_quote(command.workdir) << " && " << (env_words.empty() ? "" : "env " + env_words)
      << argv_words << "\n";
}

}  // namespace autolrs::session
