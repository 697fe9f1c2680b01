#include <doctest/doctest.h>

#include <algorithm>
#include <climits>
#include <filesystem>
#include <utility>

#include "spec/input_error.hpp"
#include "spec/job_spec.hpp"

using autolrs::spec::InputError;
using autolrs::spec::JobSpec;
using autolrs::spec::Objective;
using autolrs::spec::parse_job_spec;
using autolrs::spec::StreamSelector;
using nlohmann::json;

namespace {

const std::string spec_path = "/jobs/job.json";

/// The smallest valid spec; rows of the error table change it.
json minimal_spec() {
  return json::parse(R"json({
    "name": "toy",
    "trainer": {"command": ["python3", "train.py", "--lr", "{lr}"], "loss": {"pattern": "loss=(?P<loss>\\S+)"}},
    "total_steps": 1000
  })json");
}

/// The message parse_job_spec throws for `text`, or "" when it accepts it.
std::string error_for(const std::string& text) {
  try {
    parse_job_spec(text, spec_path);
  } catch (const InputError& error) {
    return error.what();
  }
  return "";
}

const json removed = json(json::value_t::discarded);

}  // namespace

TEST_CASE("spec::parse_job_spec refuses bad values with the field path and the value") {
  struct Row {
    std::vector<std::pair<std::string, json>> changes;  ///< JSON pointer -> new value (`removed`: delete)
    std::string error;
  };
  const std::vector<Row> rows = {
      {{{"/search/lr_min", -0.1}}, "search.lr_min: must be > 0, got -0.1"},
      {{{"/search/lr_min", json(0)}}, "search.lr_min: must be > 0, got 0"},
      {{{"/search/lr_min", "abc"}}, "search.lr_min: must be a number, got string \"abc\""},
      {{{"/search/lr_min", nullptr}}, "search.lr_min: must be a number, got null"},
      {{{"/search/lr_min", 1}, {"/search/lr_max", 1e-4}},
       "search.lr_max: must be > search.lr_min (1), got 1e-04 (are the bounds swapped?)"},
      {{{"/search/lr_min", 0.1}, {"/search/lr_max", 0.1}}, "search.lr_max: must be > search.lr_min (0.1), got 0.1"},
      {{{"/search/lr_max", 1e-5}}, "search.lr_max: must be > search.lr_min (1e-04), got 1e-05 (are the bounds swapped?)"},
      {{{"/search/lr_min", 2}}, "search.lr_min: must be < search.lr_max (1), got 2 (are the bounds swapped?)"},
      {{{"/search/probes_per_stage", 1.5}}, "search.probes_per_stage: must be an integer, got 1.5"},
      {{{"/search/probes_per_stage", json(0)}}, "search.probes_per_stage: must be >= 1, got 0"},
      {{{"/search/probes_per_stage", true}}, "search.probes_per_stage: must be an integer, got boolean true"},
      {{{"/search/probes_per_stage", 5000}}, "search.probes_per_stage: must be <= 1000, got 5000"},
      {{{"/search/first_stage_steps", 2000}, {"/search/max_stage_steps", 1000}},
       "search.max_stage_steps: must be >= search.first_stage_steps (2000), got 1000"},
      {{{"/search/first_stage_steps", 10000}},
       "search.first_stage_steps: must be <= search.max_stage_steps (8000), got 10000"},
      {{{"/search/probe_fraction", json(0)}}, "search.probe_fraction: must be in (0, 1], got 0"},
      {{{"/search/probe_fraction", 1.5}}, "search.probe_fraction: must be in (0, 1], got 1.5"},
      {{{"/search/objective", "val"}},
       "search.objective: must be one of \"train_loss\", \"val_loss\", \"auto\", got string \"val\""},
      {{{"/search/objective", "val_los"}},
       "search.objective: must be one of \"train_loss\", \"val_loss\", \"auto\", got string \"val_los\" "
       "(did you mean \"val_loss\"?)"},
      {{{"/search/objective", "val_loss"}},
       "search.objective: \"val_loss\" needs trainer.val_loss, a pattern for validation-loss lines"},
      {{{"/search/decay_shape", "exponential"}},
       "search.decay_shape: must be one of \"auto\", \"cubic\", \"quadratic\", \"cosine\", \"linear\", \"wsd\", got string "
       "\"exponential\""},
      {{{"/search/preset", "quick"}}, "search.preset: must be one of \"default\", \"stagewise\", \"paper\", got string \"quick\""},
      {{{"/search/lr_mni", 0.1}}, "search.lr_mni: unknown key (did you mean lr_min?)"},
      {{{"/search", json::array()}}, "search: must be an object, got array"},
      {{{"/total_step", 10}}, "total_step: unknown key (did you mean total_steps?)"},
      {{{"/learning_rate", 0.1}},
       "learning_rate: unknown key (known keys here: $schema, description, name, trainer, search, total_steps, "
       "warmup, initial_checkpoint, seed, run_dir, keep_checkpoints, simulator, slots)"},
      {{{"/total_steps", removed}}, "total_steps: required key missing"},
      {{{"/total_steps", json(0)}}, "total_steps: must be >= 1, got 0"},
      {{{"/total_steps", -5}}, "total_steps: must be >= 1, got -5"},
      {{{"/total_steps", "1000"}}, "total_steps: must be an integer, got string \"1000\""},
      {{{"/total_steps", 1e30}}, "total_steps: must be <= 9223372036854775807, got 1e+30"},
      {{{"/total_steps", 18446744073709551615u}},
       "total_steps: must be <= 9223372036854775807, got 18446744073709551615"},
      {{{"/name", removed}}, "name: required key missing"},
      {{{"/name", ""}}, "name: must not be empty"},
      {{{"/name", "../evil"}},
       "name: must be a folder name of at most 100 letters, digits, '_', '-' or '.', not starting with '.' or "
       "'-', got string \"../evil\""},
      {{{"/name", "a b"}},
       "name: must be a folder name of at most 100 letters, digits, '_', '-' or '.', not starting with '.' or "
       "'-', got string \"a b\""},
      {{{"/trainer", "python3 train.py"}}, "trainer: must be an object, got string \"python3 train.py\""},
      {{{"/trainer/command", json::array()}}, "trainer.command: must name the program to run, got an empty array"},
      {{{"/trainer/command", "python3 train.py"}}, "trainer.command: must be an array, got string \"python3 train.py\""},
      {{{"/trainer/command", {"", "x"}}}, "trainer.command[0]: the program must not be empty"},
      {{{"/trainer/command/3", "{lrr}"}}, "trainer.command[3]: unknown placeholder {lrr} (did you mean {lr}?)"},
      {{{"/trainer/command/2", 5}}, "trainer.command[2]: must be a string, got number 5"},
      {{{"/trainer/command/1", std::string("a\0b", 3)}},
       "trainer.command[1]: must not contain a NUL character, got string \"a\\x00b\""},
      {{{"/trainer/resume_args", {"--load", "{load_checkpoint"}}},
       "trainer.resume_args[1]: unclosed placeholder \"{load_checkpoint\" (write {{ and }} for literal braces)"},
      {{{"/trainer/comand", json::array()}}, "trainer.comand: unknown key (did you mean command?)"},
      {{{"/trainer/loss", removed}}, "trainer.loss: required key missing"},
      {{{"/trainer/loss/pattern", "loss=(\\S+)"}},
       "trainer.loss.pattern: needs a named group `loss`, e.g. loss=(?P<loss>\\S+); got \"loss=(\\\\S+)\""},
      {{{"/trainer/loss/pattern", "loss=(?P<loss>\\S+"}},
       "trainer.loss.pattern: invalid regular expression \"loss=(?P<loss>\\\\S+\": missing ): loss=(?P<loss>\\S+"},
      {{{"/trainer/loss/stream", "stdot"}},
       "trainer.loss.stream: must be one of \"stdout\", \"stderr\", \"both\", got string \"stdot\" "
       "(did you mean \"stdout\"?)"},
      {{{"/trainer/loss/regex", "x"}}, "trainer.loss.regex: unknown key (known keys here: pattern, stream)"},
      {{{"/trainer/val_loss", {{"pattern", "val=(?P<val>\\S+)"}}}},
       "trainer.val_loss.pattern: needs a named group `loss`, e.g. loss=(?P<loss>\\S+); got \"val=(?P<val>\\\\S+)\""},
      {{{"/trainer/env", {{"OMP_NUM_THREADS", 4}}}}, "trainer.env.OMP_NUM_THREADS: must be a string, got number 4"},
      {{{"/trainer/env", {{"A=B", "x"}}}},
       "trainer.env.A=B: an environment variable name must be non-empty, without '=' or NUL"},
      {{{"/trainer/timeout_s", -1}}, "trainer.timeout_s: must be >= 0, got -1"},
      {{{"/trainer/idle_timeout_s", "60"}}, "trainer.idle_timeout_s: must be a number, got string \"60\""},
      {{{"/trainer/max_retries", -1}}, "trainer.max_retries: must be >= 0, got -1"},
      {{{"/trainer/divergence_factor", 1}}, "trainer.divergence_factor: must be > 1, got 1"},
      {{{"/trainer/workdir", ""}}, "trainer.workdir: must not be empty"},
      {{{"/warmup", {{"steps", 100}, {"lr", json(0)}}}}, "warmup.lr: must be > 0 when warmup.steps > 0, got 0"},
      {{{"/warmup", {{"steps", 100}}}}, "warmup: needs lr > 0 when steps > 0"},
      {{{"/warmup", {{"steps", 1000}, {"lr", 0.1}}}}, "warmup.steps: must be < total_steps (1000), got 1000"},
      {{{"/warmup", {{"steps", 10}, {"lr", -1}}}}, "warmup.lr: must be >= 0, got -1"},
      {{{"/warmup", {{"step", 10}}}}, "warmup.step: unknown key (did you mean steps?)"},
      {{{"/seed", -1}}, "seed: must be >= 0, got -1"},
      {{{"/keep_checkpoints", json(0)}}, "keep_checkpoints: must be >= 1, got 0"},
      {{{"/initial_checkpoint", 5}}, "initial_checkpoint: must be null or a path, got number 5"},
      {{{"/initial_checkpoint", ""}}, "initial_checkpoint: must not be empty"},
      {{{"/run_dir", false}}, "run_dir: must be a string, got boolean false"},
      {{{"/simulator", {{"step_ms", {1}}}}}, "simulator.step_ms: must be a number, string or boolean, got array"},
      {{{"/simulator", {{"step-ms", 1}}}}, "simulator.step-ms: must be a simulator option name (letters, digits and '_')"},
      {{{"/slots", json(0)}}, "slots: must be >= 1, got 0"},
      {{{"/slots", 100000}}, "slots: must be <= 1024, got 100000"},
      {{{"/slots", json::array()}}, "slots: must hold at least one slot, got an empty array"},
      {{{"/slots", "4"}}, "slots: must be a number of slots or an array of slot objects, got string \"4\""},
      {{{"/slots", json::parse(R"([{}, {"env": {"CUDA_VISIBLE_DEVICES": 3}}])")}},
       "slots[1].env.CUDA_VISIBLE_DEVICES: must be a string, got number 3"},
      {{{"/slots", json::parse(R"([{"launchr": ["srun"]}])")}}, "slots[0].launchr: unknown key (did you mean launcher?)"},
      {{{"/slots", json::parse(R"([{"launcher": ["srun", "--job-name=p{probes}"]}])")}},
       "slots[0].launcher[1]: unknown placeholder {probes} (did you mean {probe}?)"},
      {{{"/slots", json::parse(R"([1])")}}, "slots[0]: must be an object, got number 1"},
      {{{"/description", 5}}, "description: must be a string, got number 5"},
      {{{"/trainer/mode", "server"}}, "trainer.mode: must be one of \"exec\", \"serve\", got string \"server\" (did you mean \"serve\"?)"},
      {{{"/trainer/mode", "serve"}},
       "trainer.command[3]: {lr} differs per launch, and in serve mode this command starts one trainer for all the "
       "launches of a slot; the trainer reads lr from each command on its stdin (docs/trainer-protocol.md, \"Serve mode\")"},
      {{{"/trainer/mode", "serve"}, {"/trainer/command", {"train.py", "--serve", "--out={save_checkpoint}"}}},
       "trainer.command[2]: {save_checkpoint} differs per launch, and in serve mode this command starts one trainer for "
       "all the launches of a slot; the trainer reads save_checkpoint from each command on its stdin "
       "(docs/trainer-protocol.md, \"Serve mode\")"},
      {{{"/trainer/mode", "serve"}, {"/trainer/command", {"train.py", "--serve"}}, {"/trainer/resume_args", {"--load", "{load_checkpoint}"}}},
       "trainer.resume_args: not used in serve mode: each command on the trainer's stdin names its load_checkpoint"},
      {{{"/trainer/mode", "serve"}, {"/trainer/command", {"train.py", "--serve"}},
        {"/slots", json::parse(R"([{"launcher": ["srun", "--job-name=p{probe}"]}])")}},
       "slots[0].launcher[1]: {probe} differs per launch, and in serve mode this command starts one trainer for all the "
       "launches of a slot; the trainer reads probe from each command on its stdin (docs/trainer-protocol.md, \"Serve mode\")"},
      {{{"/trainer/lr_ramps", true}}, "trainer.lr_ramps: only for trainer.mode \"serve\"; in exec mode, put {lr_end} in trainer.command"},
      {{{"/trainer/mode", "serve"}, {"/trainer/command", {"train.py", "--serve"}}, {"/trainer/lr_ramps", "yes"}},
       "trainer.lr_ramps: must be true or false, got string \"yes\""},
  };
  for (const Row& row : rows) {
    json spec = minimal_spec();
    for (const auto& [pointer, value] : row.changes) {
      if (value.is_discarded()) {
        spec.at(json::json_pointer(pointer).parent_pointer()).erase(json::json_pointer(pointer).back());
      } else {
        spec[json::json_pointer(pointer)] = value;
      }
    }
    CAPTURE(row.error);
    CHECK(error_for(spec.dump()) == row.error);
  }
}

