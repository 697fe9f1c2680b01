#include "process/process_launcher.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <atomic>
#include <map>
#include <stdexcept>
#include <cerrno>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include <doctest/doctest.h>

#include "process/line_splitter.hpp"
#include "support/temp_dir.hpp"

namespace autolrs::process {
namespace {

using orchestrator::LaunchCommand;
using orchestrator::LaunchEnd;
using orchestrator::LaunchResult;
using orchestrator::OutputStream;
using testing::read_text;
using testing::TempDir;
using testing::write_text;

const std::string fake_trainers = AUTOLRS_FAKE_TRAINERS_DIR;
const std::string behave = fake_trainers + "/launcher_behave.sh";

LaunchCommand command_in(const TempDir& dir, std::vector<std::string> argv) {
  LaunchCommand command;
  command.argv = std::move(argv);
  command.workdir = dir.path().string();
  command.stdout_log = (dir / "stdout.log").string();
  command.stderr_log = (dir / "stderr.log").string();
  command.kill_grace_s = 0.3;
  return command;
}

/// Runs a command and keeps every line the observer saw.
struct Recorded {
  LaunchResult result;
  std::vector<std::pair<OutputStream, std::string>> lines;

  std::vector<std::string> of(OutputStream stream) const {
    std::vector<std::string> selected;
    for (const auto& [from, line] : lines)
      if (from == stream) selected.push_back(line);
    return selected;
  }
};

Recorded run_recorded(ProcessLauncher& launcher, const LaunchCommand& command) {
  Recorded recorded;
  recorded.result = orchestrator::run_to_end(launcher, command, [&](OutputStream stream, std::string_view line) {
    recorded.lines.emplace_back(stream, std::string(line));
    return true;
  });
  return recorded;
}

bool process_is_gone(const std::string& pid_file) {
  const pid_t pid = std::stoi(read_text(pid_file));
  return ::kill(pid, 0) == -1 && errno == ESRCH;
}

TEST_CASE("process::ProcessLauncher passes argv, env and workdir exactly and stdin is empty") {
  TempDir dir;
  ProcessLauncher launcher;
  LaunchCommand command = command_in(dir, {"launcher_echo_args.sh", "two words", "", "quote\"s", "--lr=0.1"});
  command.env = {{"PATH", fake_trainers + ":/usr/bin:/bin"},
                 {"LAUNCHER_TEST_VALUE", "a=b c:d;e"},
                 {"LAUNCHER_TEST_EMPTY", ""},
                 {"LAUNCHER_EXPECTED_HOME", std::getenv("HOME") ? std::getenv("HOME") : ""}};

  const Recorded recorded = run_recorded(launcher, command);

  CHECK(recorded.result.end == LaunchEnd::exited);
  CHECK(recorded.result.exit_code == 0);
  CHECK(recorded.result.succeeded());
  CHECK(recorded.of(OutputStream::stdout_stream) == std::vector<std::string>{
                                                       "argc=4",
                                                       "arg=[two words]",
                                                       "arg=[]",
                                                       "arg=[quote\"s]",
                                                       "arg=[--lr=0.1]",
                                                       "cwd=[" + dir.path().string() + "]",
                                                       "LAUNCHER_TEST_VALUE=[a=b c:d;e]",
                                                       "LAUNCHER_TEST_EMPTY=[]",
                                                       "HOME_is_inherited=[yes]",
                                                       "stdin=eof",
                                                   });
  CHECK(recorded.of(OutputStream::stderr_stream).empty());
}

TEST_CASE("process::ProcessLauncher starts the trainer with descriptors 0-2 only, even one autolrs opened without O_CLOEXEC") {
  TempDir dir;
  write_text(dir / "held.txt", "x");
  const int held = ::open((dir / "held.txt").c_str(), O_RDONLY);  // as an std::ofstream opens (no O_CLOEXEC)
  REQUIRE(held >= 3);
  ProcessLauncher launcher;
  const Recorded recorded = run_recorded(
      launcher, command_in(dir, {"/usr/bin/python3", "-c",
                                 "import os\nopen_fds = []\nfor fd in range(3, 1024):\n    try:\n        os.fstat(fd)\n"
                                 "        open_fds.append(fd)\n    except OSError:\n        pass\nprint('fds', open_fds)"}));
  ::close(held);
  CHECK(recorded.result.succeeded());
  CHECK(recorded.of(OutputStream::stdout_stream) == std::vector<std::string>{"fds []"});
}

TEST_CASE("process::ProcessLauncher delivers lines of both streams and logs the raw bytes") {
  TempDir dir;
  ProcessLauncher launcher;
  const Recorded recorded = run_recorded(launcher, command_in(dir, {behave, "streams"}));

  CHECK(recorded.result.succeeded());
  CHECK(recorded.of(OutputStream::stdout_stream) ==
        std::vector<std::string>{"out one", "out two", "no newline at end"});
  CHECK(recorded.of(OutputStream::stderr_stream) ==
        std::vector<std::string>{"err one", "progress 10%\rprogress 100%"});
  CHECK(read_text(dir / "stdout.log") == "out one\r\nout two\nno newline at end");
  CHECK(read_text(dir / "stderr.log") == "err one\nprogress 10%\rprogress 100%\r\n");
}

TEST_CASE("process::ProcessLauncher reports the exit status") {
  TempDir dir;
  ProcessLauncher launcher;
  for (const int status : {0, 3, 255}) {
    CAPTURE(status);
    const Recorded recorded = run_recorded(launcher, command_in(dir, {behave, "exit", std::to_string(status)}));
    CHECK(recorded.result.end == LaunchEnd::exited);
    CHECK(recorded.result.exit_code == status);
    CHECK(recorded.result.succeeded() == (status == 0));
    CHECK(recorded.result.message == (status == 0 ? "" : "exited with status " + std::to_string(status)));
    CHECK(recorded.of(OutputStream::stdout_stream) == std::vector<std::string>{"exiting with " + std::to_string(status)});
  }
}

TEST_CASE("process::ProcessLauncher reports death by a signal") {
  TempDir dir;
  ProcessLauncher launcher;
  for (const auto& [name, number] : std::vector<std::pair<std::string, int>>{{"TERM", SIGTERM}, {"KILL", SIGKILL}}) {
    CAPTURE(name);
    const Recorded recorded = run_recorded(launcher, command_in(dir, {behave, "self_kill", name}));
    CHECK(recorded.result.end == LaunchEnd::signaled);
    CHECK(recorded.result.signal == number);
    CHECK(recorded.result.message == "killed by signal " + std::to_string(number) + " (SIG" + name + ")");
    CHECK(recorded.of(OutputStream::stdout_stream) == std::vector<std::string>{"about to die"});
  }
}

TEST_CASE("process::ProcessLauncher ends a silent trainer after idle_timeout_s and a long one after timeout_s") {
  struct Case {
    const char* behaviour;
    double idle_timeout_s;
    double timeout_s;
    LaunchEnd end;
    std::string message;
    std::string first_line;
  };
  TempDir dir;
  ProcessLauncher launcher;
  for (const Case& c : std::vector<Case>{
           {"hang", 0.3, 0, LaunchEnd::idle_timed_out, "printed nothing for idle_timeout_s = 0.3 s", "started"},
           {"chatty", 0, 0.5, LaunchEnd::timed_out, "ran past timeout_s = 0.5 s", "tick"},
       }) {
    CAPTURE(c.behaviour);
    LaunchCommand command = command_in(dir, {behave, c.behaviour});
    command.idle_timeout_s = c.idle_timeout_s;
    command.timeout_s = c.timeout_s;
    const Recorded recorded = run_recorded(launcher, command);

    CHECK(recorded.result.end == c.end);
    CHECK(recorded.result.signal == SIGTERM);
    CHECK(recorded.result.message == c.message);
    CHECK(recorded.result.wall_s >= c.idle_timeout_s + c.timeout_s);
    REQUIRE_FALSE(recorded.lines.empty());
    CHECK(recorded.lines.front().second == c.first_line);
  }
}

TEST_CASE("process::ProcessLauncher SIGKILLs a trainer that ignores SIGTERM after kill_grace_s") {
  TempDir dir;
  ProcessLauncher launcher;
  const std::string pid_file = (dir / "trainer.pid").string();
  LaunchCommand command = command_in(dir, {behave, "ignore_term", pid_file});
  command.timeout_s = 0.3;
  const Recorded recorded = run_recorded(launcher, command);

  CHECK(recorded.result.end == LaunchEnd::timed_out);
  CHECK(recorded.result.signal == SIGKILL);
  CHECK(recorded.of(OutputStream::stdout_stream) == std::vector<std::string>{"ready"});
  CHECK(process_is_gone(pid_file));
}

TEST_CASE("process::ProcessLauncher ends when the trainer exits although a grandchild holds its stdout") {
  TempDir dir;
  ProcessLauncher launcher;
  const std::string pid_file = (dir / "grandchild.pid").string();
  LaunchCommand command = command_in(dir, {behave, "leave_grandchild", pid_file});
  command.timeout_s = 20;  // waiting for the grandchild (sleep 30) would end in timed_out
  const Recorded recorded = run_recorded(launcher, command);

  CHECK(recorded.result.end == LaunchEnd::exited);
  CHECK(recorded.result.exit_code == 0);
  CHECK(recorded.of(OutputStream::stdout_stream) == std::vector<std::string>{"main done"});
  CHECK(process_is_gone(pid_file));
}

TEST_CASE("process::ProcessLauncher ends a setsid child that carries the launch's marks when the launch ends") {
  TempDir dir;
  ProcessLauncher launcher;
  const std::string pid_file = (dir / "daemon.pid").string();
  LaunchCommand command = command_in(dir, {behave, "leave_daemon", pid_file});
  command.env = {{orchestrator::run_dir_env_var, dir.path().string()}, {orchestrator::launch_env_var, "stage-000-probe-00"}};
  CHECK(run_recorded(launcher, command).result.succeeded());
  CHECK(process_is_gone(pid_file));  // killed and reaped: not even a zombie
}

TEST_CASE("process::ProcessLauncher stops when the observer returns false") {
  TempDir dir;
  ProcessLauncher launcher;
  int calls = 0;
  const LaunchResult result = orchestrator::run_to_end(launcher, command_in(dir, {behave, "chatty"}), [&](OutputStream, std::string_view) {
    return ++calls < 3;
  });
  CHECK(result.end == LaunchEnd::stopped_by_observer);
  CHECK(calls == 3);
}

TEST_CASE("process::ProcessLauncher is interrupted by the stop signal") {
  TempDir dir;
  std::atomic<int> stop_signal{0};
  ProcessLauncher launcher(&stop_signal);

  SUBCASE("while a launch runs") {
    const LaunchResult result =
        orchestrator::run_to_end(launcher, command_in(dir, {behave, "chatty"}), [&](OutputStream, std::string_view) {
          stop_signal = SIGINT;  // as the CLI's signal handler would
          return true;
        });
    CHECK(result.end == LaunchEnd::interrupted);
    CHECK(result.message == "autolrs was asked to stop");
  }
  SUBCASE("before a launch starts: it is not started") {
    stop_signal = SIGTERM;
    const Recorded recorded = run_recorded(launcher, command_in(dir, {behave, "streams"}));
    CHECK(recorded.result.end == LaunchEnd::interrupted);
    CHECK(recorded.lines.empty());
    CHECK_FALSE(std::filesystem::exists(dir / "stdout.log"));
  }
}

TEST_CASE("process::ProcessLauncher cuts a 100 MB line without newline to the cap in bounded memory") {
  TempDir dir;
  ProcessLauncher launcher;
  constexpr std::size_t huge = 100'000'000;
  rusage before{};
  ::getrusage(RUSAGE_SELF, &before);

  std::vector<std::size_t> lengths;
  std::string last_line;
  const LaunchResult result = orchestrator::run_to_end(
      launcher, command_in(dir, {behave, "huge_line", std::to_string(huge)}), [&](OutputStream, std::string_view line) {
        lengths.push_back(line.size());
        last_line = line;
        return true;
      });

  rusage after{};
  ::getrusage(RUSAGE_SELF, &after);
  CHECK(result.succeeded());
  CHECK(lengths == std::vector<std::size_t>{max_line_bytes, 5});
  CHECK(last_line == "after");
  // The log keeps the first and the last 8 MiB (LaunchCommand::log_limit_bytes), the trainer's last line included.
  const std::size_t limit = orchestrator::LaunchCommand{}.log_limit_bytes;
  const std::string marker = "\n[autolrs: " + std::to_string(huge + 7 - limit) +
                             " bytes left out here; a log keeps the first and the last " + std::to_string(limit / 2) +
                             " bytes of a stream]\n";
  CHECK(std::filesystem::file_size(dir / "stdout.log") == limit + marker.size());
  const std::string log = read_text(dir / "stdout.log");
  CHECK(log.substr(limit / 2, marker.size()) == marker);
  CHECK(log.substr(log.size() - 7) == "\nafter\n");
  CHECK(after.ru_maxrss - before.ru_maxrss < 50 * 1024);  // KiB: far below the line's 100 MB
}

TEST_CASE("process::ProcessLauncher passes binary junk through unchanged") {
  TempDir dir;
  ProcessLauncher launcher;
  const Recorded recorded = run_recorded(launcher, command_in(dir, {behave, "junk"}));
  CHECK(recorded.result.succeeded());
  CHECK(recorded.of(OutputStream::stdout_stream) == std::vector<std::string>{std::string("a\0b\xff\xfe" "c", 6), "ok"});
}

TEST_CASE("process::ProcessLauncher reports what cannot be started") {
  TempDir dir;
  ProcessLauncher launcher;
  write_text(dir / "not_executable.sh", "#!/bin/sh\necho hi\n");
  write_text(dir / "bad_format", "this is no program\n");
  ::chmod((dir / "bad_format").c_str(), 0755);

  struct Case {
    std::vector<std::string> argv;
    std::string workdir;
    std::string message;
  };
  const std::string here = dir.path().string();
  for (const Case& c : std::vector<Case>{
           {{"autolrs_no_such_program"}, here, "autolrs_no_such_program: not found in PATH (or not executable)"},
           {{"./not_executable.sh"}, here, "./not_executable.sh: not an executable file"},
           {{"./bad_format"}, here, "cannot start " + here + "/bad_format: Exec format error"},
           {{behave, "streams"}, here + "/missing", "workdir " + here + "/missing is not a directory"},
           {{}, here, "empty command"},
       }) {
    CAPTURE(c.message);
    LaunchCommand command = command_in(dir, c.argv);
    command.workdir = c.workdir;
    const Recorded recorded = run_recorded(launcher, command);
    CHECK(recorded.result.end == LaunchEnd::failed_to_start);
    CHECK(recorded.result.message == c.message);
    CHECK(recorded.lines.empty());
  }
}

TEST_CASE("process::ProcessLauncher reports a log it cannot create as its own error, not the trainer's") {
  TempDir dir;
  ProcessLauncher launcher;
  LaunchCommand command = command_in(dir, {behave, "exit", "0"});
  command.stderr_log = (dir / "no-such-folder" / "x.stderr.log").string();
  const Recorded recorded = run_recorded(launcher, command);
  CHECK(recorded.result.end == LaunchEnd::launcher_error);
  CHECK(recorded.result.message == "cannot open log file " + command.stderr_log + ": No such file or directory");
}

/// The number of entries of a /proc/self folder (threads in task/, open descriptors in fd/).
std::size_t entries_of(const char* folder) {
  std::size_t count = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(folder)) ++count;
  return count;
}

/// Starts every command at once and waits for them all; the lines each launch's observer saw, and
/// the order they ended in.
struct Concurrent {
  std::map<orchestrator::LaunchId, Recorded> recorded;
  std::vector<orchestrator::LaunchId> ids, ended;

