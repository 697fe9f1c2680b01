#include <doctest/doctest.h>

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "cli/simulate.hpp"
#include "simulator/checkpoint.hpp"
#include "simulator/simulator.hpp"
#include "simulator/task.hpp"
#include "spec/input_error.hpp"
#include "support/autolrs_process.hpp"
#include "support/temp_dir.hpp"

namespace {

using autolrs::testing::Finished;
using autolrs::testing::read_text;
using autolrs::testing::TempDir;
using autolrs::testing::wait_for;
namespace fs = std::filesystem;

std::vector<std::string> simulate_args(const std::vector<std::string>& args) {
  std::vector<std::string> full{"simulate"};
  full.insert(full.end(), args.begin(), args.end());
  return full;
}

/// Runs `autolrs simulate <args>` in `dir` to completion.
Finished simulate(const TempDir& dir, const std::vector<std::string>& args) {
  return autolrs::testing::run_autolrs(dir.path(), simulate_args(args));
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  for (std::size_t end; (end = text.find('\n', start)) != std::string::npos; start = end + 1) {
    lines.push_back(text.substr(start, end - start));
  }
  CHECK(start == text.size());  // every line ends with a newline
  return lines;
}

std::vector<std::string> joined(std::vector<std::string> head, const std::vector<std::string>& tail) {
  head.insert(head.end(), tail.begin(), tail.end());
  return head;
}

std::string ckpt(const TempDir& dir, const std::string& name) { return (dir / name).string(); }

/// The value after `key=` in a protocol line.
double value_of(const std::string& line, const std::string& key) {
  const std::size_t at = line.find(key + "=");
  REQUIRE(at != std::string::npos);
  return std::stod(line.substr(at + key.size() + 1));
}

}  // namespace

TEST_CASE("cli::simulate prints a loss line per step and val_loss lines every --val-every steps and at the end") {
  TempDir dir;
  const Finished run = simulate(dir, {"--lr", "0.03", "--steps", "5", "--val-every", "2", "--seed", "9", "--save",
                                      ckpt(dir, "a.ckpt")});
  CHECK(run.status == 0);
  CHECK(run.err.empty());
  const std::vector<std::string> lines = lines_of(run.out);
  const char* expected_prefixes[] = {"step=1 loss=", "step=2 loss=", "step=2 val_loss=", "step=3 loss=",
                                     "step=4 loss=", "step=4 val_loss=", "step=5 loss=", "step=5 val_loss="};
  REQUIRE(lines.size() == std::size(expected_prefixes));
  for (std::size_t i = 0; i < lines.size(); ++i) {
    CHECK(lines[i].rfind(expected_prefixes[i], 0) == 0);
    CHECK(std::isfinite(value_of(lines[i], lines[i].find("val_loss") != std::string::npos ? "val_loss" : "loss")));
  }
  const auto checkpoint = autolrs::simulator::parse_checkpoint(read_text(dir / "a.ckpt"), "a.ckpt");
  CHECK(checkpoint.task_name == "quadratic");
  CHECK(checkpoint.state.seed == 9);
  CHECK(checkpoint.state.global_step == 5);

  SUBCASE("zero steps print the loaded state's val_loss; with --val-examples 0 the population loss") {
    const Finished exact =
        simulate(dir, {"--lr", "0.1", "--steps", "0", "--val-examples", "0", "--save", ckpt(dir, "b.ckpt")});
    CHECK(exact.status == 0);
    REQUIRE(lines_of(exact.out).size() == 1);
    CHECK(lines_of(exact.out)[0].rfind("step=0 val_loss=", 0) == 0);
    CHECK(value_of(exact.out, "val_loss") == doctest::Approx(2.3).epsilon(1e-12));
    // The default set of 10^6 examples: an error of about sqrt(2·2.3/10^6) = 0.002 around 2.3, the
    // same on every evaluation of the same state.
    const Finished sampled = simulate(dir, {"--lr", "0.1", "--steps", "0", "--save", ckpt(dir, "c.ckpt")});
    const Finished again = simulate(dir, {"--lr", "0.1", "--steps", "0", "--save", ckpt(dir, "d.ckpt")});
    const double deviation = value_of(sampled.out, "val_loss") - 2.3;
    CHECK(deviation != 0);
    CHECK(std::abs(deviation) < 4 * std::sqrt(2 * 2.3 / 1e6));
    CHECK(sampled.out == again.out);
  }
}

