#pragma once

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "support/temp_dir.hpp"

namespace autolrs::testing {

struct BinaryResult {
  int exit_status = -1;  ///< exit code, or 128 + signal
  std::string out;       ///< stdout
  std::string err;       ///< stderr
};

/// Single-quotes `text` for /bin/sh.
inline std::string shell_quote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

/// Runs `argv` through /bin/sh with `env` assignments in front, capturing stdout and stderr in files
/// of `scratch`; stdin is /dev/null.
inline BinaryResult run_binary(const std::vector<std::string>& argv, const TempDir& scratch,
                               const std::string& env = "") {
  std::string command = env;
  for (const std::string& arg : argv) command += " " + shell_quote(arg);
  const auto out_path = scratch / "binary.stdout";
  const auto err_path = scratch / "binary.stderr";
  command += " </dev/null >" + shell_quote(out_path.string()) + " 2>" + shell_quote(err_path.string());
  const int status = std::system(command.c_str());
  BinaryResult result;
  result.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = read_text(out_path);
  result.err = read_text(err_path);
  return result;
}

}  // namespace autolrs::testing
