#include "process/process_launcher.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <boost/process/args.hpp>
#include <boost/process/child.hpp>
#include <boost/process/exe.hpp>
#include <boost/process/extend.hpp>
#include <boost/process/io.hpp>
#include <boost/process/pipe.hpp>

#include "process/line_splitter.hpp"

extern char** environ;

namespace autolrs::process {
namespace {

namespace bp = boost::process;
namespace fs = std::filesystem;
using orchestrator::LaunchCommand;
using orchestrator::LaunchEnd;
using orchestrator::LaunchResult;
using orchestrator::LineObserver;
using orchestrator::OutputStream;
using SteadyTime = std::chrono::steady_clock;
using std::chrono::milliseconds;

/// The stop signal and the trainer's exit are checked at least this often.
constexpr milliseconds check_interval{50};
constexpr std::size_t read_chunk_bytes = 64 * 1024;
/// Most bytes read from one stream per loop turn, so that a flood of output cannot hold off the
/// checks for exit, timeouts and the stop signal.
constexpr std::size_t max_read_per_turn = 1 << 20;
/// Most bytes drained from one stream once the trainer has exited: what it wrote itself fits in the
/// pipe buffer; this bounds what a process it left behind can add.
constexpr std::size_t max_drain_bytes = 4 << 20;
/// How long a SIGKILLed group may take to disappear; only a process stuck in the kernel takes longer.
constexpr std::chrono::seconds kill_wait{5};
/// Limits above this (about 30 years) are treated as this, to keep time arithmetic in range.
constexpr double max_limit_s = 1e9;

std::string errno_text() { return std::generic_category().message(errno); }

std::string format_seconds(double seconds) {
  char text[32];
  std::snprintf(text, sizeof text, "%g s", seconds);
  return text;
}

SteadyTime::duration to_duration(double seconds) {
  return std::chrono::duration_cast<SteadyTime::duration>(
      std::chrono::duration<double>(std::min(seconds, max_limit_s)));
}

/// An owned file descriptor, closed on destruction.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : m_fd(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : m_fd(std::exchange(other.m_fd, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    reset(std::exchange(other.m_fd, -1));
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return m_fd; }
  explicit operator bool() const { return m_fd >= 0; }
  void reset(int fd = -1) {
    if (m_fd >= 0) ::close(m_fd);
    m_fd = fd;
  }

 private:
  int m_fd = -1;
};

bool is_executable_file(const fs::path& path) {
  std::error_code ignored;
  return fs::is_regular_file(path, ignored) && ::access(path.c_str(), X_OK) == 0;
}

/// "KEY=VALUE" entries of the inherited environment with `overrides` merged over it.
std::vector<std::string> merged_environment(const std::map<std::string, std::string>& overrides) {
  std::vector<std::string> entries;
  for (char** entry = environ; entry && *entry; ++entry) {
    const std::string_view text(*entry);
    if (!overrides.count(std::string(text.substr(0, text.find('='))))) entries.emplace_back(text);
  }
  for (const auto& [name, value] : overrides) entries.push_back(name + "=" + value);
  return entries;
}

/// Prepares the forked child for exec: own process group, death signal, cwd, argv[0] as given and
/// the merged environment. on_exec_setup runs in the child of a multithreaded process, between
/// fork and exec, so it makes only async-signal-safe calls.
struct ChildSetup : bp::extend::handler {
  const char* argv0;
  const char* workdir;
  char** envp;
  pid_t parent;

  template <class Executor>
  void on_setup(Executor& exec) const {
    exec.env = envp;
  }

  template <class Executor>
  void on_exec_setup(Executor& exec) const {
    if (::setpgid(0, 0) != 0) fail(exec, "setpgid failed");
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) fail(exec, "prctl(PR_SET_PDEATHSIG) failed");
    if (::getppid() != parent) ::_exit(127);  // autolrs died before the death signal was armed
    if (::chdir(workdir) != 0) fail(exec, "chdir to the workdir failed");
    // Boost.Process passes the resolved path as argv[0]; pass it as the user wrote it, as execvp does.
    const_cast<char**>(exec.cmd_line)[0] = const_cast<char*>(argv0);
  }

  /// Boost.Process reports a child that failed before or at exec but leaves it a zombie: reap it.
  template <class Executor>
  void on_error(Executor& exec, const std::error_code&) const {
    if (exec.pid > 0) ::waitpid(exec.pid, nullptr, 0);
  }

  template <class Executor>
  static void fail(Executor& exec, const char* what) {
    exec.set_error(std::error_code(errno, std::system_category()), what);
    ::_exit(127);
  }
};