TEST_CASE("cli::simulate --lr-end ramps the LR linearly over the launch, and two ramps equal one") {
  TempDir dir;
  // Step k of N at lr + (lr_end - lr)·k/N: 0.2 → 0 over 8 steps is 0.2, 0.175, …, 0.025; the first 4
  // steps ramping 0.2 → 0.1 and the last 4 ramping 0.1 → 0 take the same LRs, so print the same lines.
  const std::vector<std::string> common{"--seed", "4", "--val-every", "3"};
  const Finished whole = simulate(dir, joined(common, {"--lr", "0.2", "--lr-end", "0", "--steps", "8", "--save",
                                                       ckpt(dir, "whole.ckpt")}));
  const Finished first = simulate(dir, joined(common, {"--lr", "0.2", "--lr-end", "0.1", "--steps", "4", "--save",
                                                       ckpt(dir, "first.ckpt")}));
  const Finished second = simulate(dir, joined(common, {"--lr", "0.1", "--lr-end", "0", "--steps", "4", "--load",
                                                        ckpt(dir, "first.ckpt"), "--save", ckpt(dir, "second.ckpt")}));
  REQUIRE(whole.status == 0);
  REQUIRE(first.status == 0);
  REQUIRE(second.status == 0);
  std::vector<std::string> split = lines_of(first.out);
  split.pop_back();  // the val_loss line after the first launch's last step (step 4 is no multiple of 3)
  for (const std::string& line : lines_of(second.out)) split.push_back(line);
  CHECK(split == lines_of(whole.out));
  // The 8 LRs stepped by hand give the same state (the split launches' LRs differ from the whole
  // ramp's in the last bit: (0.1 − 0.2)·2/4 against (0 − 0.2)·4/8).
  autolrs::simulator::Simulator simulator(autolrs::simulator::preset_task("quadratic"));
  autolrs::simulator::State state = autolrs::simulator::initial_state(simulator.task(), 4);
  for (int k = 0; k < 8; ++k) simulator.step(state, 0.2 + (0 - 0.2) * k / 8.0);
  const auto whole_state = autolrs::simulator::parse_checkpoint(read_text(dir / "whole.ckpt"), "whole.ckpt").state;
  const auto split_state = autolrs::simulator::parse_checkpoint(read_text(dir / "second.ckpt"), "second.ckpt").state;
  CHECK(whole_state.theta == state.theta);
  REQUIRE(split_state.theta.size() == state.theta.size());
  for (std::size_t i = 0; i < state.theta.size(); ++i) {
    CHECK(split_state.theta[i] == doctest::Approx(state.theta[i]).epsilon(1e-12));
  }
}

TEST_CASE("cli::simulate resumed from its checkpoint reproduces the uninterrupted run line for line") {
  TempDir dir;
  const std::vector<std::string> common{"--lr", "0.05", "--seed", "17", "--val-every", "50"};
  auto with = [&](const std::vector<std::string>& extra) { return joined(common, extra); };
  const Finished whole = simulate(dir, with({"--steps", "250", "--save", ckpt(dir, "whole.ckpt")}));
  REQUIRE(whole.status == 0);
  REQUIRE(lines_of(whole.out).size() == 255);

  SUBCASE("split at a multiple of --val-every: identical output") {
    const Finished first = simulate(dir, with({"--steps", "100", "--save", ckpt(dir, "k.ckpt")}));
    const Finished rest =
        simulate(dir, with({"--steps", "150", "--load", ckpt(dir, "k.ckpt"), "--save", ckpt(dir, "end.ckpt")}));
    CHECK(first.status == 0);
    CHECK(rest.status == 0);
    CHECK(first.out + rest.out == whole.out);
    CHECK(read_text(dir / "end.ckpt") == read_text(dir / "whole.ckpt"));
  }
  SUBCASE("split elsewhere: identical but for the val_loss line that ends every launch") {
    const Finished first = simulate(dir, with({"--steps", "130", "--save", ckpt(dir, "k.ckpt")}));
    const Finished rest = simulate(dir, with({"--steps", "120", "--load", ckpt(dir, "k.ckpt"), "--save",
                                              ckpt(dir, "k.ckpt")}));  // overwrites the checkpoint it loaded
    std::vector<std::string> joined = lines_of(first.out + rest.out);
    REQUIRE(joined.size() == 256);
    const auto extra = std::find_if(joined.begin(), joined.end(),
                                    [](const std::string& line) { return line.rfind("step=130 val_loss=", 0) == 0; });
    REQUIRE(extra != joined.end());
    CHECK(extra[-1].rfind("step=130 loss=", 0) == 0);
    joined.erase(extra);
    CHECK(joined == lines_of(whole.out));
    CHECK(read_text(dir / "k.ckpt") == read_text(dir / "whole.ckpt"));
  }
  SUBCASE("probes from one checkpoint see the same minibatches") {
    simulate(dir, with({"--steps", "100", "--save", ckpt(dir, "k.ckpt")}));
    const Finished slow = simulate(dir, {"--lr", "0.001", "--steps", "3", "--load", ckpt(dir, "k.ckpt"), "--save",
                                         ckpt(dir, "slow.ckpt")});
    const Finished fast = simulate(dir, {"--lr", "0.2", "--steps", "3", "--load", ckpt(dir, "k.ckpt"), "--save",
                                         ckpt(dir, "fast.ckpt")});
    const Finished fast_again = simulate(dir, {"--lr", "0.2", "--steps", "3", "--load", ckpt(dir, "k.ckpt"),
                                               "--save", ckpt(dir, "fast.ckpt")});
    CHECK(fast_again.out == fast.out);
    // Step 101's loss is taken before any update at the new LR, on the same minibatch.
    CHECK(lines_of(slow.out)[0] == lines_of(fast.out)[0]);
    CHECK(lines_of(slow.out)[1] != lines_of(fast.out)[1]);
    CHECK(lines_of(slow.out)[0] == lines_of(whole.out)[102]);  // after 100 loss and 2 val_loss lines
  }
}

