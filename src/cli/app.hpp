#pragma once

namespace autolrs::cli {

/// Parses the command line, runs the chosen subcommand and turns errors into an exit status:
/// 0 success, 1 failure, 2 bad input or usage (message "autolrs: error: ..."), 130/143 interrupted.
int main_entry(int argc, char** argv);

}  // namespace autolrs::cli
