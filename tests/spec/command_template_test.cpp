#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "spec/command_template.hpp"
#include "spec/input_error.hpp"

using autolrs::spec::check_placeholders;
using autolrs::spec::expand_command;
using autolrs::spec::format_number;
using autolrs::spec::InputError;

TEST_CASE("spec::check_placeholders accepts known placeholders and escapes, and names what is wrong") {
  struct Row {
    std::string argument;
    std::optional<std::string> error;
  };
  const std::vector<Row> rows = {
      {"train.py", std::nullopt},
      {"{lr}", std::nullopt},
      {"--lr={lr}", std::nullopt},
      {"model_in={load_checkpoint}", std::nullopt},
      {"{stage}-{probe}-{global_step}-{steps}-{seed}-{run_dir}-{save_checkpoint}", std::nullopt},
      {"{{literal}}", std::nullopt},
      {"--config={{\"lr\": {lr}}}", std::nullopt},
      {"", std::nullopt},
      {"{lrr}", "unknown placeholder {lrr} (did you mean {lr}?)"},
      {"--save={save_chekpoint}", "unknown placeholder {save_chekpoint} (did you mean {save_checkpoint}?)"},
      {"{LR}", "unknown placeholder {LR} (did you mean {lr}?)"},
      {"{model}",
       "unknown placeholder {model} (known: {lr}, {lr_end}, {steps}, {save_checkpoint}, {load_checkpoint}, {global_step}, "
       "{stage}, {probe}, {seed}, {run_dir}; write {{ and }} for literal braces)"},
      {"{}",
       "unknown placeholder {} (known: {lr}, {lr_end}, {steps}, {save_checkpoint}, {load_checkpoint}, {global_step}, "
       "{stage}, {probe}, {seed}, {run_dir}; write {{ and }} for literal braces)"},
      {"--lr={lr", "unclosed placeholder \"{lr\" (write {{ and }} for literal braces)"},
      {"{a{lr}", "malformed placeholder \"{a{lr}\" (write {{ and }} for literal braces)"},
      {"lr}", "single } without a matching { (write {{ and }} for literal braces)"},
      {"{\x01}",
       "unknown placeholder {\\x01} (known: {lr}, {lr_end}, {steps}, {save_checkpoint}, {load_checkpoint}, {global_step}, "
       "{stage}, {probe}, {seed}, {run_dir}; write {{ and }} for literal braces)"},
  };
  for (const Row& row : rows) {
    CAPTURE(row.argument);
    CHECK(check_placeholders(row.argument) == row.error);
  }
}

TEST_CASE("spec::expand_command substitutes values inside elements and unescapes braces") {
  const std::map<std::string, std::string> values = {
      {"lr", "0.01"}, {"steps", "100"}, {"load_checkpoint", "/runs/a/ckpt-3"}, {"probe", "2"}, {"stage", "3"}};
  const std::vector<std::string> argv = expand_command(
      {"python3", "train.py", "--lr", "{lr}", "steps={steps}", "model_in={load_checkpoint}", "s{stage}p{probe}",
       "{{x}}={{{lr}}}"},
      values);
  CHECK(argv == std::vector<std::string>{"python3", "train.py", "--lr", "0.01", "steps=100",
                                         "model_in=/runs/a/ckpt-3", "s3p2", "{x}={0.01}"});
}

TEST_CASE("spec::uses_placeholder finds a placeholder in any element, not its escaped text") {
  using autolrs::spec::uses_placeholder;
  CHECK(uses_placeholder({"train.py", "--lr", "{lr}", "--lr-end={lr_end}"}, "lr_end"));
  CHECK_FALSE(uses_placeholder({"train.py", "--lr", "{lr}"}, "lr_end"));
  CHECK_FALSE(uses_placeholder({"train.py", "{{lr_end}}"}, "lr_end"));  // literal braces
  CHECK_FALSE(uses_placeholder({}, "lr"));
}

TEST_CASE("spec::expand_command names the element whose placeholder has no value") {
  try {
    expand_command({"--load", "{load_checkpoint}"}, {{"lr", "1"}}, "trainer.resume_args");
    FAIL("expected an InputError");
  } catch (const InputError& error) {
    CHECK(error.field() == "trainer.resume_args[1]");
    CHECK(std::string(error.what()) ==
          "trainer.resume_args[1]: placeholder {load_checkpoint} has no value in this launch");
  }
  CHECK_THROWS_WITH_AS(expand_command({"x", "y", "{bad}"}, {}), doctest::Contains("trainer.command[2]: unknown"),
                       InputError);
}

TEST_CASE("spec::format_number writes the shortest text that reads back exactly") {
  struct Row {
    double value;
    std::string text;
  };
  const std::vector<Row> rows = {
      {0.1, "0.1"},
      {1e-4, "1e-04"},
      {0.001, "0.001"},
      {1e-5, "1e-05"},
      {2.0, "2"},
      {1000, "1000"},
      {-0.25, "-0.25"},
      {0.1 + 0.2, "0.30000000000000004"},
      {1e300, "1e+300"},
      {std::numeric_limits<double>::infinity(), "inf"},
      {-std::numeric_limits<double>::infinity(), "-inf"},
      {std::numeric_limits<double>::quiet_NaN(), "nan"},
  };
  for (const Row& row : rows) {
    CAPTURE(row.text);
    CHECK(format_number(row.value) == row.text);
    if (std::isfinite(row.value)) CHECK(std::stod(row.text) == row.value);
  }
}
