#include "orchestrator/resume_changes.hpp"

#include <set>

namespace autolrs::orchestrator {
namespace {

/// "/spec/trainer/command/2" → {"spec", "trainer", "command", "2"}, unescaping ~1 and ~0.
std::vector<std::string> pointer_tokens(const std::string& pointer) {
  std::vector<std::string> tokens;
  for (nlohmann::json::json_pointer rest(pointer); !rest.empty(); rest.pop_back()) tokens.insert(tokens.begin(), rest.back());
  return tokens;
}

/// The dotted name of the field a JSON pointer into an identity points into: "search.lr_min"; an
/// array element is named by its array ("trainer.command").
std::string dotted(const std::vector<std::string>& tokens, const nlohmann::json& identity) {
  std::string name;
  const nlohmann::json* node = &identity;
  for (std::size_t i = 0; i < tokens.size() && node->is_object() && node->contains(tokens[i]); ++i) {
    if (i > 0 || tokens[i] != "spec") name += (name.empty() ? "" : ".") + tokens[i];
    node = &node->at(tokens[i]);
  }
  return name.empty() ? "spec" : name;
}

bool mentions_lr_end(const nlohmann::json& identity) {
  const nlohmann::json::json_pointer command("/spec/trainer/command");
  if (!identity.contains(command) || !identity.at(command).is_array()) return false;
  for (const nlohmann::json& arg : identity.at(command)) {
    if (arg.is_string() && arg.get<std::string>().find("{lr_end}") != std::string::npos) return true;
  }
  return false;
}

}  // namespace

ResumeChanges resume_changes(const nlohmann::json& recorded, const nlohmann::json& current) {
  static const std::set<std::string, std::less<>> trainer_fields = {
      "command", "resume_args", "workdir", "env", "loss", "val_loss", "timeout_s", "idle_timeout_s", "divergence_factor"};
  ResumeChanges changes;
  std::set<std::string> seen;
  for (const nlohmann::json& operation : nlohmann::json::diff(recorded, current)) {
    const std::vector<std::string> tokens = pointer_tokens(operation.at("path").get<std::string>());
    // The name of the changed field in whichever identity has it.
    const std::string name = dotted(tokens, operation.at("op") == "add" ? current : recorded);
    if (!seen.insert(name).second) continue;
    const bool simulator = tokens.size() >= 2 && tokens[0] == "spec" && tokens[1] == "simulator";  // a dry run's trainer
    const bool trainer_field =
        simulator || (tokens.size() >= 3 && tokens[0] == "spec" && tokens[1] == "trainer" && trainer_fields.count(tokens[2]));
    const bool val_loss_added_or_removed = !simulator && tokens.size() == 3 && tokens[2] == "val_loss";
    const bool lr_ramps_changed = trainer_field && !simulator && tokens[2] == "command" && mentions_lr_end(recorded) != mentions_lr_end(current);
    (trainer_field && !val_loss_added_or_removed && !lr_ramps_changed ? changes.accepted : changes.refused).push_back(name);
  }
  return changes;
}

}  // namespace autolrs::orchestrator
