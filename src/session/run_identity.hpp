#pragma once

#include <memory>
#include <string>
#include <variant>

#include <nlohmann/json.hpp>

#include "search/search_strategy.hpp"
#include "search/fixed_schedule.hpp"
#include "search/launch_planner.hpp"
#include "search/range_test.hpp"
#include "search/schedule_file.hpp"
#include "search/trainer_check.hpp"
#include "spec/job_spec.hpp"

namespace autolrs::session {

/// `autolrs run`: the AutoLRS search the spec's preset names (search::make_search).
struct AutoLrsRun {};
/// `autolrs baseline`: a fixed schedule (search::FixedSchedule).
struct BaselineRun {
  search::ScheduleSpec schedule;
};
/// `autolrs baseline --schedule-file FILE`: a run's schedule.csv trained again (search::FixedSchedule
/// with the file's launches), as read: the planner fits it to the job's steps.
struct ReplayRun {
  std::string schedule_file;  ///< as the user named it, for titles
  search::ReplayedSchedule schedule;
};
/// `autolrs range-test`: the LR range test (search::RangeTest).
struct RangeTestRun {
  search::RangeTestPlan plan;
};
/// `autolrs validate --launch`: the trainer check (search::TrainerCheck).
struct TrainerCheckRun {
  search::TrainerCheckPlan plan;
};
/// The kinds of run a run directory can hold, each with what its planner needs.
using RunKind = std::variant<AutoLrsRun, BaselineRun, ReplayRun, RangeTestRun, TrainerCheckRun>;

/// What identifies a run across its resumes; stored in its journal's first record (JSON form below),
/// and compared on --resume, so that a resume with another spec, mode or kind is refused.
struct RunIdentity {
  nlohmann::json spec;   ///< the spec as written (spec::JobSpec::source)
  bool dry_run = false;  ///< the trainer is the built-in simulator
  RunKind kind;
};

/// {"spec": ..., "dry_run": b} plus, for a baseline, "baseline": {"schedule": name, "lr": peak,
/// "segments": K or null for constant and step}, for a replay, "replay": {"schedule_file", "warmup":
/// {"steps", "lr"}, "segments": [{"start_step", "steps", "lr", "lr_end" or null}, ...]} and, for a
/// range test, "range_test": {"lr_min", "lr_max", "points", "steps"}, for a trainer check,
/// "trainer_check": {"lr_high", "lr_low", "steps"}. The one JSON form of an identity: the journals of every autolrs so far.
nlohmann::json identity_json(const RunIdentity& identity);
/// The inverse of identity_json. Throws spec::InputError("journal.jsonl:1", ...) when `json` is no
/// run identity.
RunIdentity identity_from_json(const nlohmann::json& json);

/// A fresh planner for a run of `kind` on `job`, in its initial state: the one mapping from a run's
/// kind to its planner, for new runs, resumes and rebuilds alike. The typed overloads serve callers
/// that need the planner's own interface (the range test's analysis).
std::unique_ptr<search::LaunchPlanner> make_planner(const spec::JobSpec& job, const RunKind& kind);

/// What chooses the LRs of a run of `kind`, for titles (orchestrator::RunState::method): empty for
/// the AutoLRS search, e.g. "baseline: cosine schedule, peak lr 0.1", "baseline: the schedule of
/// runs/a/schedule.csv, scaled from 6000 to 12000 steps" (scaled when `job`'s total_steps differ from the
/// file's), "LR range test" or "trainer check".
std::string describe_method(const RunKind& kind, const spec::JobSpec& job);
std::unique_ptr<search::LaunchPlanner> make_planner(const spec::JobSpec& job, const AutoLrsRun& kind);
std::unique_ptr<search::FixedSchedule> make_planner(const spec::JobSpec& job, const BaselineRun& kind);
/// The file's launches scaled to the job's total_steps (search::scaled_to, which throws
/// spec::InputError), as constant pieces when the trainer takes no LR ramps.
std::unique_ptr<search::FixedSchedule> make_planner(const spec::JobSpec& job, const ReplayRun& kind);
std::unique_ptr<search::RangeTest> make_planner(const spec::JobSpec& job, const RangeTestRun& kind);
std::unique_ptr<search::TrainerCheck> make_planner(const spec::JobSpec& job, const TrainerCheckRun& kind);

/// The job a recorded run used, from its identity: the spec parsed again, with `run_dir` as its run
/// dir and, for a dry run, the simulator as its trainer (the search reads the trainer's loss
/// patterns). Relative paths in the spec are anchored at `run_dir`: the job is for planning and
/// reports, not for launching. Throws spec::InputError.
spec::JobSpec job_for_identity(const RunIdentity& identity, const std::string& run_dir);

}  // namespace autolrs::session