TEST_CASE("cli::simulate rejects bad options and unusable checkpoints with status 2") {
  TempDir dir;
  REQUIRE(simulate(dir, {"--lr", "0.1", "--steps", "2", "--seed", "4", "--task", "quadratic-small-batch", "--save",
                         ckpt(dir, "good.ckpt")})
              .status == 0);
  REQUIRE(simulate(dir, {"--lr", "0.1", "--steps", "2", "--truncate-checkpoint", "--save", ckpt(dir, "short.ckpt")})
              .status == 0);
  const std::string good = ckpt(dir, "good.ckpt");
  const std::string save = ckpt(dir, "out.ckpt");
  struct Case {
    std::vector<std::string> args;
    std::string error;
  };
  const Case cases[] = {
      {{"--lr", "-1", "--steps", "2", "--save", save}, "autolrs: error: --lr: must be finite and >= 0\n"},
      {{"--lr", "nan", "--steps", "2", "--save", save}, "autolrs: error: --lr: must be finite and >= 0\n"},
      {{"--lr", "0.1", "--steps", "-2", "--save", save}, "autolrs: error: --steps: must be >= 0\n"},
      {{"--lr", "0.1", "--steps", "2", "--val-every", "0", "--save", save}, "autolrs: error: --val-every: must be >= 1\n"},
      {{"--lr", "0.1", "--steps", "2", "--step-ms", "-1", "--save", save},
       "autolrs: error: --step-ms: must be finite and >= 0\n"},
      {{"--lr", "0.1", "--steps", "2", "--task", "mnist", "--save", save},
       "autolrs: error: --task: unknown task 'mnist' (known: quadratic, quadratic-ill-conditioned, "
       "quadratic-small-batch, quadratic-large-batch)\n"},
      {{"--lr", "0.1", "--steps", "2", "--load", good, "--task", "quadratic", "--save", save},
       "autolrs: error: --task: 'quadratic' differs from the checkpoint's task 'quadratic-small-batch'\n"},
      {{"--lr", "0.1", "--steps", "2", "--load", good, "--seed", "5", "--save", save},
       "autolrs: error: --seed: 5 differs from the checkpoint's seed 4\n"},
      {{"--lr", "0.1", "--steps", "2", "--load", ckpt(dir, "short.ckpt"), "--save", save},
       "autolrs: error: --load " + ckpt(dir, "short.ckpt") + ": expected 16061 bytes, got 8030\n"},
      {{"--lr", "0.1", "--steps", "2", "--load", ckpt(dir, "missing.ckpt"), "--save", save},
       "autolrs: error: --load: cannot read " + ckpt(dir, "missing.ckpt") + ": No such file or directory\n"},
      {{"--lr", "0.1", "--steps", "2"}, "--save is required\nRun with --help for more information.\n"},
      {{"--lr", "x", "--steps", "2", "--save", save}, "Could not convert: --lr = x\n"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.error);
    const Finished run = simulate(dir, c.args);
    CHECK(run.status == 2);
    CHECK(run.out.empty());
    CHECK(run.err.find(c.error) != std::string::npos);
  }
  CHECK_FALSE(fs::exists(save));

  SUBCASE("a matching --task and --seed are accepted on resume") {
    const Finished run = simulate(dir, {"--lr", "0.1", "--steps", "1", "--load", good, "--seed", "4", "--task",
                                        "quadratic-small-batch", "--save", save});
    CHECK(run.status == 0);
    CHECK(lines_of(run.out)[0].rfind("step=3 loss=", 0) == 0);
  }
}

