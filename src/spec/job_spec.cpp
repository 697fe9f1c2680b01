#include "spec/job_spec.hpp"

#include <algorithm>
#include <climits>
#include <filesystem>
#include <set>

#include "spec/command_template.hpp"
#include "spec/did_you_mean.hpp"
#include "spec/input_error.hpp"
#include "spec/json_field.hpp"
#include "spec/loss_pattern.hpp"

namespace autolrs::spec {

namespace {

using nlohmann::json;

/// Where the JSON parser is: one frame per open object or array, for the paths in messages.
struct ParseFrame {
  bool is_array = false;
  std::size_t index = 0;       ///< arrays: the element being read
  std::string key;             ///< objects: the member being read
  std::set<std::string> keys;  ///< objects: the keys seen so far
};

std::string frames_path(const std::vector<ParseFrame>& frames) {
  std::string path;
  for (const ParseFrame& frame : frames) {
    if (frame.is_array) {
      path += "[" + std::to_string(frame.index) + "]";
    } else {
      path += (path.empty() ? "" : ".") + printable(frame.key);
    }
  }
  return path;
}

/// Parses `text` without recursion on its nesting, refusing duplicate keys and depth > max_spec_depth.
json parse_document(std::string_view text, const std::string& document) {
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    throw InputError(document, "the spec is empty (expected a JSON object)");
  }
  std::vector<ParseFrame> frames;
  auto element_done = [&frames] {
    if (!frames.empty() && frames.back().is_array) ++frames.back().index;
  };
  const json::parser_callback_t on_event = [&](int, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        if (frames.size() >= static_cast<std::size_t>(max_spec_depth)) {
          throw InputError(document, "nested deeper than " + std::to_string(max_spec_depth) + " levels at " +
                                         printable(frames_path(frames), 100));
        }
        frames.push_back({event == json::parse_event_t::array_start, 0, {}, {}});
        break;
      case json::parse_event_t::key: {
        ParseFrame& frame = frames.back();
        frame.key = parsed.get<std::string>();
        if (!frame.keys.insert(frame.key).second) throw InputError(frames_path(frames), "duplicate key");
        break;
      }
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        frames.pop_back();
        element_done();
        break;
      case json::parse_event_t::value:
        element_done();
        break;
    }
    return true;
  };
  try {
    return json::parse(text.begin(), text.end(), on_event);
  } catch (const json::exception& error) {
    // what() is "[json.exception.parse_error.101] parse error at line 1, column 5: ..."
    std::string_view detail = error.what();
    if (const std::size_t end = detail.find("] "); end != std::string_view::npos) detail.remove_prefix(end + 2);
    const std::string path = frames_path(frames);
    const std::string near = path.empty() ? "" : " (near " + printable(path, 100) + ")";
    throw InputError(document, "not valid JSON" + near + ": " + printable(detail, 200));
  }
}

/// One of `choices`, with a "did you mean" for a near miss.
std::size_t read_choice(const JsonField& field, const std::vector<std::string>& choices) {
  std::string list;
  for (const std::string& choice : choices) list += (list.empty() ? "\"" : ", \"") + choice + "\"";
  if (!field.value().is_string()) field.fail("must be one of " + list + ", got " + field.describe());
  const std::string text = field.string();
  for (std::size_t i = 0; i < choices.size(); ++i) {
    if (text == choices[i]) return i;
  }
  const std::optional<std::string> close = did_you_mean(text, choices);
  field.fail("must be one of " + list + ", got " + field.describe() +
             (close ? " (did you mean \"" + *close + "\"?)" : ""));
}

double read_number_above(const JsonField& field, double bound) {
  const double value = field.number();
  if (!(value > bound)) field.fail("must be > " + format_number(bound) + ", got " + format_number(value));
  return value;
}

double read_number_at_least(const JsonField& field, double bound) {
  const double value = field.number();
  if (value < bound) field.fail("must be >= " + format_number(bound) + ", got " + format_number(value));
  return value;
}

std::string read_non_empty_string(const JsonField& field) {
  std::string text = field.string();
  if (text.empty()) field.fail("must not be empty");
  return text;
}