/// Serializes spawning. Boost.Process creates its exec-error pipe without O_CLOEXEC and sets the
/// flag a moment later; a fork in another thread in between would leak that pipe into the other
/// child and block this spawn until the other child exits. (Our own descriptors are O_CLOEXEC.)
std::mutex spawn_mutex;

/// Starts `program` as described by `command` with stdout/stderr into the given pipes; returns its
/// pid, or -1 with `error` set.
pid_t spawn(const LaunchCommand& command, const std::string& program, bp::pipe& stdout_pipe,
            bp::pipe& stderr_pipe, std::string& error) {
  std::vector<std::string> env_entries = merged_environment(command.env);
  std::vector<char*> envp;
  for (std::string& entry : env_entries) envp.push_back(entry.data());
  envp.push_back(nullptr);
  const ChildSetup setup{{}, command.argv[0].c_str(), command.workdir.c_str(), envp.data(), ::getpid()};
  const std::vector<std::string> args(command.argv.begin() + 1, command.argv.end());

  std::error_code spawn_error;
  const std::lock_guard lock(spawn_mutex);
  bp::child child(bp::exe = program, bp::args = args, bp::std_in < bp::null, bp::std_out > stdout_pipe,
                  bp::std_err > stderr_pipe, setup, spawn_error);
  if (spawn_error) {
    error = "cannot start " + program + ": " + spawn_error.message();
    return -1;
  }
  child.detach();  // we wait for it and its group ourselves
  return child.id();
}

/// One output stream of a launch: the read end of its pipe, its log file and its line splitter.
struct Stream {
  OutputStream kind;
  std::string log_path;
  UniqueFd log;
  UniqueFd pipe;  ///< non-blocking; reset at end of file
  LineSplitter lines;
};

/// A started trainer and its process group (pgid == pid). Reads its output, reaps it and ends the
/// group. If destroyed before end_group() completed (an exception), SIGKILLs the group.
class RunningLaunch {
 public:
  RunningLaunch(pid_t pid, std::array<Stream, 2> streams, const LineObserver& observer)
      : m_pid(pid), m_streams(std::move(streams)), m_observer(observer) {}
  RunningLaunch(const RunningLaunch&) = delete;
  RunningLaunch& operator=(const RunningLaunch&) = delete;

  ~RunningLaunch() {
    if (m_ended) return;
    signal_group(SIGKILL);
    const auto deadline = SteadyTime::now() + kill_wait;
    while (!gone() && SteadyTime::now() < deadline) ::poll(nullptr, 0, 10);
  }

  /// Follows the launch until the trainer exits or a reason to end it arises.
  LaunchEnd monitor(const LaunchCommand& command, const std::atomic<int>* stop_signal) {
    const auto started = SteadyTime::now();
    auto last_output = started;
    const auto timeout = to_duration(command.timeout_s);
    const auto idle_timeout = to_duration(command.idle_timeout_s);
    for (;;) {
      auto wait = check_interval;
      const auto until = [&](SteadyTime::time_point deadline) {
        const auto left = std::chrono::ceil<milliseconds>(deadline - SteadyTime::now());
        wait = std::clamp(left, milliseconds{0}, wait);
      };
      if (command.timeout_s > 0) until(started + timeout);
      if (command.idle_timeout_s > 0) until(last_output + idle_timeout);
      if (!m_streams[0].pipe && !m_streams[1].pipe) {
        // Output closed: only the exit is awaited, and it normally follows at once. Check after 1 ms,
        // doubling up to check_interval, rather than sleeping a whole interval on every launch.
        wait = std::min(wait, m_exit_check_interval);
        m_exit_check_interval = std::min(m_exit_check_interval * 2, check_interval);
      }

      if (pump(wait, max_read_per_turn, true)) last_output = SteadyTime::now();
      reap();
      if (m_observer_stopped) return LaunchEnd::stopped_by_observer;
      if (m_trainer_reaped) {
        pump(milliseconds{0}, max_drain_bytes, true);
        return m_status && WIFSIGNALED(*m_status) ? LaunchEnd::signaled : LaunchEnd::exited;
      }
      if (stop_signal && stop_signal->load() != 0) return LaunchEnd::interrupted;
      const auto now = SteadyTime::now();
      if (command.timeout_s > 0 && now - started >= timeout) return LaunchEnd::timed_out;
      if (command.idle_timeout_s > 0 && now - last_output >= idle_timeout) return LaunchEnd::idle_timed_out;
    }
  }

