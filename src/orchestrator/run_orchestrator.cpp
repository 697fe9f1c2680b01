#include "orchestrator/run_orchestrator.hpp"

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <limits>
#include <mutex>
#include <set>
#include <thread>

#include "search/search_json.hpp"
#include "spec/command_template.hpp"
#include "spec/input_error.hpp"

namespace autolrs::orchestrator {

using search::LaunchKind;
using search::LaunchOutcome;
using search::LaunchRequest;
using search::OutcomeStatus;

const char* to_string(RunStatus status) {
  switch (status) {
    case RunStatus::running: return "running";
    case RunStatus::completed: return "completed";
    case RunStatus::failed: return "failed";
    case RunStatus::interrupted: return "interrupted";
  }
  return "?";
}

namespace {

std::string checkpoint_name_for_step(long step) {
  char name[32];
  std::snprintf(name, sizeof name, "step-%09ld", step);
  return name;
}

std::string checkpoint_name(const LaunchRequest& request) {
  return request.kind == LaunchKind::probe ? request.id() : checkpoint_name_for_step(request.start_step + request.steps);
}

bool is_main(const LaunchRequest& request) { return request.kind != LaunchKind::probe; }

/// Why a launch that did not succeed failed, in words for the console and summary.
std::string describe_failure(const LaunchResult& result, const std::string& stdout_log) {
  char text[256];
  switch (result.end) {
    case LaunchEnd::exited:
      std::snprintf(text, sizeof text, "exited with status %d (see %s)", result.exit_code, stdout_log.c_str());
      return text;
    case LaunchEnd::signaled:
      std::snprintf(text, sizeof text, "killed by signal %d", result.signal);
      return text;
    case LaunchEnd::timed_out: return "ran past trainer.timeout_s";
    case LaunchEnd::idle_timed_out: return "printed nothing for trainer.idle_timeout_s (hung?)";
    case LaunchEnd::stopped_by_observer: return "stopped";
    case LaunchEnd::interrupted: return "interrupted";
    case LaunchEnd::failed_to_start: return "could not start: " + result.message;
  }
  return "?";
}

/// Paths under the JSON documents where `before` and `after` differ, e.g. "/search/lr_min".
std::string changed_paths(const nlohmann::json& before, const nlohmann::json& after) {
  std::string paths;
  for (const nlohmann::json& operation : nlohmann::json::diff(before, after)) {
    if (!paths.empty()) paths += ", ";
    paths += operation.at("path").get<std::string>();
  }
  return paths;
}

}  // namespace

struct RunOrchestrator::PreparedLaunch {
  LaunchRequest request;
  int slot = 0;
  std::string checkpoint_name;
  std::string staging_checkpoint;
  LaunchCommand command;
  std::optional<double> reference_loss;  ///< for early divergence stops
};

struct RunOrchestrator::Completion {
  LaunchReport report;
  int slot = 0;
  bool interrupted = false;
};

RunOrchestrator::RunOrchestrator(spec::JobSpec job, nlohmann::json run_identity, RunContext context)
    : m_job(std::move(job)),
      m_run_identity(std::move(run_identity)),
      m_context(std::move(context)),
      m_parser(m_job.trainer.loss, m_job.trainer.val_loss) {
  if (m_job.initial_checkpoint) m_step_checkpoints[0] = *m_job.initial_checkpoint;
}

double RunOrchestrator::elapsed_s() const {
  return m_previous_elapsed_s + (m_context.clock.now_s() - m_session_start_s);
}

RunState RunOrchestrator::state(const search::LaunchPlanner& search, RunStatus status) const {
  RunState state{m_job, search.progress(), m_reports, RunStatus::running, 0, "", std::nullopt};
  state.status = status;
  state.wall_time_s = elapsed_s();
  const auto latest = m_step_checkpoints.rbegin();
  if (latest != m_step_checkpoints.rend() && latest->first > 0) state.final_checkpoint = latest->second;
  state.failure = search.failure();
  return state;
}

void RunOrchestrator::replay_journal(search::LaunchPlanner& search) {
  const std::vector<nlohmann::json> records = m_context.journal.read_all();
  if (records.empty() || records.front().value("type", "") != "started") {
    throw spec::InputError("--resume", "no run is recorded in " + m_job.run_dir + " (run without --resume to start one)");
  }
  const nlohmann::json& recorded_identity = records.front().at("identity");
  if (recorded_identity != m_run_identity) {
    throw spec::InputError("--resume", "the job changed since the run started (" +
                                           changed_paths(recorded_identity, m_run_identity) +
                                           "); start a new run in another run_dir");
  }
  // A run that stopped on a failure is resumed by running the launch whose result failed it (the
  // last result) once more: its result is set aside, and the journal says so for later resumes.
  std::set<size_t> set_aside;
  for (const nlohmann::json& record : records) {
    if (record.value("type", "") == "retried") set_aside.insert(record.at("result_record").get<size_t>());
  }
  if (records.back().value("type", "") == "finished" && records.back().value("status", "") == to_string(RunStatus::failed)) {
    for (size_t i = records.size(); i-- > 1;) {
      if (records[i].value("type", "") != "result") continue;
      set_aside.insert(i);
      m_context.journal.append({{"type", "retried"}, {"result_record", i}});
      break;
    }
  }
  for (size_t i = 1; i < records.size(); ++i) {
    const nlohmann::json& record = records[i];
    const std::string type = record.value("type", "");
    if (type == "result" && set_aside.count(i) != 0) continue;
    if (type == "issued") {
      const std::vector<LaunchRequest> issued = search.next_launches(record.at("free_slots").get<int>());
      if (issued != record.at("launches").get<std::vector<LaunchRequest>>()) {
        throw spec::InputError("journal.jsonl:" + std::to_string(i + 1),
                               "the search decides differently from the journal (was it written by another autolrs version?)");
      }
    } else if (type == "result") {
      LaunchReport report;
      report.request = record.at("launch").get<LaunchRequest>();
      report.outcome = record.at("outcome").get<LaunchOutcome>();
      report.wall_s = record.at("wall_s").get<double>();
      report.checkpoint = record.at("checkpoint").get<std::string>();
      report.stdout_log = record.at("stdout_log").get<std::string>();
      report.stderr_log = record.at("stderr_log").get<std::string>();
      m_previous_elapsed_s = record.at("elapsed_s").get<double>();
      search.record(report.request, report.outcome);
      if (is_main(report.request) && report.outcome.status == OutcomeStatus::succeeded) {
        m_step_checkpoints[report.request.start_step + report.request.steps] = report.checkpoint;
      }
      const LaunchRequest request = report.request;
      m_reports.push_back(std::move(report));
      // Again, as after the original result: a kill between journaling it and pruning left files.
      prune_checkpoints(request);
    }
  }
}

LaunchCommand RunOrchestrator::build_command(const LaunchRequest& request, int slot, const std::string& save_path) const {
  std::map<std::string, std::string> values = {
      {"lr", spec::format_number(request.lr)},
      {"steps", std::to_string(request.steps)},
      {"save_checkpoint", save_path},
      {"load_checkpoint", ""},
      {"global_step", std::to_string(request.start_step)},
      {"stage", std::to_string(request.stage)},
      {"probe", std::to_string(request.probe)},
      {"seed", std::to_string(m_job.seed)},
      {"run_dir", m_job.run_dir},
  };
  std::vector<std::string> argv_template = m_job.trainer.command;
  const auto start_checkpoint = m_step_checkpoints.find(request.start_step);
  if (start_checkpoint != m_step_checkpoints.end()) {
    values["load_checkpoint"] = start_checkpoint->second;
    argv_template.insert(argv_template.end(), m_job.trainer.resume_args.begin(), m_job.trainer.resume_args.end());
  }
  const spec::SlotSpec& slot_spec = m_job.slots.at(static_cast<size_t>(slot));
  argv_template.insert(argv_template.begin(), slot_spec.launcher.begin(), slot_spec.launcher.end());
  LaunchCommand command;
  command.argv = spec::expand_command(argv_template, values);
  command.env = m_job.trainer.env;
  for (const auto& [name, value] : slot_spec.env) command.env[name] = value;
  command.env[run_dir_env_var] = m_job.run_dir;
  command.workdir = m_job.trainer.workdir;
  const std::string log_stem = m_job.run_dir + "/logs/" + request.id();
  command.stdout_log = log_stem + ".stdout.log";
  command.stderr_log = log_stem + ".stderr.log";
  command.timeout_s = m_job.trainer.timeout_s;
  command.idle_timeout_s = m_job.trainer.idle_timeout_s;
  return command;
}

RunOrchestrator::Completion RunOrchestrator::run_launch(const PreparedLaunch& launch,
                                                        const std::function<void(bool, double)>& on_loss) {
  const LaunchRequest& request = launch.request;
  const LaunchCommand& command = launch.command;
  const std::string& staging = launch.staging_checkpoint;
  std::vector<search::RawLoss> train, val;
  search::DivergenceMonitor divergence(m_job.trainer.divergence_factor, launch.reference_loss);
  std::optional<double> diverged_loss;
  const LineObserver observer = [&](OutputStream stream, std::string_view line) {
    const trainer_output::ParsedLine parsed = m_parser.parse(stream, line);
    if (parsed.val) {
      val.push_back({parsed.val->step, parsed.val->loss});
      on_loss(true, parsed.val->loss);
    }
    if (parsed.train) {
      train.push_back({parsed.train->step, parsed.train->loss});
      on_loss(false, parsed.train->loss);
      if (divergence.diverged_after(parsed.train->loss)) {
        diverged_loss = parsed.train->loss;
        return false;
      }
    }
    return true;
  };
  const LaunchResult result = m_context.launcher.run(command, observer);

  Completion completion;
  completion.slot = launch.slot;
  LaunchReport& report = completion.report;
  report.request = request;
  report.wall_s = result.wall_s;
  report.stdout_log = command.stdout_log;
  report.stderr_log = command.stderr_log;
  if (result.end == LaunchEnd::interrupted) {
    completion.interrupted = true;
    return completion;
  }
  LaunchOutcome& outcome = report.outcome;
  const bool ran_to_end = result.end == LaunchEnd::exited;
  outcome.train = search::place_on_launch_axis(train, request.steps, ran_to_end);
  outcome.val = search::place_on_launch_axis(val, request.steps, ran_to_end);
  const bool non_finite = std::any_of(outcome.train.begin(), outcome.train.end(),
                                      [](const search::LossPoint& point) { return !std::isfinite(point.loss); });
  char text[160];
  if (diverged_loss || non_finite) {
    outcome.status = OutcomeStatus::diverged;
    std::snprintf(text, sizeof text, "loss diverged (%g)",
                  diverged_loss.value_or(std::numeric_limits<double>::quiet_NaN()));
    outcome.reason = text;
  } else if (!result.succeeded()) {
    outcome.status = OutcomeStatus::failed;
    outcome.reason = describe_failure(result, command.stdout_log);
  } else if (outcome.train.empty()) {
    outcome.status = OutcomeStatus::failed;
    outcome.reason = "no line matched trainer.loss.pattern (see " + command.stdout_log + ")";
  } else if (!m_context.checkpoints.is_valid(staging)) {
    outcome.status = OutcomeStatus::failed;
    outcome.reason = "no checkpoint written at " + staging;
  } else {
    outcome.status = OutcomeStatus::succeeded;
    report.checkpoint = m_context.checkpoints.promote(staging, launch.checkpoint_name);
  }
  if (outcome.status != OutcomeStatus::succeeded) m_context.checkpoints.remove(staging);
  return completion;
}

void RunOrchestrator::prune_checkpoints(const LaunchRequest& finished) {
  if (finished.kind != LaunchKind::stage) return;
  // The finished stage's probes are no longer needed: the next stage starts from the stage's checkpoint.
  for (const LaunchReport& report : m_reports) {
    if (report.request.kind == LaunchKind::probe && report.request.stage == finished.stage && !report.checkpoint.empty()) {
      m_context.checkpoints.remove(report.checkpoint);
    }
  }
  // Keep the newest keep_checkpoints main checkpoints; the user's initial checkpoint is never ours to delete.
  while (static_cast<int>(m_step_checkpoints.size()) > m_job.keep_checkpoints) {
    const auto oldest = m_step_checkpoints.begin();
    if (oldest->first == 0 && m_job.initial_checkpoint) {
      m_step_checkpoints.erase(oldest);
      continue;
    }
    m_context.checkpoints.remove(oldest->second);
    m_step_checkpoints.erase(oldest);
  }
}

void RunOrchestrator::accept_report(search::LaunchPlanner& search, LaunchReport report) {
  m_context.journal.append({{"type", "result"},
                            {"launch", report.request},
                            {"outcome", report.outcome},
                            {"wall_s", report.wall_s},
                            {"elapsed_s", elapsed_s()},
                            {"checkpoint", report.checkpoint},
                            {"stdout_log", report.stdout_log},
                            {"stderr_log", report.stderr_log}});
  search.record(report.request, report.outcome);
  const LaunchRequest request = report.request;
  if (is_main(request) && report.outcome.status == OutcomeStatus::succeeded) {
    m_step_checkpoints[request.start_step + request.steps] = report.checkpoint;
  }
  m_reports.push_back(std::move(report));
  prune_checkpoints(request);
}

RunStatus RunOrchestrator::run(search::LaunchPlanner& search, bool resume) {
  m_session_start_s = m_context.clock.now_s();
  if (resume) {
    replay_journal(search);
  } else {
    m_context.journal.append({{"type", "started"}, {"identity", m_run_identity}});
  }

  std::mutex mutex;           // guards completions and the search
  std::mutex observer_mutex;  // serializes observer calls (workers report losses as they come)
  std::condition_variable completed;
  std::deque<Completion> completions;
  std::vector<std::thread> workers;
  std::vector<bool> slot_busy(m_job.slots.size(), false);
  // Launches handed out before an interruption start again first, from their start checkpoints.
  std::deque<LaunchRequest> to_start(search.outstanding().begin(), search.outstanding().end());
  int running = 0;
  bool interrupted = false;
  const auto stop_requested = [&] { return m_context.stop_signal && m_context.stop_signal->load() != 0; };
  const auto notify = [&](const auto& call) {
    std::lock_guard guard(observer_mutex);
    for (RunObserver* observer : m_context.observers) call(*observer);
  };

  while (true) {
    std::unique_lock lock(mutex);
    while (!stop_requested() && !interrupted) {
      const auto free_slot = std::find(slot_busy.begin(), slot_busy.end(), false);
      if (free_slot == slot_busy.end()) break;
      if (to_start.empty()) {
        const int free_slots = static_cast<int>(std::count(slot_busy.begin(), slot_busy.end(), false));
        const std::vector<LaunchRequest> issued = search.next_launches(free_slots);
        if (issued.empty()) break;
        m_context.journal.append({{"type", "issued"}, {"free_slots", free_slots}, {"launches", issued}});
        to_start.insert(to_start.end(), issued.begin(), issued.end());
      }
      const LaunchRequest request = to_start.front();
      to_start.pop_front();
      const int slot = static_cast<int>(free_slot - slot_busy.begin());
      *free_slot = true;
      ++running;
      notify([&](RunObserver& o) { o.on_launch_started(request, slot, state(search, RunStatus::running)); });
      PreparedLaunch launch;
      launch.request = request;
      launch.slot = slot;
      launch.checkpoint_name = checkpoint_name(request);
      launch.staging_checkpoint = m_context.checkpoints.staging_path(launch.checkpoint_name);
      launch.command = build_command(request, slot, launch.staging_checkpoint);
      launch.reference_loss = search.reference_loss();
      workers.emplace_back([this, launch = std::move(launch), &mutex, &completions, &completed, &notify] {
        const auto on_loss = [&](bool is_val, double loss) {
          notify([&](RunObserver& o) { o.on_loss(launch.request, is_val, loss); });
        };
        Completion completion;
        try {
          completion = run_launch(launch, on_loss);
        } catch (const std::exception& error) {
          // An IO failure around one launch (log file, checkpoint rename) fails that launch, not the run.
          completion.slot = launch.slot;
          completion.report.request = launch.request;
          completion.report.outcome.reason = std::string("autolrs: ") + error.what();
        }
        std::lock_guard guard(mutex);
        completions.push_back(std::move(completion));
        completed.notify_one();
      });
    }
    if (running == 0) break;
    completed.wait(lock, [&] { return !completions.empty(); });
    Completion completion = std::move(completions.front());
    completions.pop_front();
    --running;
    slot_busy[static_cast<size_t>(completion.slot)] = false;
    if (completion.interrupted) {
      interrupted = true;
      continue;
    }
    accept_report(search, completion.report);
    notify([&](RunObserver& o) { o.on_launch_finished(m_reports.back(), state(search, RunStatus::running)); });
  }
  for (std::thread& worker : workers) worker.join();

  RunStatus status = RunStatus::interrupted;
  if (search.failure()) {
    status = RunStatus::failed;
  } else if (search.finished()) {
    status = RunStatus::completed;
  }
  if (status != RunStatus::interrupted) m_context.journal.append({{"type", "finished"}, {"status", to_string(status)}});
  notify([&](RunObserver& o) { o.on_run_finished(state(search, status)); });
  return status;
}

}  // namespace autolrs::orchestrator
