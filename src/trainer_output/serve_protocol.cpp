#include "trainer_output/serve_protocol.hpp"

#include <nlohmann/json.hpp>

namespace autolrs::trainer_output {

std::string serve_command_line(const ServeCommand& command) {
  const nlohmann::json object = {
      {"id", command.id},
      {"lr", command.lr},
      {"lr_end", command.lr_end},
      {"steps", command.steps},
      {"load_checkpoint", command.load_checkpoint ? nlohmann::json(*command.load_checkpoint) : nlohmann::json(nullptr)},
      {"save_checkpoint", command.save_checkpoint},
      {"seed", command.seed},
      {"global_step", command.global_step},
      {"stage", command.stage},
      {"probe", command.probe},
      {"run_dir", command.run_dir},
  };
  // Invalid UTF-8 in a path is replaced rather than thrown on: paths come from the spec, which is JSON.
  return object.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::optional<ServeReply> parse_serve_reply(std::string_view line) {
  // Most lines are loss lines: only text that mentions the key is parsed.
  if (line.find("\"autolrs\"") == std::string_view::npos) return std::nullopt;
  const nlohmann::json reply = nlohmann::json::parse(line, nullptr, false);
  if (!reply.is_object() || !reply.contains("autolrs")) return std::nullopt;
  const nlohmann::json& kind = reply.at("autolrs");
  if (kind != "done") return ServeReply{"", "\"autolrs\" must be \"done\", got " + kind.dump()};
  const auto id = reply.find("id");
  if (id == reply.end() || !id->is_string() || id->get_ref<const std::string&>().empty()) {
    return ServeReply{"", "a completion needs \"id\", the command's id as a string"};
  }
  return ServeReply{id->get<std::string>(), ""};
}

}  // namespace autolrs::trainer_output
