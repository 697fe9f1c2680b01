#include <doctest/doctest.h>

#include <filesystem>
#include <sstream>
#include <string>

#include "cli/validate.hpp"
#include "spec/input_error.hpp"
#include "support/autolrs_process.hpp"
#include "support/temp_dir.hpp"

namespace {

using autolrs::cli::run_validate;
using autolrs::cli::ValidateOptions;
using autolrs::testing::run_autolrs;
using autolrs::testing::TempDir;
using autolrs::testing::write_text;
namespace fs = std::filesystem;

const std::string echo_trainer = std::string(AUTOLRS_FAKE_TRAINERS_DIR) + "/launcher_echo_args.sh";

/// A spec running the echo trainer with a warmup (so the first launch's LR is known).
std::string echo_spec(const std::string& extra = "") {
  return R"({"name": "echo", "trainer": {"command": [")" + echo_trainer +
         R"js(", "--lr", "{lr}", "--steps", "{steps}", "--save", "{save_checkpoint}", "--tag", "a b'c"],
     "resume_args": ["--load", "{load_checkpoint}"], "env": {"MY_VAR": "x y"},
     "loss": {"pattern": "loss=(?P<loss>\\S+)"}},
     "total_steps": 1000, "warmup": {"steps": 50, "lr": 0.001})js" +
         extra + "}";
}

}  // namespace

TEST_CASE("cli::run_validate prints the first launch exactly as it will run, creating nothing") {
  TempDir dir;
  write_text(dir / "job.json", echo_spec());
  const fs::path run_dir = dir / "runs" / "echo";
  std::ostringstream out;
  CHECK(run_validate(ValidateOptions{(dir / "job.json").string(), run_dir.string(), false}, out) == 0);
  CHECK_FALSE(fs::exists(dir / "runs"));
  const std::string save = (run_dir / "checkpoints" / "step-000000050.staging").string();
  const std::string expected = "spec: " + (dir / "job.json").string() + ": valid\n" +
                               "trainer: " + echo_trainer + "\n" +
                               "run_dir: " + run_dir.string() + " (will be created (in " + dir.path().string() + "))\n" +
                               // 950 steps after the warmup: H = 95, horizons H/8, H/4, H/2, 3H/2, tails 0.125x each.
                               "plan (default preset): the peak among 10 LRs in [0.0001, 1] by successive halving\n"
                               "  round  candidates  chain_to_step  decay_tail\n"
                               "      0          10             62           2\n"
                               "      1           5             74           3\n"
                               "      2           3             98           6\n"
                               "      3           2            193          18\n"
                               "  stage 0: the winner holds its LR to step 240; stages 1-8: a decay to 0 over steps 240-1000, cubic or linear as the last round's decay tails say\n"
                               "loss lines: a candidate is judged by the trend of the train losses over its decay tail's last half (or its last "
                               "val loss); print one at least every 1 steps (the shortest decay tail runs 2)\n" +
                               "first launch: warmup (slot 0, 50 steps at lr 0.001)\n" +
                               "  workdir: " + dir.path().string() + "\n" +
                               "  env: AUTOLRS_LAUNCH=warmup\n" +
                               "  env: AUTOLRS_RUN_DIR=" + run_dir.string() + "\n" +
                               "  env: MY_VAR=x y\n" +
                               "  stdout: " + run_dir.string() + "/logs/warmup.stdout.log\n" +
                               "  stderr: " + run_dir.string() + "/logs/warmup.stderr.log\n" +
                               "  argv: " + echo_trainer + " --lr 0.001 --steps 50 --save " + save + " --tag 'a b'\\''c'\n" +
                               "to run it by hand:\n  cd " + dir.path().string() + " && env AUTOLRS_LAUNCH=warmup AUTOLRS_RUN_DIR=" + run_dir.string() +
                               " 'MY_VAR=x y' " + echo_trainer +
                               " --lr 0.001 --steps 50 --save " + save + " --tag 'a b'\\''c'\n";
  CHECK(out.str() == expected);

  SUBCASE("an initial checkpoint adds the resume args") {
    write_text(dir / "job.json", echo_spec(R"(, "initial_checkpoint": "/data/start.pt")"));
    std::ostringstream with_checkpoint;
    run_validate(ValidateOptions{(dir / "job.json").string(), run_dir.string(), false}, with_checkpoint);
    CHECK(with_checkpoint.str().find(" --tag 'a b'\\''c' --load /data/start.pt\n") != std::string::npos);
  }
  SUBCASE("in serve mode it prints the trainer's argv and the first command, and pipes it in the shell line") {
    write_text(dir / "job.json", R"({"name": "echo", "trainer": {"mode": "serve", "command": [")" + echo_trainer +
                                     R"js(", "--serve"], "loss": {"pattern": "loss=(?P<loss>\\S+)"}},
                                     "total_steps": 1000, "warmup": {"steps": 50, "lr": 0.001}})js");
    std::ostringstream served;
    CHECK(run_validate(ValidateOptions{(dir / "job.json").string(), run_dir.string(), false}, served) == 0);
    const std::string command = R"({"global_step":0,"id":"warmup","load_checkpoint":null,"lr":0.001,"lr_end":0.001,"probe":-1,)"
                                R"("run_dir":")" + run_dir.string() + R"(","save_checkpoint":")" + save +
                                R"(","seed":0,"stage":-1,"steps":50})";
    CHECK(served.str().find("  env: AUTOLRS_LAUNCH=serve-slot-0\n") != std::string::npos);
    CHECK(served.str().find("  argv: " + echo_trainer + " --serve\n"
                            "  mode: serve (this argv starts slot 0's trainer; each launch is one command line on its stdin)\n"
                            "  first command: " + command + "\n"
                            "to run it by hand:\n  cd " + dir.path().string() + " && printf '%s\\n' '" + command +
                            "' | env AUTOLRS_LAUNCH=serve-slot-0 AUTOLRS_RUN_DIR=" + run_dir.string() + " " + echo_trainer +
                            " --serve\n") != std::string::npos);
  }
  SUBCASE("a run dir holding a run is reported") {
    fs::create_directories(run_dir);
    write_text(run_dir / "journal.jsonl", "{\"type\":\"started\",\"identity\":{\"spec\":{}}}\n");
    std::ostringstream existing;
    run_validate(ValidateOptions{(dir / "job.json").string(), run_dir.string(), false}, existing);
    CHECK(existing.str().find("\nrun_dir: " + run_dir.string() + " (holds a run: `autolrs run` needs --resume or another run_dir)\n") !=
          std::string::npos);
  }
  SUBCASE("a run dir whose journal holds no complete record holds no run, as `autolrs run` sees it") {
    fs::create_directories(run_dir);
    write_text(run_dir / "journal.jsonl", "");
    std::ostringstream existing;
    run_validate(ValidateOptions{(dir / "job.json").string(), run_dir.string(), false}, existing);
    CHECK(existing.str().find("\nrun_dir: " + run_dir.string() + " (exists, holds no run and no other files)\n") != std::string::npos);
  }
}