  /// SIGTERM (and SIGCONT, should it be stopped) to the group, up to `grace_s` for it to go, then
  /// SIGKILL. Output read meanwhile goes to the logs only. Returns false if members were still
  /// present kill_wait after SIGKILL (stuck in the kernel).
  bool end_group(double grace_s) {
    bool all_gone = gone();
    if (!all_gone) {
      signal_group(SIGTERM);
      signal_group(SIGCONT);
      all_gone = wait_until_gone(SteadyTime::now() + to_duration(std::max(grace_s, 0.0)));
    }
    if (!all_gone) {
      signal_group(SIGKILL);
      all_gone = wait_until_gone(SteadyTime::now() + kill_wait);
    }
    m_ended = true;
    return all_gone;
  }

  /// Delivers pending partial last lines (the observer is not called again once it asked to stop).
  void finish_lines() {
    for (Stream& stream : m_streams) stream.lines.finish(line_sink(stream.kind));
  }

  /// The trainer's wait status, when it was reaped here.
  std::optional<int> status() const { return m_status; }

 private:
  LineSplitter::LineSink line_sink(OutputStream kind) {
    return [this, kind](std::string_view line) {
      if (m_observer && !m_observer_stopped && !m_observer(kind, line)) m_observer_stopped = true;
    };
  }

  /// Waits up to `wait` for output, then reads at most `max_bytes` per stream of what is available,
  /// writing it to the logs and, when `deliver_lines`, to the observer. True if any byte was read.
  bool pump(milliseconds wait, std::size_t max_bytes, bool deliver_lines) {
    std::array<pollfd, 2> fds{};
    std::array<Stream*, 2> polled{};
    nfds_t count = 0;
    for (Stream& stream : m_streams) {
      if (!stream.pipe) continue;
      fds[count] = {stream.pipe.get(), POLLIN, 0};
      polled[count++] = &stream;
    }
    if (::poll(fds.data(), count, static_cast<int>(wait.count())) <= 0) return false;
    bool got_output = false;
    for (nfds_t i = 0; i < count; ++i) {
      if (fds[i].revents != 0) got_output |= read_available(*polled[i], max_bytes, deliver_lines);
    }
    return got_output;
  }

  bool read_available(Stream& stream, std::size_t max_bytes, bool deliver_lines) {
    std::array<char, read_chunk_bytes> buffer;
    std::size_t total = 0;
    while (total < max_bytes) {
      const ssize_t count = ::read(stream.pipe.get(), buffer.data(), buffer.size());
      if (count < 0 && errno == EINTR) continue;
      if (count < 0 && errno == EAGAIN) break;
      if (count <= 0) {  // end of file, or a read error that leaves nothing more to read
        stream.pipe.reset();
        if (deliver_lines) stream.lines.finish(line_sink(stream.kind));
        break;
      }
      const std::string_view chunk(buffer.data(), static_cast<std::size_t>(count));
      write_log(stream, chunk);
      if (deliver_lines) stream.lines.feed(chunk, line_sink(stream.kind));
      total += chunk.size();
    }
    return total > 0;
  }

