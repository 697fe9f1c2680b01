#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "spec/input_error.hpp"
#include "trainer_output/loss_line_parser.hpp"

using autolrs::spec::InputError;
using autolrs::spec::LossPatternSpec;
using autolrs::spec::StreamSelector;
using autolrs::trainer_output::LossLineParser;
using autolrs::trainer_output::OutputStream;
using autolrs::trainer_output::parse_number;
using autolrs::trainer_output::ParsedLine;

namespace {

constexpr double nan_marker = -12345;  ///< stands for NaN in tables (NaN != NaN)
constexpr double inf = std::numeric_limits<double>::infinity();

/// The README's patterns: train loss on `loss=`, val loss on `val_loss=`, both on stdout.
LossLineParser readme_parser() {
  return LossLineParser({"\\bloss=(?P<loss>\\S+)", StreamSelector::stdout_stream},
                        LossPatternSpec{"val_loss=(?P<loss>\\S+)", StreamSelector::stdout_stream});
}

void check_value(double actual, double expected) {
  if (expected == nan_marker) {
    CHECK(std::isnan(actual));
  } else {
    CHECK(actual == expected);
  }
}

}  // namespace

TEST_CASE("trainer_output::parse_number reads the longest numeric prefix, locale-independently") {
  struct Row {
    std::string text;
    double value;
  };
  const std::vector<Row> rows = {
      {"2.31", 2.31},       {"2.31,", 2.31},     {"2.31]", 2.31},     {"  0.5", 0.5},    {"+3", 3},
      {"-0.25", -0.25},     {"1e-3", 1e-3},      {"1E+2", 100},       {".5", 0.5},       {"7", 7},
      {"nan", nan_marker},  {"NaN", nan_marker}, {"-nan", nan_marker}, {"inf", inf},    {"-inf", -inf},
      {"Infinity", inf},    {"INF,", inf},       {"1e999", inf},      {"-1e999", -inf},  {"1e-999", 0},
      {std::string(400, '9'), inf},              {"0." + std::string(400, '0') + "1", 0},
      {"abc", nan_marker},  {"", nan_marker},    {"   ", nan_marker},  {"+-1", nan_marker}, {"--1", nan_marker},
      {"-", nan_marker},    {"e5", nan_marker},  {"\xff", nan_marker},
  };
  for (const Row& row : rows) {
    CAPTURE(row.text);
    check_value(parse_number(row.text), row.value);
  }
}

TEST_CASE("trainer_output::LossLineParser finds train and val losses with the README's patterns") {
  const LossLineParser parser = readme_parser();
  struct Row {
    std::string line;
    std::optional<double> train;
    std::optional<double> val;
  };
  const std::vector<Row> rows = {
      {"step=10 loss=2.5 val_loss=2.7", 2.5, 2.7},
      {"step=10 val_loss=2.7 loss=2.5", 2.5, 2.7},  // \b keeps the train pattern out of val_loss=
      {"val_loss=2.7", std::nullopt, 2.7},
      {"loss=2.5", 2.5, std::nullopt},
      {"epoch 1 done", std::nullopt, std::nullopt},
      {"", std::nullopt, std::nullopt},
      {"loss=nan", nan_marker, std::nullopt},
      {"loss=inf val_loss=-inf", inf, -inf},
      {"loss=1e999", inf, std::nullopt},
      {"loss=abc", nan_marker, std::nullopt},
      {"loss=2.31, lr=0.1", 2.31, std::nullopt},
      {"[rank0] loss=\xff\xfe", nan_marker, std::nullopt},
      {"\xc3\x28\xa0\xa1 loss=0.75 \xf0\x28\x8c\x28", 0.75, std::nullopt},  // invalid UTF-8 around it
      {std::string("\0\x01 loss=3\0", 11), 3, std::nullopt},
  };
  for (const Row& row : rows) {
    CAPTURE(row.line);
    const ParsedLine parsed = parser.parse(OutputStream::stdout_stream, row.line);
    REQUIRE(parsed.train.has_value() == row.train.has_value());
    REQUIRE(parsed.val.has_value() == row.val.has_value());
    if (row.train) check_value(parsed.train->loss, *row.train);
    if (row.val) check_value(parsed.val->loss, *row.val);
    if (parsed.train) CHECK_FALSE(parsed.train->step.has_value());  // no step group in these patterns
  }
}

TEST_CASE("trainer_output::LossLineParser reads the step group when the pattern has one") {
  const LossLineParser parser({"step (?P<step>\\S+) loss (?P<loss>\\S+)", StreamSelector::stderr_stream},
                              LossPatternSpec{"val_loss (?P<loss>[0-9.]+)", StreamSelector::stderr_stream});
  const ParsedLine parsed = parser.parse(OutputStream::stderr_stream, "12:00:01 step 40 loss 2.31 val_loss 2.40");
  REQUIRE(parsed.train.has_value());
  CHECK(parsed.train->step == 40);
  CHECK(parsed.train->loss == 2.31);
  REQUIRE(parsed.val.has_value());
  CHECK(parsed.val->loss == 2.40);
  CHECK_FALSE(parsed.val->step.has_value());

  SUBCASE("a step that is not a number is left out, the loss still counts") {
    const ParsedLine odd = parser.parse(OutputStream::stderr_stream, "step ? loss 1.5");
    REQUIRE(odd.train.has_value());
    CHECK_FALSE(odd.train->step.has_value());
    CHECK(odd.train->loss == 1.5);
  }
  SUBCASE("a step group that did not take part in the match is left out") {
    const LossLineParser optional_step({"(?:step (?P<step>\\d+) )?loss (?P<loss>\\S+)", StreamSelector::both},
                                       std::nullopt);
    const ParsedLine without = optional_step.parse(OutputStream::stdout_stream, "loss 0.5");
    REQUIRE(without.train.has_value());
    CHECK_FALSE(without.train->step.has_value());
    CHECK(optional_step.parse(OutputStream::stdout_stream, "step 7 loss 0.5").train->step == 7);
  }
}

