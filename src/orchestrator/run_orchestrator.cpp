#include "orchestrator/run_orchestrator.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <deque>
#include <limits>
#include <map>
#include <memory>
#include <stdexcept>

#include "orchestrator/journal_replay.hpp"
#include "orchestrator/launch_command.hpp"
#include "orchestrator/resume_changes.hpp"
#include "orchestrator/trainer_checks.hpp"
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

bool is_main(const LaunchRequest& request) { return request.kind != LaunchKind::probe; }

/// The last lines a launch printed on one stream, as its observer saw them.
struct OutputTail {
  static constexpr size_t kept_lines = 5;
  static constexpr size_t kept_bytes = 300;
  std::deque<std::string> lines;
  long count = 0;

  void add(std::string_view line) {
    ++count;
    lines.emplace_back(line.substr(0, kept_bytes));
    if (lines.size() > kept_lines) lines.pop_front();
  }
};

/// The log that shows why a launch failed and its last lines: stderr, where tracebacks go, unless it
/// is empty and stdout is not.
struct FailureLog {
  std::string path;
  const OutputTail* tail = nullptr;
};

FailureLog failure_log_of(const LaunchCommand& command, const OutputTail& out, const OutputTail& err) {
  if (err.count > 0 || out.count == 0) return {command.stderr_log, &err};
  return {command.stdout_log, &out};
}

/// " (see LOG: its last line)", or " (it printed nothing)".
std::string see_log(const FailureLog& log) {
  if (log.tail->count == 0) return " (it printed nothing)";
  return " (see " + log.path + ": " + log.tail->lines.back() + ")";
}

/// Why a launch that did not succeed failed, in words for the console and summary: the spec field
/// or log to look at, with the launcher's precise ending (the signal's name; group members that
/// outlived SIGKILL).
std::string describe_failure(const LaunchResult& result, const FailureLog& log) {
  const std::string survivors = result.survivors.empty() ? "" : "; " + result.survivors;
  switch (result.end) {
    case LaunchEnd::exited: return "exited with status " + std::to_string(result.exit_code) + see_log(log) + survivors;
    case LaunchEnd::signaled: return result.message + see_log(log);
    case LaunchEnd::timed_out: return "ran past trainer.timeout_s" + see_log(log) + survivors;
    case LaunchEnd::idle_timed_out: return "printed nothing for trainer.idle_timeout_s (hung?)" + see_log(log) + survivors;
    case LaunchEnd::stopped_by_observer: return "stopped" + survivors;
    case LaunchEnd::interrupted: return "interrupted" + survivors;
    case LaunchEnd::failed_to_start: return "could not start: " + result.message;
    case LaunchEnd::launcher_error: return "autolrs: " + result.message;
    case LaunchEnd::server_failed: return "serve mode: " + result.message + see_log(log) + survivors;
  }
  return "?";
}

/// Why no loss line was found: the log of trainer.loss.stream, its size and last line, and the other
/// stream's when the loss stream is empty (a trainer that logs to stderr).
std::string no_loss_line(const spec::StreamSelector stream, const LaunchCommand& command, const OutputTail& out,
                         const OutputTail& err) {
  const bool on_stderr = stream == spec::StreamSelector::stderr_stream ||
                         (stream == spec::StreamSelector::both && out.count == 0);
  const std::string& path = on_stderr ? command.stderr_log : command.stdout_log;
  const OutputTail& read = on_stderr ? err : out;
  std::string reason = "no line matched trainer.loss.pattern in " + path + " (" + std::to_string(read.count) + " lines";
  if (read.count > 0) reason += "; last: " + read.lines.back();
  reason += ")";
  const OutputTail& other = on_stderr ? out : err;
  if (read.count == 0 && other.count > 0 && stream != spec::StreamSelector::both) {
    reason += "; " + (on_stderr ? command.stdout_log : command.stderr_log) + " has " + std::to_string(other.count) +
              " lines (trainer.loss.stream?)";
  }
  return reason;
}

}  // namespace

/// A launch on its way: what was prepared for it, and what its output has said so far.
struct RunOrchestrator::RunningLaunch {
  LaunchRequest request;
  int slot = 0;
  std::string checkpoint_name;
  std::string staging_checkpoint;
  LaunchCommand command;
  std::vector<search::RawLoss> train, val;
  OutputTail out, err;
  search::DivergenceMonitor divergence;
  std::optional<double> diverged_loss;  ///< the train loss that stopped it as diverged
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
  state.failure = failure(search);
  state.method = m_context.method;
  return state;
}

