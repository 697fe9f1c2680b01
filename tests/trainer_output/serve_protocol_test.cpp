#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <vector>

#include "trainer_output/serve_protocol.hpp"

using autolrs::trainer_output::parse_serve_reply;
using autolrs::trainer_output::serve_command_line;
using autolrs::trainer_output::ServeCommand;

TEST_CASE("trainer_output::serve_command_line writes every launch value as one JSON line") {
  ServeCommand command;
  command.id = "stage-001-probe-03";
  command.lr = 0.001;
  command.lr_end = 0.0005;
  command.steps = 40;
  command.load_checkpoint = "/runs/a/checkpoints/step-000000100";
  command.save_checkpoint = "/runs/a/checkpoints/stage-001-probe-03.staging";
  command.seed = 7;
  command.global_step = 100;
  command.stage = 1;
  command.probe = 3;
  command.run_dir = "/runs/a \"quoted\"\nnewline";
  CHECK(serve_command_line(command) ==
        R"({"global_step":100,"id":"stage-001-probe-03","load_checkpoint":"/runs/a/checkpoints/step-000000100",)"
        R"("lr":0.001,"lr_end":0.0005,"probe":3,"run_dir":"/runs/a \"quoted\"\nnewline",)"
        R"("save_checkpoint":"/runs/a/checkpoints/stage-001-probe-03.staging","seed":7,"stage":1,"steps":40})"
        "\n");
  command.load_checkpoint.reset();
  command.probe = -1;
  const std::string line = serve_command_line(command);
  CHECK(line.find(R"("load_checkpoint":null)") != std::string::npos);
  CHECK(line.find(R"("probe":-1)") != std::string::npos);
  CHECK(line.find('\n') == line.size() - 1);
}

TEST_CASE("trainer_output::parse_serve_reply tells completions, malformed completions and ordinary lines apart") {
  struct Row {
    std::string line;
    std::optional<std::string> id;       ///< nullopt: not a reply at all
    std::string problem;
  };
  const std::vector<Row> rows = {
      {R"({"autolrs": "done", "id": "stage-000-probe-01"})", "stage-000-probe-01", ""},
      {R"(  {"id":"step","autolrs":"done","wall_s":1.5}  )", "step", ""},
      {"{\"autolrs\": \"done\", \"id\": \"x\"}\r", "x", ""},
      {R"({"autolrs": "finished", "id": "x"})", "", "\"autolrs\" must be \"done\", got \"finished\""},
      {R"({"autolrs": "done"})", "", "a completion needs \"id\", the command's id as a string"},
      {R"({"autolrs": "done", "id": 3})", "", "a completion needs \"id\", the command's id as a string"},
      {R"({"autolrs": "done", "id": ""})", "", "a completion needs \"id\", the command's id as a string"},
      {"step=3 loss=0.25", std::nullopt, ""},
      {R"({"loss": 0.25, "step": 3})", std::nullopt, ""},
      {R"(["autolrs", "done"])", std::nullopt, ""},
      {R"(log: {"autolrs": "done", "id": "x"})", std::nullopt, ""},
      {R"({"autolrs": "done", "id": "x")", std::nullopt, ""},
      {"", std::nullopt, ""},
      {"\xff\"autolrs\"", std::nullopt, ""},
  };
  for (const Row& row : rows) {
    CAPTURE(row.line);
    const auto reply = parse_serve_reply(row.line);
    REQUIRE(reply.has_value() == row.id.has_value());
    if (!reply) continue;
    CHECK(reply->id == *row.id);
    CHECK(reply->problem == row.problem);
  }
}
