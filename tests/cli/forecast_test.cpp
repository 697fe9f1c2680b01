#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/app.hpp"
#include "cli/forecast.hpp"
#include "spec/input_error.hpp"
#include "support/temp_dir.hpp"

namespace {

using autolrs::cli::ForecastOptions;
using autolrs::testing::TempDir;
using autolrs::testing::write_text;

/// Redirects a standard stream into a string for its lifetime.
class StreamCapture {
 public:
  explicit StreamCapture(std::ostream& stream) : m_stream(stream), m_previous(stream.rdbuf(m_buffer.rdbuf())) {}
  ~StreamCapture() { m_stream.rdbuf(m_previous); }
  std::string text() const { return m_buffer.str(); }

 private:
  std::ostream& m_stream;
  std::ostringstream m_buffer;
  std::streambuf* m_previous;
};

/// Feeds `text` to std::cin for its lifetime.
class StdinFeed {
 public:
  explicit StdinFeed(const std::string& text) : m_buffer(text), m_previous(std::cin.rdbuf(m_buffer.rdbuf())) {}
  ~StdinFeed() { std::cin.rdbuf(m_previous); }

 private:
  std::istringstream m_buffer;
  std::streambuf* m_previous;
};

std::string exponential_lines(bool with_steps, double a, double b, double c) {
  std::string text = with_steps ? "step,loss\n" : "";
  char loss[64];
  for (int t = 0; t < 60; ++t) {
    std::snprintf(loss, sizeof loss, "%.17g", a * std::exp(b * t) + c);
    text += with_steps ? std::to_string(t) + "," + loss + "\n" : std::string(loss) + "\n";
  }
  return text;
}

nlohmann::json run_and_parse(const ForecastOptions& options) {
  StreamCapture out(std::cout);
  CHECK(autolrs::cli::run_forecast(options) == 0);
  return nlohmann::json::parse(out.text());
}

int main_with(std::vector<std::string> args) {
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  return autolrs::cli::main_entry(static_cast<int>(argv.size()), argv.data());
}

}  // namespace

TEST_CASE("cli::run_forecast prints one JSON object with the fit and its status") {
  TempDir directory;
  SUBCASE("step,loss lines with a header, from a file") {
    write_text(directory / "losses.csv", exponential_lines(true, 2.0, -0.05, 0.5));
    const nlohmann::json json = run_and_parse({(directory / "losses.csv").string(), 600, "train"});
    CHECK(json.at("status") == "ok");
    CHECK(json.at("prediction").get<double>() == doctest::Approx(2.0 * std::exp(-30.0) + 0.5).epsilon(1e-6));
    CHECK(json.at("a").get<double>() == doctest::Approx(2.0).epsilon(1e-6));
    CHECK(json.at("b").get<double>() == doctest::Approx(-0.05).epsilon(1e-6));
    CHECK(json.at("c").get<double>() == doctest::Approx(0.5).epsilon(1e-6));
    CHECK(json.at("points_used") == 60);
    CHECK(json.at("residual_scale").get<double>() < 1e-6);
    CHECK(json.at("prediction_std").get<double>() < 1e-6);
    CHECK(json.at("shape") == "exponential");
    CHECK(json.at("t0") == 0.0);
    CHECK(json.at("power_law_weight") == 0.0);
    CHECK(json.size() == 11);
  }
  SUBCASE("bare losses from stdin sit at steps 0, 1, 2, ...") {
    StdinFeed feed("\n" + exponential_lines(false, 1.0, -0.1, 1.0) + "\n\n");
    const nlohmann::json json = run_and_parse({"-", 30, "val"});
    CHECK(json.at("status") == "ok");
    CHECK(json.at("prediction").get<double>() == doctest::Approx(1.0 + std::exp(-3.0)).epsilon(1e-6));
  }
  SUBCASE("a series holding nan is reported as diverged, with a finite prediction") {
    StdinFeed feed("loss\n3\n2.5\nnan\n2\n");
    const nlohmann::json json = run_and_parse({"-", 100, "train"});
    CHECK(json.at("status") == "diverged");
    CHECK(json.at("prediction") == 3.0);
  }
}