TEST_CASE("spec::parse_job_spec refuses text that is not a usable JSON document") {
  struct Row {
    std::string text;
    std::string error;
  };
  const std::vector<Row> rows = {
      {"", "/jobs/job.json: the spec is empty (expected a JSON object)"},
      {" \n\t\r\n", "/jobs/job.json: the spec is empty (expected a JSON object)"},
      {"[1, 2]", "/jobs/job.json: must be a JSON object, got array"},
      {"\"name\"", "/jobs/job.json: must be a JSON object, got string \"name\""},
      {"{", "/jobs/job.json: not valid JSON: parse error at line 1, column 2: syntax error while parsing object key "
            "- unexpected end of input; expected string literal"},
      {"{\"name\": \"a\",\n \"seed\": }",
       "/jobs/job.json: not valid JSON (near seed): parse error at line 2, column 10: syntax error while parsing "
       "value - unexpected '}'; expected '[', '{', or a literal"},
      {"{\"search\": {\"lr_min\": 1e999}}",
       "/jobs/job.json: not valid JSON (near search.lr_min): number overflow parsing '1e999'"},
      {"{} trailing", "/jobs/job.json: not valid JSON: parse error at line 1, column 6: syntax error while parsing "
                      "value - invalid literal; last read: '{} tra'; expected end of input"},
      {"{\"name\": \"toy\" // comment\n}",
       "/jobs/job.json: not valid JSON (near name): parse error at line 1, column 16: syntax error while parsing "
       "object - invalid literal; last read: '\"toy\" /'; expected '}'"},
      {"{\"name\": \"a\", \"name\": \"b\"}", "name: duplicate key"},
      {"{\"trainer\": {\"env\": {\"A\": \"1\", \"B\": \"2\", \"A\": \"3\"}}}", "trainer.env.A: duplicate key"},
  };
  for (const Row& row : rows) {
    CAPTURE(row.text);
    CHECK(error_for(row.text) == row.error);
  }
}

