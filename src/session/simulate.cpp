#include "session/simulate.hpp"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <thread>

#include "spec/input_error.hpp"
#include "storage/atomic_file.hpp"

namespace autolrs::session {

namespace {

/// The simulator's launch as a process.
class ProcessTrainingIo : public simulator::TrainingIo {
 public:
  void write_out(std::string_view bytes) override { std::fwrite(bytes.data(), 1, bytes.size(), stdout); }
  void flush_out() override { std::fflush(stdout); }
  void write_error(std::string_view line) override { std::fwrite(line.data(), 1, line.size(), stderr); }
  void sleep_ms(double milliseconds) override {
    std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(milliseconds));
  }
  std::string read_checkpoint(const std::string& path) override {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw spec::InputError("--load", "cannot read " + path + ": " + std::strerror(errno));
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  void save_checkpoint(const std::string& path, std::string_view bytes) override { storage::write_file_atomically(path, bytes); }
};

}  // namespace

int simulate(const simulator::TrainingOptions& options) {
  simulator::check_training_options(options);
  if (options.ignore_sigterm) std::signal(SIGTERM, SIG_IGN);
  ProcessTrainingIo io;
  return simulator::run_training(options, io);
}

}  // namespace autolrs::session