  static void write_log(Stream& stream, std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t written = ::write(stream.log.get(), bytes.data(), bytes.size());
      if (written < 0 && errno == EINTR) continue;
      if (written < 0) throw std::system_error(errno, std::generic_category(), "cannot write " + stream.log_path);
      bytes.remove_prefix(static_cast<std::size_t>(written));
    }
  }

  /// Reaps the trainer and, once it is gone, members of its group adopted by us as subreaper.
  void reap() {
    int status = 0;
    if (!m_trainer_reaped) {
      const pid_t reaped = ::waitpid(m_pid, &status, WNOHANG);
      if (reaped == m_pid) m_status = status;
      // ECHILD: someone else reaped it (SIGCHLD ignored in this process); its status is lost.
      m_trainer_reaped = reaped == m_pid || (reaped < 0 && errno == ECHILD);
      if (!m_trainer_reaped) return;
    }
    while (::waitpid(-m_pid, &status, WNOHANG) > 0) {
    }
  }

  bool gone() {
    reap();
    return m_trainer_reaped && ::kill(-m_pid, 0) != 0 && errno == ESRCH;
  }

  bool wait_until_gone(SteadyTime::time_point deadline) {
    while (!gone()) {
      const auto left = std::chrono::ceil<milliseconds>(deadline - SteadyTime::now());
      if (left <= milliseconds{0}) return false;
      pump(std::min(left, milliseconds{10}), max_read_per_turn, false);
    }
    return true;
  }

  /// Signals the group, and the trainer itself in case it moved to another group.
  void signal_group(int signal) {
    ::kill(-m_pid, signal);
    if (!m_trainer_reaped) ::kill(m_pid, signal);
  }

  pid_t m_pid;
  std::array<Stream, 2> m_streams;
  const LineObserver& m_observer;
  bool m_observer_stopped = false;
  bool m_trainer_reaped = false;
  milliseconds m_exit_check_interval{1};  ///< next wait for the exit once the output has closed
  std::optional<int> m_status;
  bool m_ended = false;
};

/// Opens a log file for writing (created, truncated); sets `error` on failure.
UniqueFd open_log(const std::string& path, std::string& error) {
  UniqueFd log(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!log) error = "cannot open log file " + path + ": " + errno_text();
  return log;
}

/// A pipe whose ends are both close-on-exec and whose read end is non-blocking; sets `error` on
/// failure. dup2 onto the child's stdout/stderr clears close-on-exec on the child's copy.
bool make_pipe(bp::pipe& pipe, std::string& error) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0 || ::fcntl(fds[0], F_SETFL, O_NONBLOCK) != 0) {
    error = std::string("cannot create a pipe: ") + errno_text();
    return false;
  }
  pipe = bp::pipe(fds[0], fds[1]);
  return true;
}

std::string end_message(LaunchEnd end, const LaunchCommand& command, const std::optional<int>& status) {
  switch (end) {
    case LaunchEnd::exited:
      if (!status) return "exited; its exit status was lost (reaped elsewhere)";
      return WEXITSTATUS(*status) == 0 ? "" : "exited with status " + std::to_string(WEXITSTATUS(*status));
    case LaunchEnd::signaled: {
      const int signal = WTERMSIG(*status);
      const char* name = ::sigabbrev_np(signal);
      return "killed by signal " + std::to_string(signal) + (name ? std::string(" (SIG") + name + ")" : "");
    }
    case LaunchEnd::timed_out: return "ran past timeout_s = " + format_seconds(command.timeout_s);
    case LaunchEnd::idle_timed_out:
      return "printed nothing for idle_timeout_s = " + format_seconds(command.idle_timeout_s);
    case LaunchEnd::stopped_by_observer: return "stopped because of its output";
    case LaunchEnd::interrupted: return "autolrs was asked to stop";
    case LaunchEnd::failed_to_start: break;
  }
  return "";
}

}  // namespace