/// `given` made absolute against `base` and normalized, without a trailing '/'.
std::string resolve_path(const std::filesystem::path& base, const std::string& given) {
  std::filesystem::path path(given);
  if (path.is_relative()) path = base / path;
  std::string text = path.lexically_normal().string();
  if (text.size() > 1 && text.back() == '/') text.pop_back();
  return text;
}

std::vector<std::string> read_command_template(const JsonField& field) {
  std::vector<std::string> elements;
  for (const JsonField& element : field.elements()) {
    elements.push_back(element.string());
    if (std::optional<std::string> error = check_placeholders(elements.back())) element.fail(*error);
  }
  return elements;
}

std::map<std::string, std::string> read_environment(const JsonField& field) {
  for (const auto& [name, value] : field.members()) {
    if (name.empty() || name.find_first_of(std::string_view("=\0", 2)) != std::string::npos) {
      value.fail("an environment variable name must be non-empty, without '=' or NUL");
    }
  }
  return field.string_map();
}

LossPatternSpec read_loss_pattern(const JsonField& field) {
  field.require_object({"pattern", "stream"});
  LossPatternSpec loss;
  const JsonField pattern = field.required_member("pattern");
  loss.pattern = pattern.string();
  compile_loss_pattern(loss.pattern, pattern.path());
  if (const std::optional<JsonField> stream = field.member("stream")) {
    constexpr StreamSelector streams[] = {StreamSelector::stdout_stream, StreamSelector::stderr_stream,
                                          StreamSelector::both};
    loss.stream = streams[read_choice(*stream, {"stdout", "stderr", "both"})];
  }
  return loss;
}

/// Fails on the first element of a serve-mode template (trainer.command, a slot's launcher) that uses a
/// placeholder whose value varies per launch: the process it starts serves every launch of its slot.
void require_launch_independent(const JsonField& command_template) {
  for (const JsonField& element : command_template.elements()) {
    for (const std::string& name : per_launch_placeholders()) {
      if (uses_placeholder({element.string()}, name)) {
        element.fail("{" + name + "} differs per launch, and in serve mode this command starts one trainer for all "
                     "the launches of a slot; the trainer reads " + name + " from each command on its stdin "
                     "(docs/trainer-protocol.md, \"Serve mode\")");
      }
    }
  }
}

TrainerSpec read_trainer(const JsonField& field, const std::filesystem::path& spec_dir) {
  field.require_object({"mode", "command", "resume_args", "workdir", "env", "loss", "val_loss", "timeout_s",
                        "idle_timeout_s", "max_retries", "divergence_factor", "lr_ramps"});
  TrainerSpec trainer;
  if (const std::optional<JsonField> mode = field.member("mode")) {
    trainer.mode = read_choice(*mode, {"exec", "serve"}) == 0 ? TrainerMode::exec : TrainerMode::serve;
  }
  const bool serve = trainer.mode == TrainerMode::serve;
  const JsonField command = field.required_member("command");
  trainer.command = read_command_template(command);
  if (serve) require_launch_independent(command);
  if (trainer.command.empty()) command.fail("must name the program to run, got an empty array");
  if (trainer.command.front().empty()) command.elements().front().fail("the program must not be empty");
  if (const std::optional<JsonField> resume_args = field.member("resume_args")) {
    trainer.resume_args = read_command_template(*resume_args);
    if (serve && !trainer.resume_args.empty()) {
      resume_args->fail("not used in serve mode: each command on the trainer's stdin names its load_checkpoint");
    }
  }
  trainer.workdir = resolve_path(spec_dir, ".");
  if (const std::optional<JsonField> workdir = field.member("workdir")) {
    trainer.workdir = resolve_path(spec_dir, read_non_empty_string(*workdir));
  }
  if (const std::optional<JsonField> env = field.member("env")) trainer.env = read_environment(*env);
  trainer.loss = read_loss_pattern(field.required_member("loss"));
  if (const std::optional<JsonField> val_loss = field.member("val_loss"); val_loss && !val_loss->value().is_null()) {
    trainer.val_loss = read_loss_pattern(*val_loss);
  }
  if (const std::optional<JsonField> timeout = field.member("timeout_s")) {
    trainer.timeout_s = read_number_at_least(*timeout, 0);
  }
  if (const std::optional<JsonField> idle_timeout = field.member("idle_timeout_s")) {
    trainer.idle_timeout_s = read_number_at_least(*idle_timeout, 0);
  }
  if (const std::optional<JsonField> retries = field.member("max_retries")) {
    trainer.max_retries = static_cast<int>(retries->integer(0, 1000));
  }
  if (const std::optional<JsonField> factor = field.member("divergence_factor")) {
    trainer.divergence_factor = read_number_above(*factor, 1);
  }
  if (const std::optional<JsonField> lr_ramps = field.member("lr_ramps")) {
    if (!serve) lr_ramps->fail("only for trainer.mode \"serve\"; in exec mode, put {lr_end} in trainer.command");
    trainer.lr_ramps = lr_ramps->boolean();
  }
  return trainer;
}