void RunOrchestrator::replay_journal(search::LaunchPlanner& search) {
  std::vector<JournalRecord> records = m_context.journal.read_all();
  const std::optional<nlohmann::json> recorded = recorded_identity(records);
  if (!recorded) {
    throw spec::InputError("--resume", "no run is recorded in " + m_job.run_dir + " (run without --resume to start one)");
  }
  const ResumeChanges changes = resume_changes(*recorded, m_run_identity);
  if (!changes.refused.empty()) {
    std::string fields;
    for (const std::string& field : changes.refused) fields += (fields.empty() ? "" : ", ") + field;
    throw spec::InputError("--resume", "the job changed since the run started (" + fields +
                                           "); start a new run in another run_dir (" + resume_accepts + ")");
  }
  // A run that stopped on a failure is resumed by running the launch whose result failed it (the
  // last result) once more: the journal records that its result is set aside, for later resumes.
  const auto* finished = std::get_if<FinishedRecord>(&records.back());
  if (finished && finished->status == RunStatus::failed) {
    for (size_t i = records.size(); i-- > 1;) {
      if (!std::holds_alternative<ResultRecord>(records[i])) continue;
      m_context.journal.append(RetriedRecord{i});
      records = m_context.journal.read_all();
      break;
    }
  }
  ReplayedRun replayed = orchestrator::replay_journal(records, search);
  m_previous_elapsed_s = replayed.elapsed_s;
  m_reports = std::move(replayed.launches);
  // The result a trainer check stopped the run on is the one set aside, so the checks replayed here
  // find nothing to stop on unless the journal was resumed by an older version.
  m_failure = first_stop(m_job, m_reports);
  for (const LaunchReport& report : m_reports) {
    remember_checkpoint(report, search);
    // Again, as after the original result: a kill between journaling it and pruning left files.
    prune_checkpoints(report, search);
  }
}

std::optional<std::string> RunOrchestrator::start_checkpoint_of(const LaunchRequest& request) const {
  if (request.from_probe >= 0) return m_probe_checkpoints.at({request.stage, request.from_probe});
  const auto checkpoint = m_step_checkpoints.find(request.start_step);
  if (checkpoint == m_step_checkpoints.end()) return std::nullopt;
  return checkpoint->second;
}

void RunOrchestrator::remember_checkpoint(const LaunchReport& report, const search::LaunchPlanner& search) {
  if (report.outcome.status != OutcomeStatus::succeeded) return;
  const LaunchRequest& request = report.request;
  if (request.kind == LaunchKind::stage && !search.progress().stage_accepted(request.stage)) {
    // A stage launch the search did not accept (its LR was abandoned): its model is not the run's.
    m_context.checkpoints.remove(report.checkpoint);
    return;
  }
  if (is_main(request)) {
    m_step_checkpoints[request.start_step + request.steps] = report.checkpoint;
  } else if (request.decay_tail) {
    // Only a decay tail's losses matter: nothing ever trains on from its checkpoint.
    m_context.checkpoints.remove(report.checkpoint);
  } else {
    // A probe's next round continues its chain: its checkpoint replaces the previous round's.
    std::string& chain = m_probe_checkpoints[{request.stage, request.probe}];
    if (!chain.empty() && chain != report.checkpoint) m_context.checkpoints.remove(chain);
    chain = report.checkpoint;
  }
}

LaunchCommand RunOrchestrator::build_command(const LaunchRequest& request, int slot, const std::string& save_path) const {
  return build_launch_command(m_job, request, slot, save_path, start_checkpoint_of(request));
}

bool RunOrchestrator::on_line(RunningLaunch& launch, OutputStream stream, std::string_view line) {
  (stream == OutputStream::stderr_stream ? launch.err : launch.out).add(line);
  const trainer_output::ParsedLine parsed = m_parser.parse(stream, line);
  const auto notify_loss = [&](bool is_val, double loss) {
    for (RunObserver* observer : m_context.observers) observer->on_loss(launch.request, is_val, loss);
  };
  if (parsed.val) {
    launch.val.push_back({parsed.val->step, parsed.val->loss});
    notify_loss(true, parsed.val->loss);
  }
  if (parsed.train) {
    launch.train.push_back({parsed.train->step, parsed.train->loss});
    notify_loss(false, parsed.train->loss);
    if (launch.divergence.diverged_after(parsed.train->loss)) {
      launch.diverged_loss = parsed.train->loss;
      return false;
    }
  }
  return true;
}