TEST_CASE("cli::run_validate refuses a run dir that could not be written") {
  TempDir dir;
  write_text(dir / "job.json", echo_spec());
  write_text(dir / "file", "");
  std::ostringstream out;
  CHECK_THROWS_WITH_AS(run_validate(ValidateOptions{(dir / "job.json").string(), (dir / "file" / "run").string(), false}, out),
                       doctest::Contains("run_dir: cannot be created"), autolrs::spec::InputError);
  CHECK_THROWS_WITH_AS(run_validate(ValidateOptions{(dir / "job.json").string(), (dir / "file").string(), false}, out),
                       doctest::Contains("run_dir: not a directory"), autolrs::spec::InputError);
}

// Every config we ship must validate. The torch configs need Debian's python3-torch (/usr/bin/python3
// with torch, /usr/bin/torchrun): scripts/install-deps --test installs it; without it this test fails
// and says what is missing, rather than passing silently.
TEST_CASE("cli::run_validate accepts every shipped config") {
  TempDir dir;
  int configs = 0;
  for (const fs::directory_entry& entry : fs::directory_iterator(fs::path(AUTOLRS_SOURCE_DIR) / "configs")) {
    if (entry.path().extension() != ".json") continue;
    ++configs;
    for (const bool dry_run : {false, true}) {
      CAPTURE(entry.path().string());
      CAPTURE(dry_run);
      INFO("the torch configs need Debian's python3-torch (/usr/bin/python3, /usr/bin/torchrun): scripts/install-deps --test");
      std::ostringstream out;
      CHECK_NOTHROW(run_validate(ValidateOptions{entry.path().string(), (dir / "run").string(), dry_run}, out));
      CHECK(out.str().find(": valid\n") != std::string::npos);
    }
  }
  CHECK(configs >= 3);
}

TEST_CASE("cli: autolrs validate exits 0 on a good spec and 2 naming the field of a bad one") {
  TempDir dir;
  write_text(dir / "job.json", echo_spec());
  const auto good = run_autolrs(dir.path(), {"validate", (dir / "job.json").string()});
  CHECK(good.status == 0);
  CHECK(good.out.find("first launch: warmup") != std::string::npos);

  const std::pair<std::string, std::string> bad_specs[] = {
      {echo_spec(R"(, "search": {"lr_min": -0.1})"), "autolrs: error: search.lr_min: must be > 0, got -0.1\n"},
      {R"js({"name": "x", "trainer": {"command": ["no-such-trainer-xyz"], "loss": {"pattern": "loss=(?P<loss>\\S+)"}}, "total_steps": 10})js",
       "autolrs: error: trainer.command[0]: program not found in PATH: no-such-trainer-xyz\n"},
      {R"js({"name": "x", "trainer": {"command": ["/bin/echo"], "workdir": "no-such-dir", "loss": {"pattern": "loss=(?P<loss>\\S+)"}}, "total_steps": 10})js",
       "autolrs: error: trainer.workdir: not a directory: " + (dir / "no-such-dir").string() + "\n"},
      {echo_spec(R"(, "slots": [{"launcher": ["no-such-launcher-xyz"]}])"),
       "autolrs: error: slots[0].launcher[0]: program not found: no-such-launcher-xyz\n"},
  };
  for (const auto& [text, message] : bad_specs) {
    write_text(dir / "bad.json", text);
    const auto bad = run_autolrs(dir.path(), {"validate", (dir / "bad.json").string()});
    CHECK(bad.status == 2);
    CHECK(bad.err == message);
    CHECK(bad.out.empty());
  }
}