SearchSpec read_search(const JsonField& field, bool has_val_loss) {
  field.require_object({"preset", "lr_min", "lr_max", "probes_per_stage", "first_stage_steps", "max_stage_steps",
                        "probe_fraction", "objective", "decay_shape"});
  SearchSpec search;
  if (const std::optional<JsonField> preset = field.member("preset")) {
    const std::vector<std::string> presets = {"default", "stagewise", "paper"};
    search.preset = presets[read_choice(*preset, presets)];
  }
  if (const std::optional<JsonField> shape = field.member("decay_shape")) {
    const std::vector<std::string> shapes = {"auto", "cubic", "quadratic", "cosine", "linear", "wsd"};
    search.decay_shape = shapes[read_choice(*shape, shapes)];
  }
  if (const std::optional<JsonField> lr_min = field.member("lr_min")) search.lr_min = read_number_above(*lr_min, 0);
  if (const std::optional<JsonField> lr_max = field.member("lr_max")) search.lr_max = read_number_above(*lr_max, 0);
  if (!(search.lr_max > search.lr_min)) {
    const std::string swapped = search.lr_max < search.lr_min ? " (are the bounds swapped?)" : "";
    if (const std::optional<JsonField> lr_max = field.member("lr_max")) {
      lr_max->fail("must be > search.lr_min (" + format_number(search.lr_min) + "), got " +
                   format_number(search.lr_max) + swapped);
    }
    field.member("lr_min")->fail("must be < search.lr_max (" + format_number(search.lr_max) + "), got " +
                                 format_number(search.lr_min) + swapped);
  }
  if (const std::optional<JsonField> probes = field.member("probes_per_stage")) {
    search.probes_per_stage = static_cast<int>(probes->integer(1, 1000));
  }
  if (const std::optional<JsonField> first = field.member("first_stage_steps")) {
    search.first_stage_steps = first->integer(1, LONG_MAX);
  }
  if (const std::optional<JsonField> max_steps = field.member("max_stage_steps")) {
    search.max_stage_steps = max_steps->integer(1, LONG_MAX);
  }
  if (search.max_stage_steps < search.first_stage_steps) {
    if (const std::optional<JsonField> max_steps = field.member("max_stage_steps")) {
      max_steps->fail("must be >= search.first_stage_steps (" + std::to_string(search.first_stage_steps) +
                      "), got " + std::to_string(search.max_stage_steps));
    }
    field.member("first_stage_steps")->fail("must be <= search.max_stage_steps (" +
                                            std::to_string(search.max_stage_steps) + "), got " +
                                            std::to_string(search.first_stage_steps));
  }
  if (const std::optional<JsonField> fraction = field.member("probe_fraction")) {
    search.probe_fraction = fraction->number();
    if (!(search.probe_fraction > 0 && search.probe_fraction <= 1)) {
      fraction->fail("must be in (0, 1], got " + format_number(search.probe_fraction));
    }
  }
  if (const std::optional<JsonField> objective = field.member("objective")) {
    constexpr Objective objectives[] = {Objective::train_loss, Objective::val_loss, Objective::automatic};
    search.objective = objectives[read_choice(*objective, {"train_loss", "val_loss", "auto"})];
    if (search.objective == Objective::val_loss && !has_val_loss) {
      objective->fail("\"val_loss\" needs trainer.val_loss, a pattern for validation-loss lines");
    }
  }
  return search;
}

