#include <doctest/doctest.h>

#include <filesystem>
#include <set>
#include <string>

#include "spec/job_spec.hpp"
#include "support/temp_dir.hpp"

using namespace autolrs;
namespace fs = std::filesystem;

namespace {

const fs::path configs_dir = fs::path(AUTOLRS_SOURCE_DIR) / "configs";

spec::JobSpec parse_config(const std::string& name) {
  const fs::path path = configs_dir / name;
  return spec::parse_job_spec(testing::read_text(path), path.string());
}

}  // namespace

TEST_CASE("spec::parse_job_spec accepts every shipped configs/*.json") {
  std::set<std::string> names;
  for (const fs::directory_entry& entry : fs::directory_iterator(configs_dir)) {
    if (entry.path().extension() != ".json") continue;
    names.insert(entry.path().filename().string());
    CAPTURE(entry.path().string());
    CHECK_NOTHROW(parse_config(entry.path().filename().string()));
  }
  CHECK(names.count("dry-run.json") == 1);
  CHECK(names.count("multi-gpu-example.json") == 1);
  CHECK(names.count("slurm-example.json") == 1);
}

TEST_CASE("spec::parse_job_spec reads the shipped slot examples: one GPU per slot, srun job steps") {
  SUBCASE("configs/multi-gpu-example.json") {
    const spec::JobSpec job = parse_config("multi-gpu-example.json");
    REQUIRE(job.slots.size() == 4);
    for (size_t slot = 0; slot < job.slots.size(); ++slot) {
      CHECK(job.slots[slot].env == std::map<std::string, std::string>{{"CUDA_VISIBLE_DEVICES", std::to_string(slot)}});
      CHECK(job.slots[slot].launcher.empty());
    }
  }
  SUBCASE("configs/slurm-example.json") {
    const spec::JobSpec job = parse_config("slurm-example.json");
    REQUIRE(job.slots.size() == 2);
    for (const spec::SlotSpec& slot : job.slots) {
      CHECK(slot.launcher == std::vector<std::string>{"srun", "--exact", "--ntasks=1", "--cpus-per-task=1", "--quiet",
                                                      "--job-name=autolrs-{stage}-{probe}"});
      CHECK(slot.env.empty());
    }
    CHECK(job.simulator_options.at("step_ms") == "2");
  }
}
