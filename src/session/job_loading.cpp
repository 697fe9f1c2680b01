#include "session/job_loading.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <system_error>

#include "process/process_launcher.hpp"
#include "spec/input_error.hpp"

namespace autolrs::session {

namespace fs = std::filesystem;

std::string self_executable() {
  std::error_code error;
  const fs::path path = fs::read_symlink("/proc/self/exe", error);
  if (error) throw std::runtime_error("cannot find the autolrs binary: " + error.message());
  return path.string();
}

spec::TrainerSpec simulator_trainer(const std::string& autolrs_binary, const spec::JobSpec& job) {
  spec::TrainerSpec trainer = job.trainer;
  trainer.command = {autolrs_binary, "simulate", "--lr", "{lr}", "--lr-end", "{lr_end}", "--steps", "{steps}",
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

/// The whole file; throws spec::InputError(path, "cannot read <what>").
std::string read_input_file(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw spec::InputError(path, "cannot read " + what);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

search::ReplayedSchedule load_schedule_file(const std::string& path) {
  return search::parse_schedule_csv(read_input_file(path, "the schedule file"), path);
}

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

spec::JobSpec load_job(const std::string& spec_path, const std::string& run_dir_override, bool dry_run) {
  const fs::path absolute_spec = fs::absolute(spec_path).lexically_normal();
  spec::JobSpec job = spec::parse_job_spec(read_input_file(spec_path, "the job spec"), absolute_spec.string());
  if (!run_dir_override.empty()) job.run_dir = fs::absolute(run_dir_override).lexically_normal().string();
  // Checked here, before any run dir is made: every launch would fail to start.
  std::error_code error;
  if (!fs::is_directory(job.trainer.workdir, error)) {
    throw spec::InputError("trainer.workdir", "not a directory: " + job.trainer.workdir);
  }
  if (dry_run) {
    job.trainer = simulator_trainer(self_executable(), job);
  } else {
    resolve_trainer_program(job.trainer);
  }
  return job;
}

}  // namespace autolrs::session