LaunchReport RunOrchestrator::report_of(const RunningLaunch& launch, const LaunchResult& result) {
  const LaunchRequest& request = launch.request;
  const LaunchCommand& command = launch.command;
  const std::string& staging = launch.staging_checkpoint;
  LaunchReport report;
  report.request = request;
  report.wall_s = result.wall_s;
  report.stdout_log = command.stdout_log;
  report.stderr_log = command.stderr_log;
  LaunchOutcome& outcome = report.outcome;
  const bool ran_to_end = result.end == LaunchEnd::exited;
  // Thinned before anything sees them: the search, the journal, losses.csv and a resume's replay
  // all judge the same points, and a trainer printing millions of lines stores a bounded record.
  outcome.train = search::thin_series(search::place_on_launch_axis(launch.train, request.steps, ran_to_end));
  outcome.val = search::thin_series(search::place_on_launch_axis(launch.val, request.steps, ran_to_end));
  const bool non_finite = std::any_of(outcome.train.begin(), outcome.train.end(),
                                      [](const search::LossPoint& point) { return !std::isfinite(point.loss); });
  char text[160];
  if (launch.diverged_loss || non_finite) {
    outcome.status = OutcomeStatus::diverged;
    std::snprintf(text, sizeof text, "loss diverged (%g)",
                  launch.diverged_loss.value_or(std::numeric_limits<double>::quiet_NaN()));
    outcome.reason = text;
    if (!result.survivors.empty()) outcome.reason += "; " + result.survivors;
  } else if (!result.succeeded()) {
    outcome.status = OutcomeStatus::failed;
    const FailureLog log = failure_log_of(command, launch.out, launch.err);
    outcome.reason = describe_failure(result, log);
    if (log.tail->count > 0) {
      report.failure_log = log.path;
      report.log_tail.assign(log.tail->lines.begin(), log.tail->lines.end());
    }
  } else if (outcome.train.empty()) {
    outcome.status = OutcomeStatus::failed;
    outcome.reason = no_loss_line(m_job.trainer.loss.stream, command, launch.out, launch.err);
  } else if (!m_context.checkpoints.is_valid(staging)) {
    outcome.status = OutcomeStatus::failed;
    outcome.reason = "no checkpoint written at " + staging;
    const std::vector<std::string> beside = m_context.checkpoints.near_misses(staging);
    if (!beside.empty()) {
      outcome.reason += " (found beside it: ";
      for (size_t i = 0; i < beside.size(); ++i) outcome.reason += (i > 0 ? ", " : "") + beside[i];
      outcome.reason += "; the trainer must write to the exact path of {save_checkpoint}: numpy.save and numpy.savez "
                        "append a suffix to a name without it)";
    }
  } else {
    outcome.status = OutcomeStatus::succeeded;
    // An IO failure here (a full disk) is ours, not the trainer's: it propagates and stops the run.
    report.checkpoint = m_context.checkpoints.promote(staging, launch.checkpoint_name);
  }
  if (outcome.status != OutcomeStatus::succeeded) m_context.checkpoints.remove(staging);
  return report;
}

