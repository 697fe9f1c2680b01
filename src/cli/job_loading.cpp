#include "cli/job_loading.hpp"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "journal/json_lines_journal.hpp"
#include "process/process_launcher.hpp"
#include "spec/input_error.hpp"

namespace autolrs::cli {

namespace fs = std::filesystem;

std::string self_executable() {
  std::error_code error;
  const fs::path path = fs::read_symlink("/proc/self/exe", error);
  if (error) throw std::runtime_error("cannot find the autolrs binary: " + error.message());
  return path.string();
}

spec::TrainerSpec simulator_trainer(const std::string& autolrs_binary, const spec::JobSpec& job) {
  spec::TrainerSpec trainer = job.trainer;
  trainer.command = {autolrs_binary, "simulate", "--lr", "{lr}", "--steps", "{steps}",
                     "--save", "{save_checkpoint}", "--seed", "{seed}"};
  for (const auto& [name, value] : job.simulator_options) {
    std::string option = "--" + name;
    std::replace(option.begin(), option.end(), '_', '-');
    if (value == "false") continue;
    trainer.command.push_back(option);
    if (value != "true") trainer.command.push_back(value);
  }
  trainer.resume_args = {"--load", "{load_checkpoint}"};
  trainer.loss = {R"(^step=(?P<step>\d+) loss=(?P<loss>\S+))", spec::StreamSelector::stdout_stream};
  trainer.val_loss = spec::LossPatternSpec{R"(^step=(?P<step>\d+) val_loss=(?P<loss>\S+))", spec::StreamSelector::stdout_stream};
  return trainer;
}

namespace {

std::string read_spec_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw spec::InputError(path, "cannot read the job spec");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

std::string resolve_trainer_program(const spec::TrainerSpec& trainer) {
  const std::string& program = trainer.command.front();
  const std::optional<std::string> resolved = process::resolve_program(program, trainer.env, trainer.workdir);
  if (resolved) return *resolved;
  if (program.find('/') != std::string::npos) {
    const fs::path path = fs::path(program).is_absolute() ? fs::path(program) : fs::path(trainer.workdir) / program;
    throw spec::InputError("trainer.command[0]", "not an executable file: " + path.string());
  }
  throw spec::InputError("trainer.command[0]", "program not found in PATH: " + program);
}

LoadedJob load_job(const std::string& spec_path, const std::string& run_dir_override, bool dry_run) {
  const fs::path absolute_spec = fs::absolute(spec_path).lexically_normal();
  LoadedJob loaded{spec::parse_job_spec(read_spec_file(spec_path), absolute_spec.string()), nullptr};
  spec::JobSpec& job = loaded.job;
  if (!run_dir_override.empty()) job.run_dir = fs::absolute(run_dir_override).lexically_normal().string();
  if (dry_run) {
    job.trainer = simulator_trainer(self_executable(), job);
  } else {
    resolve_trainer_program(job.trainer);
  }
  loaded.identity = {{"spec", job.source}, {"dry_run", dry_run}};
  return loaded;
}

storage::RunDirLock prepare_run_dir(const spec::JobSpec& job, bool resume) {
  const fs::path run_dir = job.run_dir;
  const fs::path journal_path = run_dir / orchestrator::journal_file_name;
  const spec::InputError nothing_to_resume("--resume", "no run to resume in " + run_dir.string());
  std::error_code error;
  // Refused before anything is created: a mistyped run dir with --resume leaves no folder behind.
  if (resume && !fs::is_regular_file(journal_path, error)) throw nothing_to_resume;
  for (const char* folder : {"logs", "checkpoints"}) {
    fs::create_directories(run_dir / folder, error);
    if (error) throw spec::InputError("run_dir", "cannot create " + (run_dir / folder).string() + ": " + error.message());
  }
  if (::access(run_dir.c_str(), W_OK) != 0) throw spec::InputError("run_dir", "not writable: " + run_dir.string());
  // Locked before the journal is read, so two autolrs started on one run dir cannot both begin a run.
  std::optional<storage::RunDirLock> lock = [&] {
    try {
      return storage::RunDirLock::try_acquire(run_dir.string());
    } catch (const std::runtime_error& failure) {
      throw spec::InputError("run_dir", failure.what());
    }
  }();
  if (!lock) {
    const std::optional<long> holder = storage::RunDirLock::holder_pid(run_dir.string());
    throw spec::InputError("run_dir", run_dir.string() + " is in use by another autolrs" +
                                          (holder ? " (pid " + std::to_string(*holder) + ")" : std::string()) +
                                          "; wait for it to end or stop it, or choose another run_dir");
  }
  // A journal without a complete record (autolrs was killed before its first append finished)
  // holds no run: a new one may start there, and there is nothing to resume.
  const bool has_journal = fs::is_regular_file(journal_path, error) &&
                           !journal::JsonLinesJournal(run_dir.string()).read_all().empty();
  if (has_journal && !resume) {
    throw spec::InputError("run_dir", run_dir.string() +
                                          " already holds a run; continue it with --resume, or choose another run_dir");
  }
  if (!has_journal && resume) throw nothing_to_resume;
  return std::move(*lock);
}

}  // namespace autolrs::cli