TEST_CASE("spec::parse_job_spec shows binary junk escaped, never raw") {
  const std::string junk("\x00\x01\xff\xfe{\x80\"", 7);
  const std::string error = error_for(junk);
  CHECK(error.rfind("/jobs/job.json: not valid JSON: parse error at line 1, column 1: ", 0) == 0);
  for (const char c : error) CHECK((c >= 0x20 && c < 0x7f));
  const std::string bad_utf8 = error_for("{\"name\": \"\xff\xfe\"}");
  CHECK(bad_utf8.find("ill-formed UTF-8") != std::string::npos);
  for (const char c : bad_utf8) CHECK((c >= 0x20 && c < 0x7f));
}

TEST_CASE("spec::parse_job_spec refuses nesting deeper than 64 levels without recursing on it") {
  auto nested = [](std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); };
  CHECK(error_for(nested(64)) == "/jobs/job.json: must be a JSON object, got array");
  CHECK(error_for(nested(65)).rfind("/jobs/job.json: nested deeper than 64 levels at [0][0]", 0) == 0);
  const std::string deep_object = "{\"simulator\": " + std::string(1'000'000, '[');
  CHECK(error_for(deep_object).rfind("/jobs/job.json: nested deeper than 64 levels at simulator[0][0]", 0) == 0);
}