TEST_CASE("trainer_output::LossLineParser applies each pattern to its own stream") {
  const LossLineParser parser({"loss=(?P<loss>\\S+)", StreamSelector::stderr_stream},
                              LossPatternSpec{"val=(?P<loss>\\S+)", StreamSelector::both});
  const ParsedLine from_stdout = parser.parse(OutputStream::stdout_stream, "loss=1 val=2");
  CHECK_FALSE(from_stdout.train.has_value());
  REQUIRE(from_stdout.val.has_value());
  CHECK(from_stdout.val->loss == 2);
  const ParsedLine from_stderr = parser.parse(OutputStream::stderr_stream, "loss=1 val=2");
  REQUIRE(from_stderr.train.has_value());
  CHECK(from_stderr.train->loss == 1);
  CHECK(from_stderr.val->loss == 2);

  const LossLineParser stdout_only({"loss=(?P<loss>\\S+)", StreamSelector::stdout_stream}, std::nullopt);
  CHECK_FALSE(stdout_only.parse(OutputStream::stderr_stream, "loss=1").train.has_value());
  CHECK_FALSE(stdout_only.parse(OutputStream::stdout_stream, "loss=1").val.has_value());
}

TEST_CASE("trainer_output::LossLineParser reads the last carriage-return segment that matches") {
  const LossLineParser parser = readme_parser();
  struct Row {
    std::string line;
    std::optional<double> train;
  };
  const std::vector<Row> rows = {
      {"10%|###\r20%|####\rstep=5 loss=1.0", 1.0},
      {"10%|# loss=2.0\r20%|## loss=1.5\r30%|###", 1.5},
      {"step=5 loss=1.0\r\r", 1.0},
      {"loss=4\rloss=3\rloss=2", 2},
      {"\r\r\r", std::nullopt},
      {"10%|###\r20%|####", std::nullopt},
  };
  for (const Row& row : rows) {
    CAPTURE(row.line);
    const ParsedLine parsed = parser.parse(OutputStream::stdout_stream, row.line);
    REQUIRE(parsed.train.has_value() == row.train.has_value());
    if (row.train) CHECK(parsed.train->loss == *row.train);
  }
  SUBCASE("anchors apply to each segment, as a terminal shows it") {
    const LossLineParser anchored({"^step \\d+ loss (?P<loss>\\S+)$", StreamSelector::stdout_stream}, std::nullopt);
    const ParsedLine parsed = anchored.parse(OutputStream::stdout_stream, " 50%|#####\rstep 3 loss 0.9");
    REQUIRE(parsed.train.has_value());
    CHECK(parsed.train->loss == 0.9);
  }
}

TEST_CASE("trainer_output::LossLineParser handles a line of a megabyte") {
  const LossLineParser parser = readme_parser();
  const std::string filler(1 << 20, 'x');
  const ParsedLine at_end = parser.parse(OutputStream::stdout_stream, filler + " loss=0.125");
  REQUIRE(at_end.train.has_value());
  CHECK(at_end.train->loss == 0.125);
  CHECK_FALSE(parser.parse(OutputStream::stdout_stream, filler).train.has_value());
  std::string progress;
  for (int i = 0; i < 100000; ++i) progress += "\r" + std::to_string(i) + "%";
  CHECK_FALSE(parser.parse(OutputStream::stdout_stream, progress).train.has_value());
  CHECK(parser.parse(OutputStream::stdout_stream, "loss=8" + progress).train->loss == 8);
}

TEST_CASE("trainer_output::LossLineParser refuses patterns it cannot use, naming the field") {
  CHECK_THROWS_WITH_AS(LossLineParser({"loss=(\\S+)", StreamSelector::stdout_stream}, std::nullopt),
                       "trainer.loss.pattern: needs a named group `loss`, e.g. loss=(?P<loss>\\S+); got "
                       "\"loss=(\\\\S+)\"",
                       InputError);
  CHECK_THROWS_WITH_AS(LossLineParser({"loss=(?P<loss>\\S+)", StreamSelector::stdout_stream},
                                      LossPatternSpec{"val=(?P<loss>[", StreamSelector::stdout_stream}),
                       "trainer.val_loss.pattern: invalid regular expression \"val=(?P<loss>[\": missing ]: [",
                       InputError);
}

TEST_CASE("trainer_output::LossLineParser matches UTF-8 text in patterns byte for byte") {
  const LossLineParser parser({"损失=(?P<loss>\\S+)", StreamSelector::stdout_stream}, std::nullopt);
  const ParsedLine parsed = parser.parse(OutputStream::stdout_stream, "步骤=3 损失=0.5");
  REQUIRE(parsed.train.has_value());
  CHECK(parsed.train->loss == 0.5);
}
