#include "storage/atomic_file.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include <doctest/doctest.h>

#include "support/temp_dir.hpp"

namespace autolrs::storage {
namespace {

using testing::read_text;
using testing::TempDir;
using testing::write_text;
namespace fs = std::filesystem;

std::vector<std::string> names_in(const fs::path& folder) {
  std::vector<std::string> names;
  for (const fs::directory_entry& entry : fs::directory_iterator(folder)) names.push_back(entry.path().filename().string());
  return names;
}

TEST_CASE("storage::write_file_atomically replaces the file and leaves no temporary file beside it") {
  TempDir dir;
  const std::string path = (dir / "summary.json").string();
  write_file_atomically(path, "first\n");
  CHECK(read_text(path) == "first\n");
  write_file_atomically(path, std::string("second\0with a NUL", 17));
  CHECK(read_text(path) == std::string("second\0with a NUL", 17));
  write_file_atomically(path, "");
  CHECK(read_text(path).empty());
  CHECK(names_in(dir.path()) == std::vector<std::string>{"summary.json"});
}

TEST_CASE("storage::write_file_atomically creates the file with mode 0644 less the umask") {
  TempDir dir;
  const mode_t previous = ::umask(022);
  write_file_atomically((dir / "report.html").string(), "x");
  ::umask(previous);
  struct stat status {};
  REQUIRE(::stat((dir / "report.html").c_str(), &status) == 0);
  CHECK((status.st_mode & 0777) == 0644);
}

TEST_CASE("storage::write_file_atomically takes another temporary name than a leftover of a crashed writer") {
  TempDir dir;
  // What a writer with our pid left when it died before renaming: it must neither be reused nor removed.
  const std::string leftover = (dir / "schedule.csv").string() + ".tmp." + std::to_string(::getpid()) + ".0";
  write_text(leftover, "half written");
  for (int write = 0; write < 3; ++write) write_file_atomically((dir / "schedule.csv").string(), "stage\n");
  CHECK(read_text(dir / "schedule.csv") == "stage\n");
  CHECK(read_text(leftover) == "half written");
  CHECK(names_in(dir.path()).size() == 2);
}

TEST_CASE("storage::write_file_atomically names the path when the folder does not exist") {
  TempDir dir;
  const std::string path = (dir / "missing" / "summary.json").string();
  const std::string message = "cannot create " + path + ".tmp.";
  CHECK_THROWS_WITH_AS(write_file_atomically(path, "x"), doctest::Contains(message.c_str()), std::system_error);
}

TEST_CASE("storage::fsync_path syncs files and folders and names what it cannot open") {
  TempDir dir;
  write_text(dir / "file", "x");
  CHECK_NOTHROW(fsync_path((dir / "file").string()));
  CHECK_NOTHROW(fsync_path(dir.path().string()));
  const std::string message = "cannot open " + (dir / "absent").string();
  CHECK_THROWS_WITH_AS(fsync_path((dir / "absent").string()), doctest::Contains(message.c_str()), std::system_error);
}

}  // namespace
}  // namespace autolrs::storage