TEST_CASE("spec::parse_job_spec reads a spec with every key") {
  const std::string text = R"json({
    "$schema": "https://example.org/autolrs.schema.json",
    "description": "ResNet-50 on ImageNet",
    "name": "resnet50",
    "trainer": {
      "command": ["python3", "train.py", "--lr", "{lr}", "--steps", "{steps}", "--save", "{save_checkpoint}"],
      "resume_args": ["--load", "{load_checkpoint}"],
      "workdir": "../code",
      "env": {"OMP_NUM_THREADS": "4"},
      "loss": {"pattern": "\\bloss=(?P<loss>\\S+)", "stream": "stderr"},
      "val_loss": {"pattern": "val_loss=(?P<loss>\\S+)", "stream": "both"},
      "timeout_s": 3600.5,
      "idle_timeout_s": 600,
      "max_retries": 0,
      "divergence_factor": 4.5
    },
    "search": {"preset": "paper", "lr_min": 1e-5, "lr_max": 0.5, "probes_per_stage": 8, "first_stage_steps": 500,
               "max_stage_steps": 4000, "probe_fraction": 0.2, "objective": "val_loss"},
    "total_steps": 1e5,
    "warmup": {"steps": 200, "lr": 0.01},
    "initial_checkpoint": "ckpt/start.pt",
    "seed": 42,
    "run_dir": "/scratch/runs/r50",
    "keep_checkpoints": 3,
    "simulator": {"step_ms": 2, "noise": 0.05, "fault": "crash", "verbose": true},
    "slots": [{"env": {"CUDA_VISIBLE_DEVICES": "0,1"}, "launcher": ["srun", "--exact", "-n1"]}, {}]
  })json";
  const JobSpec spec = parse_job_spec(text, "/home/me/jobs/job.json");
  CHECK(spec.name == "resnet50");
  CHECK(spec.spec_path == "/home/me/jobs/job.json");
  CHECK(spec.trainer.command == std::vector<std::string>{"python3", "train.py", "--lr", "{lr}", "--steps", "{steps}",
                                                        "--save", "{save_checkpoint}"});
  CHECK(spec.trainer.resume_args == std::vector<std::string>{"--load", "{load_checkpoint}"});
  CHECK(spec.trainer.workdir == "/home/me/code");
  CHECK(spec.trainer.env == std::map<std::string, std::string>{{"OMP_NUM_THREADS", "4"}});
  CHECK(spec.trainer.loss.pattern == "\\bloss=(?P<loss>\\S+)");
  CHECK(spec.trainer.loss.stream == StreamSelector::stderr_stream);
  REQUIRE(spec.trainer.val_loss.has_value());
  CHECK(spec.trainer.val_loss->pattern == "val_loss=(?P<loss>\\S+)");
  CHECK(spec.trainer.val_loss->stream == StreamSelector::both);
  CHECK(spec.trainer.timeout_s == 3600.5);
  CHECK(spec.trainer.idle_timeout_s == 600);
  CHECK(spec.trainer.max_retries == 0);
  CHECK(spec.trainer.divergence_factor == 4.5);
  CHECK(spec.search.preset == "paper");
  CHECK(spec.search.lr_min == 1e-5);
  CHECK(spec.search.lr_max == 0.5);
  CHECK(spec.search.probes_per_stage == 8);
  CHECK(spec.search.first_stage_steps == 500);
  CHECK(spec.search.max_stage_steps == 4000);
  CHECK(spec.search.probe_fraction == 0.2);
  CHECK(spec.search.objective == Objective::val_loss);
  CHECK(spec.total_steps == 100000);
  CHECK(spec.warmup.steps == 200);
  CHECK(spec.warmup.lr == 0.01);
  CHECK(spec.initial_checkpoint == "/home/me/jobs/ckpt/start.pt");
  CHECK(spec.seed == 42);
  CHECK(spec.run_dir == "/scratch/runs/r50");
  CHECK(spec.keep_checkpoints == 3);
  CHECK(spec.simulator_options ==
        std::map<std::string, std::string>{{"step_ms", "2"}, {"noise", "0.05"}, {"fault", "crash"}, {"verbose", "true"}});
  REQUIRE(spec.slots.size() == 2);
  CHECK(spec.slots[0].env == std::map<std::string, std::string>{{"CUDA_VISIBLE_DEVICES", "0,1"}});
  CHECK(spec.slots[0].launcher == std::vector<std::string>{"srun", "--exact", "-n1"});
  CHECK(spec.slots[1].env.empty());
  CHECK(spec.slots[1].launcher.empty());
  CHECK(spec.source == json::parse(text));
}

