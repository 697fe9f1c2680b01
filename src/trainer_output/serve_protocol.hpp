#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace autolrs::trainer_output {

/// One launch as a serve-mode trainer receives it: the values exec mode substitutes for the command's
/// placeholders (docs/trainer-protocol.md, "Serve mode").
struct ServeCommand {
  std::string id;  ///< the launch id, e.g. "stage-000-probe-01"; the completion must repeat it
  double lr = 0;
  double lr_end = 0;  ///< the LR the step after the launch would get; equals lr for a constant-LR launch
  long steps = 0;
  std::optional<std::string> load_checkpoint;  ///< null for a launch from the trainer's own initialisation
  std::string save_checkpoint;
  std::uint64_t seed = 0;
  long global_step = 0;
  int stage = 0;
  int probe = 0;  ///< -1 for warmup and stage launches, as `{probe}`
  std::string run_dir;
};

/// The command as the one line written to the trainer's stdin: a JSON object with the fields of
/// ServeCommand under the same names, ending with '\n' (no other newline: JSON escapes them).
std::string serve_command_line(const ServeCommand& command);

/// What a line a serving trainer printed says: a completion of command `id`, or a line that claims
/// to be one (a JSON object with an "autolrs" member) and is malformed (`problem`).
struct ServeReply {
  std::string id;       ///< set for a well-formed completion
  std::string problem;  ///< set for a malformed one, e.g. "\"autolrs\" must be \"done\", got \"finished\""
};

/// Reads one output line (without '\n') as a serve-mode reply: `{"autolrs": "done", "id": "<id>"}`,
/// with any other members ignored. nullopt for every other line (loss lines, logging, text that is not
/// a JSON object holding "autolrs"), which is ordinary output. Pure, never throws.
std::optional<ServeReply> parse_serve_reply(std::string_view line);

}  // namespace autolrs::trainer_output