/// Refuses runs whose step counts or number of stages nothing can plan, track or journal (and whose
/// step arithmetic would overflow): total_steps beyond max_total_steps, more than max_stages stages.
void check_run_size(const JsonField& total_steps, const JobSpec& spec) {
  if (spec.total_steps > max_total_steps) {
    total_steps.fail("must be at most " + format_number(static_cast<double>(max_total_steps)) + ", got " +
                     std::to_string(spec.total_steps));
  }
  const long stages = stage_count(spec.search, spec.total_steps - spec.warmup.steps);
  if (stages > max_stages) {
    total_steps.fail("cuts the run into " + std::to_string(stages) + " stages of at most search.max_stage_steps = " +
                     std::to_string(spec.search.max_stage_steps) + " steps; at most " + std::to_string(max_stages) +
                     " are supported: raise search.max_stage_steps or lower total_steps");
  }
}

WarmupSpec read_warmup(const JsonField& field, long total_steps) {
  field.require_object({"steps", "lr"});
  WarmupSpec warmup;
  if (const std::optional<JsonField> steps = field.member("steps")) {
    warmup.steps = steps->integer(0, LONG_MAX);
    if (warmup.steps >= total_steps) {
      steps->fail("must be < total_steps (" + std::to_string(total_steps) + "), got " + std::to_string(warmup.steps));
    }
  }
  const std::optional<JsonField> lr = field.member("lr");
  if (lr) warmup.lr = read_number_at_least(*lr, 0);
  if (warmup.steps > 0 && warmup.lr == 0) {
    if (!lr) field.fail("needs lr > 0 when steps > 0");
    lr->fail("must be > 0 when warmup.steps > 0, got 0");
  }
  return warmup;
}

std::string read_name(const JsonField& field) {
  const std::string name = read_non_empty_string(field);
  auto allowed = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           c == '.';
  };
  const bool safe = name.size() <= 100 && name.front() != '.' && name.front() != '-' &&
                    std::all_of(name.begin(), name.end(), allowed);
  if (!safe) {
    field.fail("must be a folder name of at most 100 letters, digits, '_', '-' or '.', not starting with '.' or "
               "'-', got " + field.describe());
  }
  return name;
}

std::map<std::string, std::string> read_simulator_options(const JsonField& field) {
  std::map<std::string, std::string> options;
  for (const auto& [key, value] : field.members()) {
    const bool option_name = !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    });
    if (!option_name) value.fail("must be a simulator option name (letters, digits and '_')");
    const json& raw = value.value();
    if (raw.is_number_integer()) {
      options[key] = raw.dump();
    } else if (raw.is_number()) {
      options[key] = format_number(value.number());
    } else if (raw.is_boolean()) {
      options[key] = raw.get<bool>() ? "true" : "false";
    } else if (raw.is_string()) {
      options[key] = value.string();
    } else {
      value.fail("must be a number, string or boolean, got " + value.describe());
    }
  }
  return options;
}

std::vector<SlotSpec> read_slots(const JsonField& field, TrainerMode mode) {
  constexpr std::int64_t max_slots = 1024;
  if (field.value().is_number()) return std::vector<SlotSpec>(static_cast<std::size_t>(field.integer(1, max_slots)));
  if (!field.value().is_array()) {
    field.fail("must be a number of slots or an array of slot objects, got " + field.describe());
  }
  const std::vector<JsonField> elements = field.elements();
  if (elements.empty()) field.fail("must hold at least one slot, got an empty array");
  if (elements.size() > max_slots) field.fail("must hold at most " + std::to_string(max_slots) + " slots");
  std::vector<SlotSpec> slots;
  for (const JsonField& element : elements) {
    element.require_object({"env", "launcher"});
    SlotSpec& slot = slots.emplace_back();
    if (const std::optional<JsonField> env = element.member("env")) slot.env = read_environment(*env);
    if (const std::optional<JsonField> launcher = element.member("launcher")) {
      slot.launcher = read_command_template(*launcher);
      if (mode == TrainerMode::serve) require_launch_independent(*launcher);
    }
  }
  return slots;
}

}  // namespace