TEST_CASE("spec::parse_job_spec fills in the documented defaults") {
  const JobSpec spec = parse_job_spec(minimal_spec().dump(), "/jobs/job.json");
  CHECK(spec.trainer.resume_args.empty());
  CHECK(spec.trainer.workdir == "/jobs");
  CHECK(spec.trainer.env.empty());
  CHECK(spec.trainer.loss.stream == StreamSelector::stdout_stream);
  CHECK_FALSE(spec.trainer.val_loss.has_value());
  CHECK(spec.trainer.timeout_s == 0);
  CHECK(spec.trainer.idle_timeout_s == 0);
  CHECK(spec.trainer.max_retries == 2);
  CHECK(spec.trainer.divergence_factor == 10);
  CHECK(spec.search.preset == "default");
  CHECK(spec.search.lr_min == 1e-4);
  CHECK(spec.search.lr_max == 1.0);
  CHECK(spec.search.probes_per_stage == 10);
  CHECK(spec.search.first_stage_steps == 1000);
  CHECK(spec.search.max_stage_steps == 8000);
  CHECK(spec.search.probe_fraction == 0.1);
  CHECK(spec.search.objective == Objective::automatic);
  CHECK(spec.search.decay_shape == "auto");
  CHECK(spec.warmup.steps == 0);
  CHECK(spec.warmup.lr == 0);
  CHECK_FALSE(spec.initial_checkpoint.has_value());
  CHECK(spec.seed == 0);
  CHECK(spec.run_dir == "/jobs/runs/toy");
  CHECK(spec.keep_checkpoints == 2);
  CHECK(spec.simulator_options.empty());
  REQUIRE(spec.slots.size() == 1);
  CHECK(spec.slots[0].env.empty());
  CHECK(spec.slots[0].launcher.empty());
}