TEST_CASE("cli::read_loss_series rejects unusable input with the line it is on") {
  struct Case {
    std::string text, message;
  };
  const Case cases[] = {
      {"1,2.0\n2,1.5\nthree,1.0\n", "in:3: expected a loss or 'step,loss', got 'three,1.0'"},
      {"2.0\n1.5\n1,1.0\n", "in:3: mixes lines with and without steps"},
      {"1,2.0\n1,1.5\n", "in:2: steps must increase"},
      {"1,2,3\n4,5,6\n", "in:2: expected a loss or 'step,loss', got '4,5,6'"},
      {"step,loss\n\n", "in: no losses"},
      {"", "in: no losses"},
      {"inf,2.0\n", "in:1: step is not finite"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.text);
    std::istringstream in(c.text);
    CHECK_THROWS_WITH_AS(autolrs::cli::read_loss_series(in, "in"), c.message.c_str(), autolrs::spec::InputError);
  }
  std::istringstream windows("step,loss\r\n 0, 2.0\r\n1 ,1.5\r\n");
  const auto series = autolrs::cli::read_loss_series(windows, "in");
  CHECK(series.steps == std::vector<double>{0, 1});
  CHECK(series.losses == std::vector<double>{2.0, 1.5});
}

TEST_CASE("cli::main_entry forecast --family chooses the curves: exponential alone, or with a power law") {
  // 3 (t + 20)^-0.8 + 0.4 at steps 0..199: the default fits the power law, --family exponential
  // keeps the paper's exponential, which levels off higher.
  TempDir directory;
  std::string text = "step,loss\n";
  char line[96];
  for (int t = 0; t < 200; ++t) {
    std::snprintf(line, sizeof line, "%d,%.17g\n", t, 3 * std::pow(t + 20.0, -0.8) + 0.4);
    text += line;
  }
  write_text(directory / "power_law.csv", text);
  const auto forecast = [&](std::vector<std::string> extra) {
    std::vector<std::string> args{"autolrs", "forecast", (directory / "power_law.csv").string(), "--horizon", "2000"};
    args.insert(args.end(), extra.begin(), extra.end());
    StreamCapture out(std::cout);
    CHECK(main_with(args) == 0);
    return nlohmann::json::parse(out.text());
  };
  const double truth = 3 * std::pow(2020.0, -0.8) + 0.4;
  const nlohmann::json either = forecast({});
  CHECK(either.at("shape") == "power_law");
  CHECK(either.at("power_law_weight").get<double>() > 0.999);
  CHECK(either.at("b").get<double>() < 0);
  CHECK(either.at("prediction").get<double>() == doctest::Approx(truth).epsilon(0.01));
  const nlohmann::json exponential = forecast({"--family", "exponential"});
  CHECK(exponential.at("shape") == "exponential");
  CHECK(exponential.at("power_law_weight") == 0.0);
  CHECK(exponential.at("prediction").get<double>() > 1.05 * truth);
  StreamCapture err(std::cerr);
  CHECK(main_with({"autolrs", "forecast", (directory / "power_law.csv").string(), "--horizon", "2000", "--family",
                   "power_law"}) == 2);
}

TEST_CASE("cli::run_forecast rejects a missing file, a bad kind or family and a non-finite horizon") {
  CHECK_THROWS_WITH_AS(autolrs::cli::run_forecast({"/nonexistent/losses.csv", 10, "train"}),
                       "/nonexistent/losses.csv: cannot open", autolrs::spec::InputError);
  CHECK_THROWS_WITH_AS(autolrs::cli::run_forecast({"-", 10, "test"}), "--kind: must be train or val, got 'test'",
                       autolrs::spec::InputError);
  CHECK_THROWS_WITH_AS(autolrs::cli::run_forecast({"-", INFINITY, "train"}), "--horizon: must be finite",
                       autolrs::spec::InputError);
  CHECK_THROWS_WITH_AS(autolrs::cli::run_forecast({"-", 10, "train", "power_law"}),
                       "--family: must be exponential_or_power_law or exponential, got 'power_law'",
                       autolrs::spec::InputError);
}

TEST_CASE("cli::main_entry forecast exits 2 with a clear message on unusable input") {
  TempDir directory;
  write_text(directory / "bad.txt", "2.0\nlots\n");
  StreamCapture err(std::cerr);
  CHECK(main_with({"autolrs", "forecast", (directory / "bad.txt").string(), "--horizon", "100"}) == 2);
  CHECK(err.text() == "autolrs: error: " + (directory / "bad.txt").string() +
                          ":2: expected a loss or 'step,loss', got 'lots'\n");
}

TEST_CASE("cli::main_entry forecast parses its options and prints the forecast") {
  TempDir directory;
  write_text(directory / "losses.txt", exponential_lines(false, 1.0, -0.2, 2.0));
  StreamCapture out(std::cout);
  CHECK(main_with({"autolrs", "forecast", (directory / "losses.txt").string(), "--horizon", "500", "--kind", "val"}) ==
        0);
  const nlohmann::json json = nlohmann::json::parse(out.text());
  CHECK(json.at("prediction").get<double>() == doctest::Approx(2.0).epsilon(1e-6));
}