JobSpec parse_job_spec(std::string_view text, const std::string& spec_path) {
  const std::string document = spec_path.empty() ? "job spec" : spec_path;
  JobSpec spec;
  spec.source = parse_document(text, document);
  std::filesystem::path spec_dir = std::filesystem::current_path();
  if (!spec_path.empty()) {
    spec.spec_path = resolve_path(spec_dir, spec_path);
    spec_dir = std::filesystem::path(spec.spec_path).parent_path();
  }

  const JsonField root(spec.source, "");
  if (!spec.source.is_object()) throw InputError(document, "must be a JSON object, got " + root.describe());
  root.require_object({"$schema", "description", "name", "trainer", "search", "total_steps", "warmup",
                       "initial_checkpoint", "seed", "run_dir", "keep_checkpoints", "simulator", "slots"});
  for (const char* text_only : {"$schema", "description"}) {
    if (const std::optional<JsonField> note = root.member(text_only)) note->string();
  }
  spec.name = read_name(root.required_member("name"));
  spec.total_steps = root.required_member("total_steps").integer(1, LONG_MAX);
  spec.trainer = read_trainer(root.required_member("trainer"), spec_dir);
  if (const std::optional<JsonField> search = root.member("search")) {
    spec.search = read_search(*search, spec.trainer.val_loss.has_value());
  }
  if (const std::optional<JsonField> warmup = root.member("warmup")) {
    spec.warmup = read_warmup(*warmup, spec.total_steps);
  }
  check_run_size(root.required_member("total_steps"), spec);
  if (const std::optional<JsonField> checkpoint = root.member("initial_checkpoint");
      checkpoint && !checkpoint->value().is_null()) {
    if (!checkpoint->value().is_string()) checkpoint->fail("must be null or a path, got " + checkpoint->describe());
    spec.initial_checkpoint = resolve_path(spec_dir, read_non_empty_string(*checkpoint));
  }
  if (const std::optional<JsonField> seed = root.member("seed")) {
    spec.seed = static_cast<std::uint64_t>(seed->integer(0, LLONG_MAX));
  }
  spec.run_dir = resolve_path(spec_dir, "runs/" + spec.name);
  if (const std::optional<JsonField> run_dir = root.member("run_dir")) {
    spec.run_dir = resolve_path(spec_dir, read_non_empty_string(*run_dir));
  }
  if (const std::optional<JsonField> keep = root.member("keep_checkpoints")) {
    spec.keep_checkpoints = static_cast<int>(keep->integer(1, INT_MAX));
  }
  if (const std::optional<JsonField> simulator = root.member("simulator")) {
    spec.simulator_options = read_simulator_options(*simulator);
  }
  if (const std::optional<JsonField> slots = root.member("slots")) spec.slots = read_slots(*slots, spec.trainer.mode);
  return spec;
}

long stage_count(const SearchSpec& search, long stage_budget) {
  // τ doubles from first_stage_steps while below max_stage_steps (at most 63 doublings of a long),
  // then stays at max_stage_steps; the last stage is cut to fit.
  long count = 0;
  for (long length = search.first_stage_steps; stage_budget > 0 && length < search.max_stage_steps; length *= 2) {
    stage_budget -= std::min(length, search.max_stage_steps);
    ++count;
    if (length > LONG_MAX / 2) break;
  }
  if (stage_budget <= 0) return count;
  return count + (stage_budget + search.max_stage_steps - 1) / search.max_stage_steps;
}

const std::vector<std::string>& per_launch_placeholders() {
  static const std::vector<std::string> names = {"lr",    "lr_end", "steps", "save_checkpoint", "load_checkpoint",
                                                 "global_step", "stage", "probe"};
  return names;
}

bool TrainerSpec::takes_lr_ramps() const {
  return mode == TrainerMode::serve ? lr_ramps : uses_placeholder(command, "lr_end");
}

}  // namespace autolrs::spec