TEST_CASE("spec::parse_job_spec resolves paths against the spec's folder") {
  json spec = minimal_spec();
  SUBCASE("a relative spec path is taken from the current directory") {
    const JobSpec parsed = parse_job_spec(spec.dump(), "jobs/./job.json");
    const std::string cwd = std::filesystem::current_path().string();
    CHECK(parsed.spec_path == cwd + "/jobs/job.json");
    CHECK(parsed.trainer.workdir == cwd + "/jobs");
    CHECK(parsed.run_dir == cwd + "/jobs/runs/toy");
  }
  SUBCASE("no spec path: the current directory") {
    const JobSpec parsed = parse_job_spec(spec.dump(), "");
    CHECK(parsed.spec_path.empty());
    CHECK(parsed.trainer.workdir == std::filesystem::current_path().string());
  }
  SUBCASE("relative paths are normalized, absolute ones kept") {
    spec["trainer"]["workdir"] = "../src/";
    spec["run_dir"] = "out/../runs/x";
    spec["initial_checkpoint"] = "/data/start.ckpt";
    const JobSpec parsed = parse_job_spec(spec.dump(), "/home/me/jobs/job.json");
    CHECK(parsed.trainer.workdir == "/home/me/src");
    CHECK(parsed.run_dir == "/home/me/jobs/runs/x");
    CHECK(parsed.initial_checkpoint == "/data/start.ckpt");
  }
  SUBCASE("null initial_checkpoint and val_loss mean none") {
    spec["initial_checkpoint"] = nullptr;
    spec["trainer"]["val_loss"] = nullptr;
    const JobSpec parsed = parse_job_spec(spec.dump(), "/jobs/job.json");
    CHECK_FALSE(parsed.initial_checkpoint.has_value());
    CHECK_FALSE(parsed.trainer.val_loss.has_value());
  }
}