void RunOrchestrator::prune_checkpoints(const LaunchReport& report, const search::LaunchPlanner& search) {
  const LaunchRequest& finished = report.request;
  // Only a trained stage frees its probes: a stage launch the search did not accept (it failed, or
  // its LR was abandoned) is retried from a probe's checkpoint.
  if (finished.kind != LaunchKind::stage || report.outcome.status != OutcomeStatus::succeeded) return;
  if (!search.progress().stage_accepted(finished.stage)) return;
  // The finished stage's probes are no longer needed: the next stage starts from the stage's checkpoint.
  for (auto probe = m_probe_checkpoints.begin(); probe != m_probe_checkpoints.end();) {
    if (probe->first.first != finished.stage) {
      ++probe;
      continue;
    }
    m_context.checkpoints.remove(probe->second);
    probe = m_probe_checkpoints.erase(probe);
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
  m_context.journal.append(ResultRecord{report, elapsed_s()});
  search.record(report.request, report.outcome);
  remember_checkpoint(report, search);
  m_reports.push_back(std::move(report));
  prune_checkpoints(m_reports.back(), search);
}

RunStatus RunOrchestrator::run(search::LaunchPlanner& search, bool resume) {
  m_session_start_s = m_context.clock.now_s();
  if (resume) {
    replay_journal(search);
  } else {
    m_context.journal.append(StartedRecord{m_run_identity});
  }

  Launcher& launcher = m_context.launcher;
  std::map<LaunchId, std::unique_ptr<RunningLaunch>> running;
  std::vector<bool> slot_busy(m_job.slots.size(), false);
  // Launches handed out before an interruption start again first, from their start checkpoints.
  std::deque<LaunchRequest> to_start(search.outstanding().begin(), search.outstanding().end());
  bool interrupted = false;
  const auto stop_requested = [&] { return m_context.stop_signal && m_context.stop_signal->load() != 0; };
  const auto notify = [&](const auto& call) {
    for (RunObserver* observer : m_context.observers) call(*observer);
  };

  try {
    while (true) {
      while (!stop_requested() && !interrupted && !m_failure) {
        const int free_slots = static_cast<int>(std::count(slot_busy.begin(), slot_busy.end(), false));
        if (free_slots == 0) break;
        if (to_start.empty()) {
          const std::vector<LaunchRequest> issued = search.next_launches(free_slots);
          if (issued.empty()) break;
          m_context.journal.append(IssuedRecord{free_slots, issued});
          to_start.insert(to_start.end(), issued.begin(), issued.end());
        }
        const LaunchRequest request = to_start.front();
        // Warmup and stage launches run on the first slot, whose launcher may span every device;
        // probes take the first free slot.
        const auto slot_it = is_main(request) ? slot_busy.begin() : std::find(slot_busy.begin(), slot_busy.end(), false);
        if (*slot_it) break;
        to_start.pop_front();
        const int slot = static_cast<int>(slot_it - slot_busy.begin());
        notify([&](RunObserver& o) { o.on_launch_started(request, slot, state(search, RunStatus::running)); });
        auto launch = std::make_unique<RunningLaunch>(RunningLaunch{
            request, slot, checkpoint_name(request), "", {}, {}, {}, {}, {},
            search::DivergenceMonitor(m_job.trainer.divergence_factor, search.reference_loss()), std::nullopt});
        launch->staging_checkpoint = m_context.checkpoints.staging_path(launch->checkpoint_name);
        launch->command = build_command(request, slot, launch->staging_checkpoint);
        RunningLaunch* const lines_of = launch.get();
        const LaunchId id = launcher.start(
            launch->command, [this, lines_of](OutputStream stream, std::string_view line) { return on_line(*lines_of, stream, line); });
        running.emplace(id, std::move(launch));
        *slot_it = true;
      }
      if (running.empty()) break;
      const LaunchCompletion completion = launcher.wait();
      auto node = running.extract(completion.id);
      if (node.empty()) throw std::logic_error("the launcher completed a launch it was not given");
      const std::unique_ptr<RunningLaunch> launch = std::move(node.mapped());
      slot_busy[static_cast<size_t>(launch->slot)] = false;
      if (completion.result.end == LaunchEnd::interrupted) {
        interrupted = true;
        continue;
      }
      // autolrs could not follow the launch (its log could not be written: a full disk): an error of
      // ours, never the trainer's outcome. Nothing is journaled for it, so --resume runs it again.
      if (completion.result.end == LaunchEnd::launcher_error) throw std::runtime_error(completion.result.message);
      accept_report(search, report_of(*launch, completion.result));
      notify([&](RunObserver& o) { o.on_launch_finished(m_reports.back(), state(search, RunStatus::running)); });
      if (!m_failure) {
        for (const TrainerFinding& finding : check_latest_launch(m_job, m_reports)) {
          if (finding.stop) {
            // The trainer is broken: what still runs would only repeat it. Those launches end as
            // interrupted (not recorded), so a resume after the fix runs them again.
            m_failure = finding.message;
            launcher.interrupt();
            break;
          }
          notify([&](RunObserver& o) { o.on_warning(finding.message, state(search, RunStatus::running)); });
        }
      }
    }
  } catch (const std::exception& error) {
    // autolrs itself failed (a journal append, a log or checkpoint write, writing the outputs): end
    // the running launches as on SIGTERM and wait for them, so that no trainer outlives the error it
    // reports; their results are not journaled. The outputs say what happened, if they can.
    launcher.interrupt();
    while (launcher.running() > 0) launcher.wait();
    RunState stopped = state(search, RunStatus::failed);
    stopped.failure = std::string("autolrs: ") + error.what() +
                      "; the launches in flight were not recorded and run again on --resume";
    for (RunObserver* observer : m_context.observers) {
      try {
        observer->on_run_finished(stopped);
      } catch (const std::exception&) {  // the disk may still be full: the error above is the one to report
      }
    }
    throw;
  } catch (...) {
    launcher.interrupt();
    while (launcher.running() > 0) launcher.wait();
    throw;
  }

  RunStatus status = RunStatus::interrupted;
  if (m_failure || search.failure()) {
    status = RunStatus::failed;
  } else if (search.finished()) {
    status = RunStatus::completed;
  }
  if (status != RunStatus::interrupted) m_context.journal.append(FinishedRecord{status});
  notify([&](RunObserver& o) { o.on_run_finished(state(search, status)); });
  return status;
}

}  // namespace autolrs::orchestrator
