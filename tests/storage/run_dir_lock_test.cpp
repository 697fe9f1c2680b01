#include "storage/run_dir_lock.hpp"

#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>

#include <doctest/doctest.h>
#include <unistd.h>

#include "support/temp_dir.hpp"

namespace autolrs::storage {
namespace {

using testing::read_text;
using testing::TempDir;

TEST_CASE("storage::RunDirLock is exclusive, records its holder's pid and is free again once released") {
  TempDir dir;
  const std::string run_dir = dir.path().string();
  std::optional<RunDirLock> first = RunDirLock::try_acquire(run_dir);
  REQUIRE(first);
  CHECK(read_text(dir / RunDirLock::file_name) == std::to_string(::getpid()) + "\n");
  CHECK(RunDirLock::holder_pid(run_dir) == ::getpid());
  // flock(2) locks belong to the open file: a second open, even in this process, is refused.
  CHECK_FALSE(RunDirLock::try_acquire(run_dir));

  RunDirLock moved = std::move(*first);
  first.reset();  // the moved-from lock releases nothing
  CHECK_FALSE(RunDirLock::try_acquire(run_dir));
  CHECK(RunDirLock::is_held(run_dir));
  { RunDirLock released = std::move(moved); }
  CHECK_FALSE(RunDirLock::is_held(run_dir));
  CHECK(RunDirLock::try_acquire(run_dir));
}

TEST_CASE("storage::RunDirLock::is_held creates nothing and leaves the lock free to take") {
  TempDir dir;
  const std::string run_dir = dir.path().string();
  CHECK_FALSE(RunDirLock::is_held(run_dir));
  CHECK_FALSE(std::filesystem::exists(dir / RunDirLock::file_name));
  { const std::optional<RunDirLock> taken = RunDirLock::try_acquire(run_dir); }
  CHECK_FALSE(RunDirLock::is_held(run_dir));  // a lock file left by an ended holder
  CHECK(RunDirLock::try_acquire(run_dir));
}

TEST_CASE("storage::RunDirLock throws naming the path when the run dir does not exist") {
  TempDir dir;
  const std::string missing = (dir / "missing").string();
  CHECK_THROWS_WITH_AS(RunDirLock::try_acquire(missing), doctest::Contains((missing + "/autolrs.lock").c_str()), std::runtime_error);
  CHECK_FALSE(RunDirLock::holder_pid(missing));
}

}  // namespace
}  // namespace autolrs::storage
