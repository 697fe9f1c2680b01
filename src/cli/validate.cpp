#include "cli/validate.hpp"

#include <unistd.h>

#include <filesystem>
#include <system_error>

#include "cli/job_loading.hpp"
#include "orchestrator/journal.hpp"
#include "orchestrator/launch_command.hpp"
#include "process/process_launcher.hpp"
#include "search/autolrs_search.hpp"
#include "spec/input_error.hpp"
#include "storage/filesystem_checkpoint_store.hpp"

namespace autolrs::cli {

namespace fs = std::filesystem;

CLI::App* setup_validate(CLI::App& parent, ValidateOptions& options) {
  CLI::App* command = parent.add_subcommand(
      "validate", "Check a job spec and its trainer, and print the first launch's command; runs nothing");
  command->add_option("spec", options.spec_path, "Job spec (JSON)")->required();
  command->add_option("--run-dir", options.run_dir, "Run directory (overrides the spec's run_dir)");
  command->add_flag("--dry-run", options.dry_run, "Check the job as `autolrs run --dry-run` would run it");
  return command;
}

std::string shell_quote(const std::string& argument) {
  const bool plain = !argument.empty() && argument.find_first_not_of(
                                              "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                              "0123456789@%+=:,./_-") == std::string::npos;
  if (plain) return argument;
  std::string quoted = "'";
  for (const char c : argument) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

std::string check_run_dir(const spec::JobSpec& job) {
  const fs::path run_dir = job.run_dir;
  std::error_code error;
  if (fs::exists(run_dir, error)) {
    if (!fs::is_directory(run_dir, error)) throw spec::InputError("run_dir", "not a directory: " + run_dir.string());
    if (::access(run_dir.c_str(), W_OK | X_OK) != 0) throw spec::InputError("run_dir", "not writable: " + run_dir.string());
    if (fs::exists(run_dir / orchestrator::journal_file_name, error)) return "holds a run: `autolrs run` needs --resume or another run_dir";
    return "exists, writable";
  }
  fs::path existing = run_dir.parent_path();
  while (!existing.empty() && !fs::exists(existing, error) && existing != existing.root_path()) existing = existing.parent_path();
  if (!fs::is_directory(existing, error) || ::access(existing.c_str(), W_OK | X_OK) != 0) {
    throw spec::InputError("run_dir", "cannot be created: " + existing.string() + " is not a writable directory");
  }
  return "will be created (in " + existing.string() + ")";
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

int run_validate(const ValidateOptions& options, std::ostream& out) {
  const LoadedJob loaded = load_job(options.spec_path, options.run_dir, options.dry_run);
  const spec::JobSpec& job = loaded.job;
  check_slot_launchers(job);
  const std::string run_dir_state = check_run_dir(job);

  search::AutoLrsSearch planner(job);
  const search::LaunchRequest first = planner.next_launches(1).front();
  const std::string save_path = storage::staging_checkpoint_path(job.run_dir, orchestrator::checkpoint_name(first));
  const orchestrator::LaunchCommand command =
      orchestrator::build_launch_command(job, first, 0, save_path, job.initial_checkpoint);

  out << "spec: " << job.spec_path << ": valid\n";
  out << "trainer: " << resolve_trainer_program(job.trainer) << "\n";
  out << "run_dir: " << job.run_dir << " (" << run_dir_state << ")\n";
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
  return 0;
}

}  // namespace autolrs::cli