std::optional<std::string> resolve_program(const std::string& argv0,
                                           const std::map<std::string, std::string>& env,
                                           const std::string& workdir) {
  if (argv0.empty()) return std::nullopt;
  std::error_code cwd_error;
  const fs::path base = workdir.empty() ? fs::current_path(cwd_error) : fs::path(workdir);
  const auto found = [&](const fs::path& path) -> std::optional<std::string> {
    const fs::path absolute = (base / path).lexically_normal();  // base / "/x" is "/x"
    if (is_executable_file(absolute)) return absolute.string();
    return std::nullopt;
  };
  if (argv0.find('/') != std::string::npos) return found(argv0);

  const auto path_override = env.find("PATH");
  const char* inherited = std::getenv("PATH");
  const std::string search_path = path_override != env.end() ? path_override->second
                                  : inherited                ? inherited
                                                             : "/bin:/usr/bin";  // glibc's default
  for (std::size_t begin = 0;;) {
    const std::size_t end = search_path.find(':', begin);
    const std::string dir = search_path.substr(begin, end == std::string::npos ? end : end - begin);
    if (auto program = found(fs::path(dir.empty() ? "." : dir) / argv0)) return program;
    if (end == std::string::npos) return std::nullopt;
    begin = end + 1;
  }
}

ProcessLauncher::ProcessLauncher(const std::atomic<int>* stop_signal) : m_stop_signal(stop_signal) {
  if (::prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
    throw std::system_error(errno, std::generic_category(), "prctl(PR_SET_CHILD_SUBREAPER)");
  }
}

LaunchResult ProcessLauncher::run(const LaunchCommand& command, const LineObserver& observer) {
  const auto started = SteadyTime::now();
  LaunchResult result;
  const auto finish = [&](LaunchEnd end, std::string message) {
    result.end = end;
    result.message = std::move(message);
    result.wall_s = std::chrono::duration<double>(SteadyTime::now() - started).count();
    return result;
  };
  if (m_stop_signal && m_stop_signal->load() != 0) {
    return finish(LaunchEnd::interrupted, "autolrs was asked to stop; not started");
  }
  if (command.argv.empty()) return finish(LaunchEnd::failed_to_start, "empty command");
  std::error_code ignored;
  if (!fs::is_directory(command.workdir, ignored)) {
    return finish(LaunchEnd::failed_to_start, "workdir " + command.workdir + " is not a directory");
  }
  const std::optional<std::string> program = resolve_program(command.argv[0], command.env, command.workdir);
  if (!program) {
    return finish(LaunchEnd::failed_to_start,
                  command.argv[0].find('/') == std::string::npos
                      ? command.argv[0] + ": not found in PATH (or not executable)"
                      : command.argv[0] + ": not an executable file");
  }

  std::string error;
  std::array<Stream, 2> streams{Stream{OutputStream::stdout_stream, command.stdout_log, {}, {}, {}},
                                Stream{OutputStream::stderr_stream, command.stderr_log, {}, {}, {}}};
  std::array<bp::pipe, 2> pipes{bp::pipe(-1, -1), bp::pipe(-1, -1)};
  for (std::size_t i = 0; i < streams.size(); ++i) {
    streams[i].log = open_log(streams[i].log_path, error);
    if (!streams[i].log || !make_pipe(pipes[i], error)) return finish(LaunchEnd::failed_to_start, error);
  }
  const pid_t pid = spawn(command, *program, pipes[0], pipes[1], error);
  if (pid < 0) return finish(LaunchEnd::failed_to_start, error);
  for (std::size_t i = 0; i < streams.size(); ++i) {  // the write ends went to the child and are closed
    streams[i].pipe.reset(pipes[i].native_source());
    pipes[i].assign_source(-1);
  }

  RunningLaunch launch(pid, std::move(streams), observer);
  const LaunchEnd end = launch.monitor(command, m_stop_signal);
  const bool all_gone = launch.end_group(command.kill_grace_s);
  launch.finish_lines();

  if (const std::optional<int> status = launch.status()) {
    if (WIFEXITED(*status)) result.exit_code = WEXITSTATUS(*status);
    if (WIFSIGNALED(*status)) result.signal = WTERMSIG(*status);
  }
  std::string message = end_message(end, command, launch.status());
  if (!all_gone) {
    message += (message.empty() ? "" : "; ") + std::string("processes of its group (") + std::to_string(pid) +
               ") were still present " + std::to_string(kill_wait.count()) + " s after SIGKILL";
  }
  return finish(end, std::move(message));
}

}  // namespace autolrs::process