TEST_CASE("cli::run_simulate names the offending option in its InputError") {
  autolrs::cli::SimulateOptions options;
  options.save_path = "unused.ckpt";
  options.steps = 1;
  options.lr = 0.1;
  auto field_of_error = [](const autolrs::cli::SimulateOptions& bad) -> std::string {
    try {
      autolrs::cli::run_simulate(bad);
    } catch (const autolrs::spec::InputError& e) {
      return e.field();
    }
    return "";
  };
  autolrs::cli::SimulateOptions bad = options;
  bad.startup_ms = -1;
  CHECK(field_of_error(bad) == "--startup-ms");
  bad = options;
  bad.faults.long_line_bytes = -5;
  CHECK(field_of_error(bad) == "--long-line-bytes");
  bad = options;
  bad.save_path.clear();
  CHECK(field_of_error(bad) == "--save");
  bad = options;
  bad.faults.faults_lr_above = -1;
  CHECK(field_of_error(bad) == "--faults-lr-above");
}

TEST_CASE("cli::simulate --crash-at-step exits 3 before that step without saving") {
  TempDir dir;
  const Finished run =
      simulate(dir, {"--lr", "0.05", "--steps", "10", "--crash-at-step", "7", "--save", ckpt(dir, "c.ckpt")});
  CHECK(run.status == 3);
  CHECK(run.err == "autolrs simulate: injected crash before step 7\n");
  const std::vector<std::string> lines = lines_of(run.out);
  REQUIRE(lines.size() == 6);
  CHECK(lines.back().rfind("step=6 loss=", 0) == 0);
  CHECK_FALSE(fs::exists(dir / "c.ckpt"));
}

TEST_CASE("cli::simulate --faults-lr-above injects the faults only into launches above that LR") {
  TempDir dir;
  const std::vector<std::string> faults{"--steps", "10", "--crash-at-step", "7", "--faults-lr-above", "0.1"};
  auto with = [&](std::vector<std::string> args, const std::string& lr, const std::string& save) {
    args.insert(args.end(), {"--lr", lr, "--save", ckpt(dir, save)});
    return args;
  };
  const Finished high = simulate(dir, with(faults, "0.2", "high.ckpt"));
  CHECK(high.status == 3);
  CHECK_FALSE(fs::exists(dir / "high.ckpt"));
  const Finished low = simulate(dir, with(faults, "0.1", "low.ckpt"));
  CHECK(low.status == 0);
  CHECK(lines_of(low.out).size() == 11);  // ten loss lines and the final val_loss
  CHECK(fs::exists(dir / "low.ckpt"));
}

TEST_CASE("cli::simulate --hang-at-step stops printing until killed, ignoring SIGTERM when asked") {
  TempDir dir;
  for (bool ignore_sigterm : {false, true}) {
    CAPTURE(ignore_sigterm);
    std::vector<std::string> args{"--lr", "0.05", "--steps", "10", "--hang-at-step", "5", "--save",
                                  ckpt(dir, "h.ckpt")};
    if (ignore_sigterm) args.push_back("--ignore-sigterm");
    const pid_t pid = autolrs::testing::spawn_autolrs(simulate_args(args), dir / "hang.out", dir / "hang.err");
    // Waits (without a time assertion) for the last line before the hang.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (read_text(dir / "hang.out").find("step=4 loss=") == std::string::npos &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    REQUIRE(read_text(dir / "hang.out").find("step=4 loss=") != std::string::npos);
    kill(pid, SIGTERM);
    if (ignore_sigterm) {
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      kill(pid, SIGKILL);
      CHECK(wait_for(pid) == -SIGKILL);
    } else {
      CHECK(wait_for(pid) == -SIGTERM);
    }
    CHECK(read_text(dir / "hang.out").find("step=5") == std::string::npos);
    CHECK_FALSE(fs::exists(dir / "h.ckpt"));
  }
}

