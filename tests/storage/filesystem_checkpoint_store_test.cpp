#include "storage/filesystem_checkpoint_store.hpp"

#include <algorithm>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "support/temp_dir.hpp"

namespace autolrs::storage {
namespace {

namespace fs = std::filesystem;
using testing::read_text;
using testing::TempDir;
using testing::write_text;

/// A sharded checkpoint: a directory with one file per shard, each holding `content`.
void write_sharded(const fs::path& path, const std::vector<std::string>& shards, const std::string& content) {
  fs::create_directories(path);
  for (const std::string& shard : shards) write_text(path / shard, content);
}

std::vector<std::string> names_in(const fs::path& folder) {
  std::vector<std::string> names;
  for (const fs::directory_entry& entry : fs::directory_iterator(folder)) names.push_back(entry.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

bool owns_every_name(const std::string&) { return true; }

/// The orchestrator's names: "step-<digits>" and "stage-...".
bool owns_autolrs_names(const std::string& name) { return name.rfind("step-", 0) == 0 || name.rfind("stage-", 0) == 0; }

TEST_CASE("storage::FilesystemCheckpointStore touches nothing in its folder that is not named as its checkpoints are") {
  TempDir dir;
  const fs::path root = dir / "checkpoints";
  fs::create_directories(root);
  // Another program's files, shaped like a staging leftover and set-aside checkpoints.
  for (const char* theirs : {"model.staging.bak", "weights.old", "model"}) write_text(root / theirs, "theirs");
  write_sharded(root / "model.old", {"data"}, "theirs");
  write_sharded(root / "best.old", {"w.bin"}, "theirs");
  // Ours: a staging leftover and a set-aside checkpoint whose promotion did not happen.
  write_text(root / "step-000000100.staging", "partial");
  write_text(root / "step-000000200.old", "set aside");
  FilesystemCheckpointStore store(dir.path().string(), owns_autolrs_names);
  CHECK(names_in(root) ==
        std::vector<std::string>{"best.old", "model", "model.old", "model.staging.bak", "step-000000200", "weights.old"});
  CHECK(read_text(root / "model.old" / "data") == "theirs");
  CHECK(read_text(root / "best.old" / "w.bin") == "theirs");

  store.remove_all_own();
  CHECK(names_in(root) == std::vector<std::string>{"best.old", "model", "model.old", "model.staging.bak", "weights.old"});
}

TEST_CASE("storage::FilesystemCheckpointStore stages next to the final place and clears old staging") {
  TempDir dir;
  FilesystemCheckpointStore store(dir.path().string(), owns_every_name);
  const std::string root = (dir / "checkpoints").string();
  CHECK(store.root() == root);
  CHECK(fs::is_directory(root));

  CHECK(store.staging_path("stage_1") == root + "/stage_1.staging");
  SUBCASE("a file left by an earlier attempt") {
    write_text(root + "/stage_1.staging", "partial");
    CHECK(store.staging_path("stage_1") == root + "/stage_1.staging");
    CHECK_FALSE(fs::exists(root + "/stage_1.staging"));
  }
  SUBCASE("a directory left by an earlier attempt") {
    write_sharded(root + "/stage_1.staging/nested", {"shard0", "shard1"}, "partial");
    store.staging_path("stage_1");
    CHECK_FALSE(fs::exists(root + "/stage_1.staging"));
  }
  SUBCASE("a trainer's temporary files beside it, not those of other names") {
    write_text(root + "/stage_1.staging.tmp.4242", "half a save");
    write_text(root + "/stage_1.staging.tmp", "another");
    write_text(root + "/stage_10.staging.tmp.7", "someone else's");
    write_text(root + "/stage_1", "promoted earlier");
    CHECK(store.staging_path("stage_1") == root + "/stage_1.staging");
    CHECK(names_in(root) == std::vector<std::string>{"stage_1", "stage_10.staging.tmp.7"});
  }
  SUBCASE("removing a staging path takes its temporary files too") {
    write_text(root + "/stage_1.staging", "failed");
    write_text(root + "/stage_1.staging.tmp.99", "half a save");
    write_text(root + "/stage_1", "promoted earlier");
    store.remove(root + "/stage_1.staging");
    CHECK(names_in(root) == std::vector<std::string>{"stage_1"});
  }
}

TEST_CASE("storage::FilesystemCheckpointStore removes an earlier process's staging leftovers on construction") {
  TempDir dir;
  const fs::path root = dir / "checkpoints";
  fs::create_directories(root);
  write_text(root / "step-000000500", "promoted");
  write_text(root / "step-000001500.staging", "partial");
  write_text(root / "stage-1-probe-3.staging.tmp.123", "half a save");
  write_sharded(root / "step-000003500.staging", {"shard0"}, "partial");
  FilesystemCheckpointStore store(dir.path().string(), owns_every_name);
  CHECK(names_in(root) == std::vector<std::string>{"step-000000500"});
  CHECK(read_text(root / "step-000000500") == "promoted");
}

TEST_CASE("storage::FilesystemCheckpointStore judges checkpoints by having non-empty files") {
  TempDir dir;
  FilesystemCheckpointStore store(dir.path().string(), owns_every_name);
  write_text(dir / "empty_file", "");
  write_text(dir / "file", "weights");
  fs::create_directories(dir / "empty_dir");
  write_sharded(dir / "dir_of_empty_files", {"a", "b"}, "");
  write_sharded(dir / "nested" / "deeper", {"shard0"}, "weights");

  struct Case {
    const char* name;
    bool valid;
  };
  for (const Case& c : std::vector<Case>{{"missing", false},
                                         {"empty_file", false},
                                         {"file", true},
                                         {"empty_dir", false},
                                         {"dir_of_empty_files", false},
                                         {"nested", true}}) {
    CAPTURE(c.name);
    CHECK(store.is_valid((dir / c.name).string()) == c.valid);
  }
}

TEST_CASE("storage::FilesystemCheckpointStore promotes a staged file") {
  TempDir dir;
  FilesystemCheckpointStore store(dir.path().string(), owns_every_name);
  const std::string staging = store.staging_path("stage_1");
  write_text(staging, "first");
  const std::string promoted = store.promote(staging, "stage_1");
  CHECK(promoted == (dir / "checkpoints" / "stage_1").string());
  CHECK(read_text(promoted) == "first");
  CHECK(names_in(store.root()) == std::vector<std::string>{"stage_1"});

  SUBCASE("over an existing file") {
    write_text(store.staging_path("stage_1"), "second");
    CHECK(store.promote(store.root() + "/stage_1.staging", "stage_1") == promoted);
    CHECK(read_text(promoted) == "second");
    CHECK(names_in(store.root()) == std::vector<std::string>{"stage_1"});
  }
  SUBCASE("a directory over an existing file") {
    write_sharded(store.staging_path("stage_1"), {"shard0"}, "sharded");
    store.promote(store.root() + "/stage_1.staging", "stage_1");
    CHECK(read_text(promoted + "/shard0") == "sharded");
    CHECK(names_in(store.root()) == std::vector<std::string>{"stage_1"});
  }
}

TEST_CASE("storage::FilesystemCheckpointStore promotes a staged directory (sharded checkpoint)") {
  TempDir dir;
  FilesystemCheckpointStore store(dir.path().string(), owns_every_name);
  write_sharded(store.staging_path("stage_2"), {"shard0", "shard1"}, "first");
  const std::string promoted = store.promote(store.root() + "/stage_2.staging", "stage_2");
  CHECK(names_in(promoted) == std::vector<std::string>{"shard0", "shard1"});
  CHECK(store.is_valid(promoted));

  SUBCASE("over an existing directory, leaving nothing of the old one") {
    write_sharded(store.staging_path("stage_2"), {"shard0"}, "second");
    store.promote(store.root() + "/stage_2.staging", "stage_2");
    CHECK(names_in(promoted) == std::vector<std::string>{"shard0"});
    CHECK(read_text(promoted + "/shard0") == "second");
    CHECK(names_in(store.root()) == std::vector<std::string>{"stage_2"});
  }
  SUBCASE("a file over an existing directory") {
    write_text(store.staging_path("stage_2"), "single");
    store.promote(store.root() + "/stage_2.staging", "stage_2");
    CHECK(read_text(promoted) == "single");
    CHECK(names_in(store.root()) == std::vector<std::string>{"stage_2"});
  }
}

TEST_CASE("storage::FilesystemCheckpointStore finishes a replacement cut short by a crash") {
  TempDir dir;
  const fs::path root = dir / "checkpoints";
  SUBCASE("old set aside, new not yet in place: the old one comes back") {
    write_sharded(root / "stage_3.old", {"shard0"}, "old");
    FilesystemCheckpointStore store(dir.path().string(), owns_every_name);
    CHECK(names_in(root) == std::vector<std::string>{"stage_3"});
    CHECK(read_text(root / "stage_3" / "shard0") == "old");
  }
  SUBCASE("new in place: the old one goes") {
    write_sharded(root / "stage_3.old", {"shard0"}, "old");
    write_sharded(root / "stage_3", {"shard0"}, "new");
    FilesystemCheckpointStore store(dir.path().string(), owns_every_name);
    CHECK(names_in(root) == std::vector<std::string>{"stage_3"});
    CHECK(read_text(root / "stage_3" / "shard0") == "new");
  }
}

TEST_CASE("storage::FilesystemCheckpointStore removes checkpoints inside its root only") {
  TempDir dir;
  FilesystemCheckpointStore store(dir.path().string(), owns_every_name);
  write_text(store.root() + "/probe_1", "weights");
  write_sharded(store.root() + "/probe_2", {"shard0"}, "weights");
  write_text(dir / "precious", "user data");

  store.remove(store.root() + "/probe_1");
  store.remove(store.root() + "/probe_2");
  store.remove(store.root() + "/never_existed");
  CHECK(names_in(store.root()).empty());

  CHECK_THROWS_AS(store.remove((dir / "precious").string()), std::invalid_argument);
  CHECK_THROWS_AS(store.remove(store.root() + "/../precious"), std::invalid_argument);
  CHECK_THROWS_AS(store.remove(store.root()), std::invalid_argument);
  CHECK(read_text(dir / "precious") == "user data");
}

TEST_CASE("storage::FilesystemCheckpointStore refuses names that are not plain file names") {
  TempDir dir;
  FilesystemCheckpointStore store(dir.path().string(), owns_every_name);
  for (const std::string name : {"", ".", "..", "a/b", "x.staging", "x.staging.tmp", "x.old"}) {
    CAPTURE(name);
    CHECK_THROWS_AS(store.staging_path(name), std::invalid_argument);
    CHECK_THROWS_AS(store.promote(store.root() + "/y.staging", name), std::invalid_argument);
  }
}

}  // namespace
}  // namespace autolrs::storage
