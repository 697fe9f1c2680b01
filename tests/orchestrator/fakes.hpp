#pragma once

#include <algorithm>
#include <cmath>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "orchestrator/checkpoint_store.hpp"
#include "orchestrator/clock.hpp"
#include "orchestrator/journal.hpp"
#include "orchestrator/launcher.hpp"

namespace autolrs::testing {

/// The value following `flag` in argv, or "" when absent.
inline std::string argument_after(const std::vector<std::string>& argv, const std::string& flag) {
  const auto it = std::find(argv.begin(), argv.end(), flag);
  return it == argv.end() || it + 1 == argv.end() ? "" : *(it + 1);
}

/// Checkpoints as a set of names in memory; paths are "/ckpt/<name>".
class FakeCheckpointStore : public orchestrator::CheckpointStore {
 public:
  std::string staging_path(const std::string& name) override { return "/ckpt/" + name + ".staging"; }
  bool is_valid(const std::string& path) const override {
    std::lock_guard guard(m_mutex);
    return existing.count(path) > 0;
  }
  std::string promote(const std::string& staging, const std::string& name) override {
    std::lock_guard guard(m_mutex);
    existing.erase(staging);
    existing.insert("/ckpt/" + name);
    return "/ckpt/" + name;
  }
  void remove(const std::string& path) override {
    std::lock_guard guard(m_mutex);
    existing.erase(path);
  }
  /// What a trainer does when it saves.
  void write(const std::string& path) {
    std::lock_guard guard(m_mutex);
    existing.insert(path);
  }

  std::set<std::string> existing;

 private:
  mutable std::mutex m_mutex;
};

/// A journal in memory; records go through their JSON text, as they would on disk.
class MemoryJournal : public orchestrator::Journal {
 public:
  void append(const orchestrator::JournalRecord& record) override {
    records.push_back(orchestrator::decode_record(nlohmann::json::parse(orchestrator::encode_record(record).dump())));
  }
  std::vector<orchestrator::JournalRecord> read_all() const override { return records; }
  std::vector<orchestrator::JournalRecord> records;
};

class FakeClock : public orchestrator::Clock {
 public:
  double now_s() const override { return m_now += 0.5; }

 private:
  mutable double m_now = 0;
};

/// A trainer in memory: reads --lr, --steps and --save from argv, prints `loss=` lines of an
/// exponential decay whose floor is lowest at lr = 0.01 (above lr 0.3 the loss explodes instead),
/// and "writes" its checkpoint to the store.
/// `interrupt_at` (0-based launch count) makes that launch end as interrupted; the first
/// `rising_stage_launches` stage launches (those saving a step-* checkpoint) print losses rising from 2.
class FakeTrainerLauncher : public orchestrator::Launcher {
 public:
  explicit FakeTrainerLauncher(FakeCheckpointStore& store) : m_store(store) {}

  orchestrator::LaunchResult run(const orchestrator::LaunchCommand& command,
                                 const orchestrator::LineObserver& observer) override {
    {
      std::lock_guard guard(m_mutex);
      commands.push_back(command);
      if (static_cast<int>(commands.size()) - 1 == interrupt_at) return result(orchestrator::LaunchEnd::interrupted);
    }
    const double lr = std::stod(argument_after(command.argv, "--lr"));
    const long steps = std::stol(argument_after(command.argv, "--steps"));
    const std::string load = argument_after(command.argv, "--load");
    const double start = load.find("step-") == std::string::npos ? 0 : std::stod(load.substr(load.rfind('-') + 1));
    const double floor = 0.5 + 0.1 * std::pow(std::log10(lr) + 2.0, 2);
    bool rising = false;
    if (argument_after(command.argv, "--save").find("/step-") != std::string::npos) {
      std::lock_guard guard(m_mutex);
      rising = rising_stage_launches-- > 0;
    }
    for (long step = 1; step <= steps; ++step) {
      const double t = start + static_cast<double>(step);
      const double loss = lr > 0.3  ? 2.0 * std::exp(0.5 * static_cast<double>(step))
                          : rising ? 2.0 + 0.05 * static_cast<double>(step)
                                   : floor + 2.0 * std::exp(-0.002 * t);
      if (!observer(orchestrator::OutputStream::stdout_stream, "loss=" + std::to_string(loss))) {
        return result(orchestrator::LaunchEnd::stopped_by_observer);
      }
    }
    m_store.write(argument_after(command.argv, "--save"));
    return result(orchestrator::LaunchEnd::exited, 0);
  }

  std::vector<orchestrator::LaunchCommand> commands;
  int interrupt_at = -1;
  int rising_stage_launches = 0;

 private:
  static orchestrator::LaunchResult result(orchestrator::LaunchEnd end, int exit_code = -1) {
    orchestrator::LaunchResult launch_result;
    launch_result.end = end;
    launch_result.exit_code = exit_code;
    return launch_result;
  }

  FakeCheckpointStore& m_store;
  std::mutex m_mutex;
};

}  // namespace autolrs::testing