TEST_CASE("cli::simulate prints nan from --nan-from-step on and inf/nan past the stability limit") {
  TempDir dir;
  SUBCASE("injected NaN, kept in the checkpoint") {
    const Finished run = simulate(dir, {"--lr", "0.05", "--steps", "8", "--nan-from-step", "6", "--val-every", "4",
                                        "--save", ckpt(dir, "n.ckpt")});
    CHECK(run.status == 0);
    const std::vector<std::string> lines = lines_of(run.out);
    REQUIRE(lines.size() == 10);
    for (int i : {0, 1, 2, 3, 4, 5}) CHECK(lines[i].find("nan") == std::string::npos);
    CHECK(lines[6] == "step=6 loss=nan");
    CHECK(lines[7] == "step=7 loss=nan");
    CHECK(lines[8] == "step=8 loss=nan");
    CHECK(lines[9] == "step=8 val_loss=nan");
    const Finished resumed =
        simulate(dir, {"--lr", "0.05", "--steps", "1", "--load", ckpt(dir, "n.ckpt"), "--save", ckpt(dir, "m.ckpt")});
    CHECK(resumed.out == "step=9 loss=nan\nstep=9 val_loss=nan\n");
  }
  SUBCASE("a learning rate above 2(1+β)/h_max diverges and the run still completes") {
    const Finished run = simulate(dir, {"--lr", "1.0", "--steps", "2000", "--save", ckpt(dir, "d.ckpt")});
    CHECK(run.status == 0);
    const std::vector<std::string> lines = lines_of(run.out);
    CHECK((lines.back() == "step=2000 val_loss=inf" || lines.back() == "step=2000 val_loss=nan"));
    CHECK(fs::exists(dir / "d.ckpt"));
  }
}

TEST_CASE("cli::simulate checkpoint faults: skipped, truncated, otherwise written atomically") {
  TempDir dir;
  const std::vector<std::string> base{"--lr", "0.05", "--steps", "3"};
  auto with = [&](const std::vector<std::string>& extra) { return joined(base, extra); };
  CHECK(simulate(dir, with({"--save", ckpt(dir, "full.ckpt")})).status == 0);
  CHECK(simulate(dir, with({"--skip-checkpoint", "--save", ckpt(dir, "skipped.ckpt")})).status == 0);
  CHECK_FALSE(fs::exists(dir / "skipped.ckpt"));
  CHECK(simulate(dir, with({"--truncate-checkpoint", "--save", ckpt(dir, "short.ckpt")})).status == 0);
  CHECK(read_text(dir / "short.ckpt") == read_text(dir / "full.ckpt").substr(0, fs::file_size(dir / "full.ckpt") / 2));
  // Nothing but the two checkpoints is left behind (no staging files).
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir.path())) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  CHECK(names == std::vector<std::string>{"full.ckpt", "short.ckpt"});
}

TEST_CASE("cli::simulate noise options leave the protocol lines intact") {
  TempDir dir;
  const std::vector<std::string> base{"--lr", "0.05", "--steps", "7", "--val-every", "3"};
  auto with = [&](const std::vector<std::string>& extra) {
    return joined(joined(base, extra), {"--save", ckpt(dir, "x.ckpt")});
  };
  const Finished clean = simulate(dir, with({}));
  REQUIRE(clean.status == 0);

  SUBCASE("--junk-lines: binary junk, invalid UTF-8 and \\r progress bars around the lines") {
    const Finished junk = simulate(dir, with({"--junk-lines"}));
    CHECK(junk.status == 0);
    CHECK(junk.out.find('\0') != std::string::npos);
    CHECK(junk.out.find('\xff') != std::string::npos);
    CHECK(junk.out.find("\r[###       ] step 3\rstep=3 loss=") != std::string::npos);
    std::string kept;  // the pieces between \r and \n that start like a protocol line
    std::size_t start = 0;
    for (std::size_t i = 0; i <= junk.out.size(); ++i) {
      if (i == junk.out.size() || junk.out[i] == '\n' || junk.out[i] == '\r') {
        const std::string piece = junk.out.substr(start, i - start);
        if (piece.rfind("step=", 0) == 0) kept += piece + "\n";
        start = i + 1;
      }
    }
    CHECK(kept == clean.out);
  }
  SUBCASE("--long-line-bytes: one long line first") {
    const Finished long_line = simulate(dir, with({"--long-line-bytes", "100000"}));
    CHECK(long_line.status == 0);
    REQUIRE(long_line.out.size() == 100001 + clean.out.size());
    CHECK(long_line.out.find('\n') == 100000);
    CHECK(long_line.out.substr(100001) == clean.out);
  }
  SUBCASE("--step-ms and --startup-ms only add wall time") {
    const auto start = std::chrono::steady_clock::now();
    const Finished slow = simulate(dir, with({"--step-ms", "20", "--startup-ms", "100"}));
    const auto elapsed = std::chrono::steady_clock::now() - start;
    CHECK(slow.out == clean.out);
    CHECK(elapsed >= std::chrono::milliseconds(7 * 20 + 100));  // a lower bound: sleeps never end early
  }
}