  Concurrent(ProcessLauncher& launcher, const std::vector<LaunchCommand>& commands) {
    for (const LaunchCommand& command : commands) {
      const orchestrator::LaunchId id = launcher.start(command, [this, at = ids.size()](OutputStream stream, std::string_view line) {
        recorded[ids[at]].lines.emplace_back(stream, std::string(line));
        return true;
      });
      ids.push_back(id);
    }
    while (launcher.running() > 0) {
      const orchestrator::LaunchCompletion completion = launcher.wait();
      recorded[completion.id].result = completion.result;
      ended.push_back(completion.id);
    }
  }
  const Recorded& of(std::size_t launch) { return recorded[ids[launch]]; }
};

LaunchCommand logged_as(LaunchCommand command, const TempDir& dir, const std::string& name) {
  command.stdout_log = (dir / (name + ".stdout")).string();
  command.stderr_log = (dir / (name + ".stderr")).string();
  return command;
}

TEST_CASE("process::ProcessLauncher runs concurrent launches on one thread, each with its own lines and log") {
  TempDir dir;
  ProcessLauncher launcher;
  constexpr int launches = 4;
  std::vector<LaunchCommand> commands;
  for (int i = 0; i < launches; ++i) {
    commands.push_back(logged_as(command_in(dir, {behave, "exit", std::to_string(i)}), dir, std::to_string(i)));
  }
  Concurrent run(launcher, commands);
  CHECK(run.ended.size() == launches);
  for (int i = 0; i < launches; ++i) {
    CAPTURE(i);
    CHECK(run.of(i).result.exit_code == i);
    CHECK(run.of(i).of(OutputStream::stdout_stream) == std::vector<std::string>{"exiting with " + std::to_string(i)});
    CHECK(read_text(dir / (std::to_string(i) + ".stdout")) == "exiting with " + std::to_string(i) + "\n");
  }
  CHECK_THROWS_AS(launcher.wait(), std::logic_error);  // nothing runs
}

TEST_CASE("process::ProcessLauncher serves the other launches while one is being killed") {
  TempDir dir;
  ProcessLauncher launcher;
  // The first launch times out, ignores SIGTERM and is SIGKILLed after its grace; the second
  // starts printing only after the first's timeout, and ends on its own meanwhile.
  LaunchCommand stubborn = logged_as(command_in(dir, {behave, "ignore_term", (dir / "stubborn.pid").string()}), dir, "stubborn");
  stubborn.timeout_s = 0.2;
  stubborn.kill_grace_s = 5;  // only the SIGKILL after this grace ends it, long after the other's end
  LaunchCommand other = logged_as(command_in(dir, {"/bin/sh", "-c", "sleep 0.4; echo done"}), dir, "other");
  Concurrent run(launcher, {stubborn, other});
  CHECK(run.ended == std::vector<orchestrator::LaunchId>{run.ids[1], run.ids[0]});
  CHECK(run.of(1).result.succeeded());
  CHECK(run.of(1).of(OutputStream::stdout_stream) == std::vector<std::string>{"done"});
  CHECK(run.of(0).result.end == LaunchEnd::timed_out);
  CHECK(run.of(0).result.signal == SIGKILL);
  CHECK(process_is_gone((dir / "stubborn.pid").string()));
}

TEST_CASE("process::ProcessLauncher::interrupt ends every running launch as interrupted, and starts nothing after it") {
  TempDir dir;
  ProcessLauncher launcher;
  const std::string pid_file = (dir / "hung.pid").string();
  std::vector<LaunchCommand> commands = {logged_as(command_in(dir, {behave, "chatty"}), dir, "a"),
                                         logged_as(command_in(dir, {behave, "ignore_term", pid_file}), dir, "b")};
  std::vector<LaunchResult> results;
  for (const LaunchCommand& command : commands) {
    launcher.start(command, [&](OutputStream, std::string_view line) {
      // Once the second has written its pid, as RunOrchestrator does when autolrs itself fails.
      if (line == "ready") launcher.interrupt();
      return true;
    });
  }
  while (launcher.running() > 0) results.push_back(launcher.wait().result);
  REQUIRE(results.size() == 2);
  for (const LaunchResult& result : results) {
    CHECK(result.end == LaunchEnd::interrupted);
    CHECK(result.message == "autolrs was asked to stop");
  }
  CHECK(process_is_gone(pid_file));
  const Recorded after = run_recorded(launcher, command_in(dir, {behave, "streams"}));
  CHECK(after.result.end == LaunchEnd::interrupted);
  CHECK(after.result.message == "autolrs was asked to stop; not started");
}

TEST_CASE("process::ProcessLauncher ends a launch whose log cannot be written or whose observer throws, and goes on") {
  TempDir dir;
  ProcessLauncher launcher;
  LaunchCommand full_disk = command_in(dir, {behave, "chatty"});
  full_disk.stdout_log = "/dev/full";  // every write fails with ENOSPC
  const Recorded no_space = run_recorded(launcher, full_disk);
  CHECK(no_space.result.end == LaunchEnd::launcher_error);
  CHECK(no_space.result.message == "cannot write /dev/full: No space left on device");
  CHECK(no_space.result.signal == SIGKILL);

  const LaunchResult thrown = orchestrator::run_to_end(launcher, command_in(dir, {behave, "chatty"}), [](OutputStream, std::string_view) -> bool {
    throw std::runtime_error("observer failed");
  });
  CHECK(thrown.end == LaunchEnd::launcher_error);
  CHECK(thrown.message == "observer failed");

  CHECK(run_recorded(launcher, command_in(dir, {behave, "exit", "0"})).result.succeeded());
}

TEST_CASE("process::ProcessLauncher creates no thread and keeps no descriptor per launch") {
  TempDir dir;
  ProcessLauncher launcher;
  CHECK(run_recorded(launcher, command_in(dir, {behave, "exit", "0"})).result.succeeded());  // warm up
  const std::size_t threads = entries_of("/proc/self/task"), descriptors = entries_of("/proc/self/fd");
  for (int round = 0; round < 10; ++round) {
    std::vector<LaunchCommand> commands;
    for (int i = 0; i < 5; ++i) {
      commands.push_back(logged_as(command_in(dir, {behave, "exit", "0"}), dir, std::to_string(i)));
      CHECK(entries_of("/proc/self/task") == threads);
    }
    Concurrent run(launcher, commands);
    CHECK(run.ended.size() == 5);
  }
  CHECK(entries_of("/proc/self/task") == threads);
  CHECK(entries_of("/proc/self/fd") == descriptors);
}

/// A "<field>:  <n> kB" entry of /proc/self/status, in kB.
long status_kb(const std::string& field) {
  const std::string status = read_text("/proc/self/status");
  const std::size_t at = status.find("\n" + field + ":");
  REQUIRE(at != std::string::npos);
  return std::stol(status.substr(at + field.size() + 2));
}

TEST_CASE("process::ProcessLauncher holds memory, threads and descriptors flat over ten thousand launches") {
  TempDir dir;
  ProcessLauncher launcher;
  const auto run_launches = [&](int count) {
    for (int started = 0; started < count; started += 4) {  // four at a time, as four slots would
      std::vector<LaunchCommand> commands;
      for (int i = 0; i < 4; ++i) commands.push_back(logged_as(command_in(dir, {"/bin/true"}), dir, std::to_string(i)));
      Concurrent run(launcher, commands);
      REQUIRE(run.ended.size() == 4);
      for (std::size_t i = 0; i < 4; ++i) REQUIRE(run.of(i).result.succeeded());
    }
  };
  run_launches(1000);  // allocator pools and the launcher's buffers reach their working size
  const long rss = status_kb("VmRSS"), size = status_kb("VmSize");
  const std::size_t threads = entries_of("/proc/self/task"), descriptors = entries_of("/proc/self/fd");
  run_launches(9000);
  MESSAGE("after 1,000 and 10,000 launches: VmRSS " << rss << " and " << status_kb("VmRSS") << " kB, VmSize " << size
                                                    << " and " << status_kb("VmSize") << " kB");
  CHECK(entries_of("/proc/self/task") == threads);
  CHECK(entries_of("/proc/self/fd") == descriptors);
#ifndef __SANITIZE_ADDRESS__  // AddressSanitizer holds freed memory in a quarantine of up to 256 MB
  // 9,000 more launches within 2 MB: under 230 bytes a launch, where a thread's stack was 8 MB.
  CHECK(status_kb("VmRSS") - rss < 2048);
  CHECK(status_kb("VmSize") - size < 2048);
#endif
}

/// A serve-mode launch of tests/fake_trainers/serve_echo.py with command {"id": id, "lr": lr}, its
/// logs named after the id.
LaunchCommand serve_command(const TempDir& dir, const std::string& id, double lr) {
  LaunchCommand command = command_in(dir, {fake_trainers + "/serve_echo.py"});
  command.stdout_log = (dir / (id + ".stdout.log")).string();
  command.stderr_log = (dir / (id + ".stderr.log")).string();
  command.serve = orchestrator::ServeRequest{R"({"id": ")" + id + R"(", "lr": )" + std::to_string(lr) + "}\n", id};
  return command;
}

/// The pid in a serve_echo.py line "pid=<pid> lr=<lr>".
pid_t pid_in(const std::string& line) { return static_cast<pid_t>(std::stol(line.substr(4, line.find(' ') - 4))); }

TEST_CASE("process::ProcessLauncher in serve mode sends each launch to one kept trainer and ends it at its completion") {
  TempDir dir;
  pid_t server = 0;
  {
    ProcessLauncher launcher;
    const Recorded first = run_recorded(launcher, serve_command(dir, "a", 1));
    const Recorded second = run_recorded(launcher, serve_command(dir, "b", 2));
    CHECK(first.result.succeeded());
    CHECK(second.result.succeeded());
    CHECK(first.result.message.empty());
    REQUIRE(first.of(OutputStream::stdout_stream).size() == 1);  // the completion is not passed on
    REQUIRE(second.of(OutputStream::stdout_stream).size() == 1);
    server = pid_in(first.of(OutputStream::stdout_stream)[0]);
    CHECK(first.of(OutputStream::stdout_stream)[0] == "pid=" + std::to_string(server) + " lr=1.0");
    CHECK(second.of(OutputStream::stdout_stream)[0] == "pid=" + std::to_string(server) + " lr=2.0");
    CHECK(read_text(dir / "b.stdout.log") == "pid=" + std::to_string(server) + " lr=2.0\n{\"autolrs\": \"done\", \"id\": \"b\"}\n");
    CHECK(::kill(server, 0) == 0);  // kept between launches
  }
  CHECK((::kill(server, 0) == -1 && errno == ESRCH));  // and ended with the launcher
}

TEST_CASE("process::ProcessLauncher in serve mode kills a trainer that answers another command or is stopped, and starts a fresh one") {
  TempDir dir;
  ProcessLauncher launcher;
  const Recorded first = run_recorded(launcher, serve_command(dir, "a", 13));
  CHECK(first.result.end == LaunchEnd::server_failed);
  CHECK(first.result.message == "printed the completion of command another while running a");
  const pid_t failed = pid_in(first.of(OutputStream::stdout_stream).at(0));
  CHECK((::kill(failed, 0) == -1 && errno == ESRCH));

  const Recorded second = run_recorded(launcher, serve_command(dir, "b", 1));
  CHECK(second.result.succeeded());
  const pid_t replacement = pid_in(second.of(OutputStream::stdout_stream).at(0));
  CHECK(replacement != failed);

  const LaunchResult stopped = orchestrator::run_to_end(launcher, serve_command(dir, "c", 1),
                                                        [](OutputStream, std::string_view) { return false; });
  CHECK(stopped.end == LaunchEnd::stopped_by_observer);
  CHECK((::kill(replacement, 0) == -1 && errno == ESRCH));
  const Recorded fourth = run_recorded(launcher, serve_command(dir, "d", 1));
  CHECK(fourth.result.succeeded());
  CHECK(pid_in(fourth.of(OutputStream::stdout_stream).at(0)) != replacement);
}

TEST_CASE("process::resolve_program finds programs as execvp would") {
  TempDir dir;
  std::filesystem::create_directory(dir / "bin");
  write_text(dir / "bin" / "tool", "#!/bin/sh\n");
  ::chmod((dir / "bin" / "tool").c_str(), 0755);
  write_text(dir / "bin" / "plain", "not executable\n");
  const std::string here = dir.path().string();
  const std::map<std::string, std::string> path_env{{"PATH", "/nonexistent:" + here + "/bin"}};

  CHECK(resolve_program("tool", path_env) == here + "/bin/tool");
  CHECK(resolve_program("plain", path_env) == std::nullopt);
  CHECK(resolve_program("missing", path_env) == std::nullopt);
  CHECK(resolve_program("tool", {{"PATH", "bin"}}, here) == here + "/bin/tool");
  CHECK(resolve_program("bin/tool", {}, here) == here + "/bin/tool");
  CHECK(resolve_program("./bin/../bin/tool", {}, here) == here + "/bin/tool");
  CHECK(resolve_program(here + "/bin/plain", {}) == std::nullopt);
  CHECK(resolve_program("sh", {}) != std::nullopt);  // the inherited PATH
  CHECK(resolve_program("", path_env) == std::nullopt);
  CHECK(resolve_program("bin", {{"PATH", here}}) == std::nullopt);  // a directory is not a program
}

}  // namespace
}  // namespace autolrs::process
