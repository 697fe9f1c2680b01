#pragma once

#include <algorithm>
#include <cmath>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <stdexcept>
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
  bool is_valid(const std::string& path) const override { return existing.count(path) > 0; }
  std::string promote(const std::string& staging, const std::string& name) override {
    existing.erase(staging);
    existing.insert("/ckpt/" + name);
    return "/ckpt/" + name;
  }
  std::vector<std::string> near_misses(const std::string& staging) const override {
    std::vector<std::string> names;
    for (const std::string& path : existing) {
      if (path != staging && path.starts_with(staging)) names.push_back(path.substr(path.rfind('/') + 1));
    }
    return names;
  }
  void remove(const std::string& path) override { existing.erase(path); }
  /// What a trainer does when it saves.
  void write(const std::string& path) { existing.insert(path); }

  std::set<std::string> existing;
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
/// and "writes" its checkpoint to the store; a launch that loads a checkpoint goes on from the step it reached. Launches run when wait() is called, one at a time in the
/// order they were started, so that a run is the same whatever its slots.
/// `interrupt_at` (0-based launch count) makes that launch end as interrupted; the first
/// `rising_stage_launches` stage launches (those saving a step-* checkpoint) print losses rising from 2.
class FakeTrainerLauncher : public orchestrator::Launcher {
 public:
  explicit FakeTrainerLauncher(FakeCheckpointStore& store) : m_store(store) {}

  orchestrator::LaunchId start(const orchestrator::LaunchCommand& command, orchestrator::LineObserver observer) override {
    commands.push_back(command);
    m_started.push_back({m_next_id, command, std::move(observer), static_cast<int>(commands.size()) - 1});
    return m_next_id++;
  }

  orchestrator::LaunchCompletion wait() override {
    if (m_started.empty()) throw std::logic_error("FakeTrainerLauncher::wait: no launch is running");
    Started launch = std::move(m_started.front());
    m_started.pop_front();
    if (interrupted || launch.index == interrupt_at) return {launch.id, result(orchestrator::LaunchEnd::interrupted)};
    return {launch.id, train(launch.command, launch.observer)};
  }

  std::size_t running() const override { return m_started.size(); }
  void interrupt() override { interrupted = true; }

  std::vector<orchestrator::LaunchCommand> commands;  ///< every launch started, in order
  int interrupt_at = -1;
  int rising_stage_launches = 0;
  bool interrupted = false;  ///< interrupt() was called

 protected:
  struct Started {
    orchestrator::LaunchId id;
    orchestrator::LaunchCommand command;
    orchestrator::LineObserver observer;
    int index;  ///< in `commands`
  };

  /// What the trainer prints and saves for `command`.
  orchestrator::LaunchResult train(const orchestrator::LaunchCommand& command, const orchestrator::LineObserver& observer) {
    const double lr = std::stod(argument_after(command.argv, "--lr"));
    const long steps = std::stol(argument_after(command.argv, "--steps"));
    const std::string load = argument_after(command.argv, "--load");
    // The step the loaded checkpoint reached: a probe's as its launch saved it, a stage's in its name.
    const auto reached = m_reached.find(load);
    const double start = reached != m_reached.end()           ? reached->second
                         : load.find("step-") == std::string::npos ? 0
                                                                   : std::stod(load.substr(load.rfind('-') + 1));
    const double floor = 0.5 + 0.1 * std::pow(std::log10(lr) + 2.0, 2);
    const bool rising = argument_after(command.argv, "--save").find("/step-") != std::string::npos && rising_stage_launches-- > 0;
    for (long step = 1; step <= steps; ++step) {
      const double t = start + static_cast<double>(step);
      const double loss = lr > 0.3  ? 2.0 * std::exp(0.5 * static_cast<double>(step))
                          : rising ? 2.0 + 0.05 * static_cast<double>(step)
                                   : floor + 2.0 * std::exp(-0.002 * t);
      if (!observer(orchestrator::OutputStream::stdout_stream, "loss=" + std::to_string(loss))) {
        return result(orchestrator::LaunchEnd::stopped_by_observer);
      }
    }
    const std::string save = argument_after(command.argv, "--save");
    m_store.write(save);
    m_reached[save.substr(0, save.rfind(".staging"))] = start + static_cast<double>(steps);
    return result(orchestrator::LaunchEnd::exited, 0);
  }

  static orchestrator::LaunchResult result(orchestrator::LaunchEnd end, int exit_code = -1) {
    orchestrator::LaunchResult launch_result;
    launch_result.end = end;
    launch_result.exit_code = exit_code;
    return launch_result;
  }

  FakeCheckpointStore& m_store;
  std::map<std::string, double> m_reached;  ///< checkpoint (final path) → the step its launch reached
  std::deque<Started> m_started;
  orchestrator::LaunchId m_next_id = 1;
};

}  // namespace autolrs::testing
