#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace autolrs::spec {

/// Which of the trainer's output streams a loss pattern reads.
enum class StreamSelector { stdout_stream, stderr_stream, both };

struct LossPatternSpec {
  std::string pattern;  ///< RE2 syntax; named group `loss` required, `step` optional
  StreamSelector stream = StreamSelector::stdout_stream;
};

/// How launches reach the trainer: `exec` runs trainer.command once per launch; `serve` starts it once
/// per slot and writes each launch to its stdin as one JSON command line, which it answers with a
/// completion line (docs/trainer-protocol.md, "Serve mode").
enum class TrainerMode { exec, serve };

/// The placeholders whose values differ from launch to launch: a serve-mode command (and its slots'
/// launchers) must not use them, since it starts a trainer that serves many launches.
const std::vector<std::string>& per_launch_placeholders();

struct TrainerSpec {
  TrainerMode mode = TrainerMode::exec;
  std::vector<std::string> command;      ///< argv template, run without a shell
  std::vector<std::string> resume_args;  ///< appended only when a launch starts from a checkpoint
  std::string workdir;                   ///< absolute (resolved against the spec file's folder)
  std::map<std::string, std::string> env;  ///< merged over the inherited environment
  LossPatternSpec loss;
  std::optional<LossPatternSpec> val_loss;
  double timeout_s = 0;       ///< wall-clock limit per launch; 0 = none
  double idle_timeout_s = 0;  ///< limit on time without an output line; 0 = none
  int max_retries = 2;        ///< retries of a failed main-stage launch
  double divergence_factor = 10;  ///< a launch whose loss exceeds this × the stage's start loss level 3 times in a row is stopped
  /// Serve mode only: the trainer follows each command's lr_end (exec mode says so with `{lr_end}`).
  bool lr_ramps = false;

  /// Whether the trainer takes LR ramps: in exec mode its command has the `{lr_end}` placeholder (see
  /// docs/trainer-protocol.md), in serve mode `lr_ramps` is set. Planners then launch a decaying
  /// stretch as linear ramps, and as constant-LR pieces otherwise.
  bool takes_lr_ramps() const;
};

enum class Objective { train_loss, val_loss, automatic };

struct SearchSpec {
  double lr_min = 1e-4;
  double lr_max = 1.0;
  int probes_per_stage = 10;
  long first_stage_steps = 1000;
  long max_stage_steps = 8000;
  double probe_fraction = 0.1;
  Objective objective = Objective::automatic;
  std::string preset = "default";  ///< "default", "stagewise" or "paper" (see search::make_search)
  /// The default preset's decay after the peak: "auto" (cubic or linear, chosen from the last round's
  /// decay tails), "cubic", "quadratic", "cosine", "linear" or "wsd" (its 1−sqrt curve over the whole
  /// decay); see search::PeakDecaySearch.
  std::string decay_shape = "auto";
};

/// The largest total_steps a spec may ask for (keeps every step count, probes included, in a long).
inline constexpr long max_total_steps = 1'000'000'000'000'000;
/// The most stages a run may be cut into (each is planned, journaled and reported).
inline constexpr long max_stages = 100'000;

/// Number of stages a run of `stage_budget` model steps (after warmup) is cut into: τ starts at
/// first_stage_steps and doubles up to max_stage_steps, the last stage cut to fit. Closed form
/// (at most 63 doubling stages, then a division), so huge budgets cost nothing.
long stage_count(const SearchSpec& search, long stage_budget);

struct WarmupSpec {
  long steps = 0;
  double lr = 0;
};

/// Where one launch at a time runs: `env` is merged into the launch's environment, `launcher` is
/// prepended to its argv (e.g. {"srun", "--exact", "-n1"}); launcher elements may use the command's
/// placeholders and were checked like it.
struct SlotSpec {
  std::map<std::string, std::string> env;
  std::vector<std::string> launcher;
};

/// A validated job spec; every path is absolute.
struct JobSpec {
  std::string name;
  TrainerSpec trainer;
  SearchSpec search;
  long total_steps = 0;
  WarmupSpec warmup;
  std::optional<std::string> initial_checkpoint;
  std::uint64_t seed = 0;
  std::string run_dir;     ///< default <spec dir>/runs/<name>
  int keep_checkpoints = 2;
  /// Options for the dry-run simulator: long option name (with '_' for '-') to value.
  std::map<std::string, std::string> simulator_options;
  /// Launch slots, at least one; default one slot with no env and no launcher.
  std::vector<SlotSpec> slots = {SlotSpec{}};
  std::string spec_path;   ///< absolute path of the spec file ("" when parsed from text alone)
  nlohmann::json source;   ///< the spec as given, for the journal's changed-spec check
};

/// Parses and validates a job spec. `spec_path` anchors relative paths (its folder; the current
/// directory when empty); it is not read. Throws InputError naming the field, e.g.
/// "search.lr_min: must be > 0, got -0.1"; unknown keys are errors with a "did you mean" suggestion
/// where one is close. A duplicate key fails on its path; text that is not JSON, empty text and
/// nesting deeper than max_spec_depth fail on the spec path (or "job spec"); parsing never recurses
/// on the input.
constexpr int max_spec_depth = 64;

JobSpec parse_job_spec(std::string_view text, const std::string& spec_path);

}  // namespace autolrs::spec
