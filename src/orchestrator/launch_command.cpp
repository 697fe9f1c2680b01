#include "orchestrator/launch_command.hpp"

#include <cstdio>
#include <map>

#include <re2/re2.h>

#include "spec/command_template.hpp"
#include "trainer_output/serve_protocol.hpp"

namespace autolrs::orchestrator {

std::string checkpoint_name(const search::LaunchRequest& request) {
  if (request.kind == search::LaunchKind::probe) return request.id();
  char name[32];
  std::snprintf(name, sizeof name, "step-%09ld", request.start_step + request.steps);
  return name;
}

bool is_checkpoint_name(const std::string& name) {
  static const RE2 shape(R"(step-[0-9]+|stage-[0-9]+-probe-[0-9]+(-r[0-9]+)?(-decay)?(-retry-[0-9]+)?)");
  return RE2::FullMatch(name, shape);
}

LaunchCommand build_launch_command(const spec::JobSpec& job, const search::LaunchRequest& request, int slot,
                                   const std::string& save_path, const std::optional<std::string>& load_path) {
  std::map<std::string, std::string> values = {
      {"lr", spec::format_number(request.lr)},
      {"lr_end", spec::format_number(request.lr_end.value_or(request.lr))},
      {"steps", std::to_string(request.steps)},
      {"save_checkpoint", save_path},
      {"load_checkpoint", load_path.value_or("")},
      {"global_step", std::to_string(request.start_step)},
      {"stage", std::to_string(request.stage)},
      {"probe", std::to_string(request.probe)},
      {"seed", std::to_string(job.seed)},
      {"run_dir", job.run_dir},
  };
  const bool serve = job.trainer.mode == spec::TrainerMode::serve;
  std::vector<std::string> argv_template = job.trainer.command;
  if (load_path && !serve) argv_template.insert(argv_template.end(), job.trainer.resume_args.begin(), job.trainer.resume_args.end());
  const spec::SlotSpec& slot_spec = job.slots.at(static_cast<size_t>(slot));
  argv_template.insert(argv_template.begin(), slot_spec.launcher.begin(), slot_spec.launcher.end());
  LaunchCommand command;
  command.argv = spec::expand_command(argv_template, values);
  command.env = job.trainer.env;
  for (const auto& [name, value] : slot_spec.env) command.env[name] = value;
  // Mark the launch's processes: the launcher ends those that outlive it, a resume those of a killed run.
  command.env[run_dir_env_var] = job.run_dir;
  // A serve-mode trainer outlives the launch: it is marked with its slot, the same for all its launches.
  command.env[launch_env_var] = serve ? "serve-slot-" + std::to_string(slot) : request.id();
  command.workdir = job.trainer.workdir;
  const std::string log_stem = job.run_dir + "/logs/" + request.id();
  command.stdout_log = log_stem + ".stdout.log";
  command.stderr_log = log_stem + ".stderr.log";
  command.timeout_s = job.trainer.timeout_s;
  command.idle_timeout_s = job.trainer.idle_timeout_s;
  command.slot = slot;
  if (serve) {
    const trainer_output::ServeCommand serve_command{
        request.id(), request.lr,         request.lr_end.value_or(request.lr), request.steps, load_path, save_path,
        job.seed,     request.start_step, request.stage,                       request.probe, job.run_dir};
    command.serve = ServeRequest{trainer_output::serve_command_line(serve_command), request.id()};
  }
  return command;
}

}  // namespace autolrs::orchestrator
