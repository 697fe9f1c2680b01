#include "simulator/training_run.hpp"

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "simulator/checkpoint.hpp"
#include "spec/input_error.hpp"

namespace autolrs::simulator {
namespace {

/// A launch's edges in memory: its output, the sleeps it asked for, its checkpoint files. A sleep of an
/// hour (the hang fault's) throws, to end the launch.
struct RecordedIo : TrainingIo {
  void write_out(std::string_view bytes) override { pending += bytes; }
  void flush_out() override {
    out += pending;
    pending.clear();
  }
  void write_error(std::string_view line) override { err += line; }
  void sleep_ms(double milliseconds) override {
    if (milliseconds >= 3'600'000) throw std::runtime_error("hung");
    sleeps.push_back(milliseconds);
  }
  std::string read_checkpoint(const std::string& path) override {
    const auto file = files.find(path);
    if (file == files.end()) throw spec::InputError("--load", "cannot read " + path);
    return file->second;
  }
  void save_checkpoint(const std::string& path, std::string_view bytes) override { files[path] = std::string(bytes); }

  std::string out, pending, err;
  std::vector<double> sleeps;
  std::map<std::string, std::string> files;
};

TrainingOptions launch(double lr, std::int64_t steps, const std::string& save) {
  TrainingOptions options;
  options.lr = lr;
  options.steps = steps;
  options.save_path = save;
  options.val_every = 2;
  options.seed = 5;
  return options;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  for (size_t start = 0, end; (end = text.find('\n', start)) != std::string::npos; start = end + 1) lines.push_back(text.substr(start, end - start));
  return lines;
}

std::string prefix_of(const std::string& line) { return line.substr(0, line.find('=', line.find(' ')) + 1); }

TEST_CASE("simulator::run_training prints a loss line per step, val lines every val_every steps and at the end, and saves its state") {
  RecordedIo io;
  TrainingOptions options = launch(0.03, 3, "/ckpt/a");
  options.step_ms = 2;
  options.startup_ms = 7;
  CHECK(run_training(options, io) == 0);
  std::vector<std::string> prefixes;
  for (const std::string& line : lines_of(io.out)) prefixes.push_back(prefix_of(line));
  CHECK(prefixes == std::vector<std::string>{"step=1 loss=", "step=2 loss=", "step=2 val_loss=", "step=3 loss=", "step=3 val_loss="});
  CHECK(io.pending.empty());
  CHECK(io.err.empty());
  CHECK(io.sleeps == std::vector<double>{7, 2, 2, 2});
  const Checkpoint saved = parse_checkpoint(io.files.at("/ckpt/a"), "a");
  CHECK(saved.state.global_step == 3);
  CHECK(saved.state.seed == 5);

  SUBCASE("resumed from its checkpoint, it goes on from its step") {
    RecordedIo resumed;
    resumed.files = io.files;
    TrainingOptions more = launch(0.03, 2, "/ckpt/b");
    more.load_path = "/ckpt/a";
    CHECK(run_training(more, resumed) == 0);
    CHECK(lines_of(resumed.out).front().rfind("step=4 loss=", 0) == 0);
    CHECK(parse_checkpoint(resumed.files.at("/ckpt/b"), "b").state.global_step == 5);
  }
  SUBCASE("a checkpoint of another seed is refused, naming --seed") {
    RecordedIo resumed;
    resumed.files = io.files;
    TrainingOptions other = launch(0.03, 2, "/ckpt/b");
    other.load_path = "/ckpt/a";
    other.seed = 6;
    CHECK_THROWS_WITH_AS(run_training(other, resumed), "--seed: 6 differs from the checkpoint's seed 5", spec::InputError);
  }
}

TEST_CASE("simulator::run_training injects crashes, hangs and checkpoint faults") {
  SUBCASE("a crash before step 2 exits 3 after step 1, saving nothing") {
    RecordedIo io;
    TrainingOptions options = launch(0.03, 5, "/ckpt/a");
    options.faults.crash_at_step = 2;
    CHECK(run_training(options, io) == 3);
    CHECK(lines_of(io.out).size() == 1);
    CHECK(io.err == "autolrs simulate: injected crash before step 2\n");
    CHECK(io.files.empty());
  }
  SUBCASE("a hang at step 3 flushes what it printed and sleeps for ever") {
    RecordedIo io;
    TrainingOptions options = launch(0.03, 5, "/ckpt/a");
    options.faults.hang_at_step = 3;
    CHECK_THROWS_WITH(run_training(options, io), "hung");
    CHECK(lines_of(io.out).size() == 3);  // steps 1 and 2, the val line at 2
    CHECK(io.files.empty());
  }
  SUBCASE("a truncated checkpoint is the first half of the full one") {
    RecordedIo full, truncated;
    CHECK(run_training(launch(0.03, 2, "/ckpt/a"), full) == 0);
    TrainingOptions options = launch(0.03, 2, "/ckpt/a");
    options.faults.truncate_checkpoint = true;
    CHECK(run_training(options, truncated) == 0);
    CHECK(truncated.files.at("/ckpt/a") == full.files.at("/ckpt/a").substr(0, full.files.at("/ckpt/a").size() / 2));
  }
  SUBCASE("faults above an LR spare the launches below it") {
    RecordedIo io;
    TrainingOptions options = launch(0.03, 2, "/ckpt/a");
    options.faults.crash_at_step = 1;
    options.faults.faults_lr_above = 0.05;
    CHECK(run_training(options, io) == 0);
    CHECK(io.files.count("/ckpt/a") == 1);
  }
}

TEST_CASE("simulator::check_training_options names the option out of range") {
  TrainingOptions options = launch(0.03, 2, "/ckpt/a");
  options.val_every = 0;
  CHECK_THROWS_WITH_AS(check_training_options(options), "--val-every: must be >= 1", spec::InputError);
  options = launch(-1, 2, "/ckpt/a");
  CHECK_THROWS_WITH_AS(check_training_options(options), "--lr: must be finite and >= 0", spec::InputError);
  options = launch(0.03, 2, "");
  CHECK_THROWS_WITH_AS(check_training_options(options), "--save: is required", spec::InputError);
}

}  // namespace
}  // namespace autolrs::simulator