TEST_CASE("spec::parse_job_spec reads slots given as a count") {
  json spec = minimal_spec();
  spec["slots"] = 4;
  const JobSpec parsed = parse_job_spec(spec.dump(), spec_path);
  REQUIRE(parsed.slots.size() == 4);
  for (const auto& slot : parsed.slots) {
    CHECK(slot.env.empty());
    CHECK(slot.launcher.empty());
  }
}

TEST_CASE("spec::stage_count counts the stages of the doubling plan in closed form, however large the budget") {
  // The plan stage by stage: τ doubles from first_stage_steps up to max_stage_steps, the last cut to fit.
  const auto counted = [](const autolrs::spec::SearchSpec& search, long budget) {
    long count = 0;
    for (long length = search.first_stage_steps; budget > 0; ++count) {
      budget -= std::min(length, search.max_stage_steps);
      length = std::min(length * 2, search.max_stage_steps);
    }
    return count;
  };
  autolrs::spec::SearchSpec search;
  for (const auto& [first, max] : {std::pair<long, long>{1000, 8000}, {1, 1}, {3, 100}, {100, 100}, {7, 1L << 40}}) {
    search.first_stage_steps = first;
    search.max_stage_steps = max;
    for (long budget : {1L, 999L, 1000L, 1001L, 14999L, 15000L, 15001L, 123457L, 1000000L}) {
      CAPTURE(first);
      CAPTURE(max);
      CAPTURE(budget);
      CHECK(autolrs::spec::stage_count(search, budget) == counted(search, budget));
    }
  }
  search.first_stage_steps = 1000;
  search.max_stage_steps = 8000;
  CHECK(autolrs::spec::stage_count(search, 1'000'000'000'000'000'000) == 3 + (1'000'000'000'000'000'000 - 7000 + 7999) / 8000);
  search.first_stage_steps = 1;
  search.max_stage_steps = LONG_MAX;
  CHECK(autolrs::spec::stage_count(search, LONG_MAX) == 63);
}

TEST_CASE("spec::parse_job_spec reads serve mode: a launch-independent command, and LR ramps from lr_ramps") {
  json spec = minimal_spec();
  CHECK(parse_job_spec(spec.dump(), spec_path).trainer.mode == autolrs::spec::TrainerMode::exec);
  spec["trainer"]["mode"] = "serve";
  spec["trainer"]["command"] = {"python3", "train.py", "--serve", "--seed", "{seed}", "--out", "{run_dir}/x"};
  spec["trainer"]["resume_args"] = json::array();
  spec["slots"] = json::parse(R"([{"launcher": ["srun", "-n1"]}])");
  const JobSpec served = parse_job_spec(spec.dump(), spec_path);
  CHECK(served.trainer.mode == autolrs::spec::TrainerMode::serve);
  CHECK_FALSE(served.trainer.takes_lr_ramps());
  spec["trainer"]["lr_ramps"] = true;
  CHECK(parse_job_spec(spec.dump(), spec_path).trainer.takes_lr_ramps());
  // {lr_end} in an exec command says the same; `{{lr}}` is literal text, not a placeholder.
  json exec = minimal_spec();
  exec["trainer"]["command"].push_back("{lr_end}");
  CHECK(parse_job_spec(exec.dump(), spec_path).trainer.takes_lr_ramps());
  spec["trainer"]["command"].push_back("--note={{lr}}");
  CHECK(parse_job_spec(spec.dump(), spec_path).trainer.command.back() == "--note={{lr}}");
}
