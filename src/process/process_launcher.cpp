#include "process/process_launcher.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <linux/close_range.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
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
#include <optional>
#include <stdexcept>
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

#include "process/capped_log.hpp"
#include "process/leftover_processes.hpp"
#include "process/line_splitter.hpp"
#include "trainer_output/serve_protocol.hpp"

extern char** environ;

namespace autolrs::process {
namespace {

namespace bp = boost::process;
namespace fs = std::filesystem;
using orchestrator::LaunchCommand;
using orchestrator::LaunchCompletion;
using orchestrator::LaunchEnd;
using orchestrator::LaunchId;
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
/// How often an ending launch's group is looked at: its members' exits are not signalled to us.
constexpr milliseconds group_check_interval{10};
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

/// Prepares the forked child for exec: own process group, death signal, cwd, argv[0] as given, the
/// merged environment, and stdin from `stdin_fd` when it is set (serve mode). on_exec_setup runs in
/// the child of a multithreaded process, between fork and exec, so it makes only async-signal-safe calls.
struct ChildSetup : bp::extend::handler {
  const char* argv0;
  const char* workdir;
  char** envp;
  pid_t parent;
  int stdin_fd;  ///< -1: stdin stays /dev/null

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
    if (stdin_fd >= 0 && ::dup2(stdin_fd, STDIN_FILENO) < 0) fail(exec, "dup2 of the trainer's stdin failed");
    keep_only_standard_descriptors();
    // Boost.Process passes the resolved path as argv[0]; pass it as the user wrote it, as execvp does.
    const_cast<char**>(exec.cmd_line)[0] = const_cast<char*>(argv0);
  }

  /// Marks every descriptor above stderr close-on-exec, so the trainer starts with 0-2 only, whatever
  /// autolrs or a library it uses opened without O_CLOEXEC (an std::ofstream cannot ask for it).
  /// Marked rather than closed: Boost.Process reports a failed exec through one of them. Kernels
  /// before 5.11 lack CLOSE_RANGE_CLOEXEC: there, each descriptor up to the limit is marked.
  static void keep_only_standard_descriptors() {
    if (::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return;
    struct rlimit limit {};
    const rlim_t last = ::getrlimit(RLIMIT_NOFILE, &limit) == 0 ? std::min<rlim_t>(limit.rlim_cur, 1 << 20) : 1024;
    for (int fd = 3; static_cast<rlim_t>(fd) < last; ++fd) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
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

/// True for an errno that says this machine ran short of something (memory, processes, descriptors,
/// disk), not that the program is wrong.
bool is_resource_shortage(int error_number) {
  switch (error_number) {
    case ENOMEM:
    case EAGAIN:
    case EMFILE:
    case ENFILE:
    case ENOSPC:
    case EDQUOT:
    case EIO: return true;
    default: return false;
  }
}

/// Starts `program` as described by `command` with stdout/stderr into the given pipes and stdin from
/// `stdin_fd` (-1: /dev/null); returns its pid, or -1 with `error` set (and `error_number`, the errno
/// of the fork or the exec).
pid_t spawn(const LaunchCommand& command, const std::string& program, bp::pipe& stdout_pipe,
            bp::pipe& stderr_pipe, int stdin_fd, std::string& error, int& error_number) {
  std::vector<std::string> env_entries = merged_environment(command.env);
  std::vector<char*> envp;
  for (std::string& entry : env_entries) envp.push_back(entry.data());
  envp.push_back(nullptr);
  const ChildSetup setup{{}, command.argv[0].c_str(), command.workdir.c_str(), envp.data(), ::getpid(), stdin_fd};
  const std::vector<std::string> args(command.argv.begin() + 1, command.argv.end());

  // Boost.Process creates its exec-error pipe without O_CLOEXEC and sets the flag a moment later;
  // that is safe here because spawns come from one thread. Whatever else autolrs holds open is
  // marked close-on-exec in the child (ChildSetup::keep_only_standard_descriptors).
  std::error_code spawn_error;
  bp::child child(bp::exe = program, bp::args = args, bp::std_in < bp::null, bp::std_out > stdout_pipe,
                  bp::std_err > stderr_pipe, setup, spawn_error);
  if (spawn_error) {
    error_number = spawn_error.value();
    error = "cannot start " + program + ": " + spawn_error.message();
    return -1;
  }
  child.detach();  // we wait for it and its group ourselves
  return child.id();
}

/// One output stream of a launch: the read end of its pipe, its log file (what CappedLog keeps of
/// the stream goes there) and its line splitter.
struct Stream {
  OutputStream kind;
  std::string log_path;
  UniqueFd log;
  std::optional<CappedLog> kept;  ///< set once `log` is open
  UniqueFd pipe;                  ///< non-blocking; reset at end of file
  LineSplitter lines;
};

/// Writes all of `bytes` to the log file `fd`; throws std::system_error naming `path` on failure.
void write_all(int fd, const std::string& path, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t written = ::write(fd, bytes.data(), bytes.size());
    if (written < 0 && errno == EINTR) continue;
    if (written < 0) throw std::system_error(errno, std::generic_category(), "cannot write " + path);
    bytes.remove_prefix(static_cast<std::size_t>(written));
  }
}

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

/// Kills the processes a launch left behind outside its group (a `setsid` daemon, a worker that
/// changed its group): those whose environment holds the launch's run-dir and launch-id entries.
void end_marked_leftovers(const LaunchCommand& command) {
  const auto run_dir = command.env.find(orchestrator::run_dir_env_var);
  const auto launch = command.env.find(orchestrator::launch_env_var);
  if (run_dir == command.env.end() || launch == command.env.end()) return;
  kill_processes_with_env({run_dir->first + "=" + run_dir->second, launch->first + "=" + launch->second});
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
    case LaunchEnd::failed_to_start:
    case LaunchEnd::launcher_error:
    case LaunchEnd::server_failed: break;
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

/// A started trainer and its process group (pgid == pid): its output, its exit, and its ending.
struct ProcessLauncher::Launch {
  enum class Phase {
    running,      ///< followed until it exits or a reason to end it arises
    terminating,  ///< SIGTERM sent to the group; SIGKILL at `deadline`
    killing       ///< SIGKILL sent; given up on at `deadline`
  };

  LaunchId id = 0;
  LaunchCommand command;
  LineObserver observer;
  pid_t pid = -1;
  UniqueFd pidfd;  ///< readable once the trainer has exited; none where pidfd_open is missing
  std::array<Stream, 2> streams;
  SteadyTime::time_point started, last_output;
  Phase phase = Phase::running;
  SteadyTime::time_point deadline;
  std::optional<LaunchEnd> end;  ///< why it ends, once known
  std::string error;             ///< for launcher_error
  bool observer_stopped = false;
  bool trainer_reaped = false;
  std::optional<int> status;  ///< the trainer's wait status, when it was reaped here
  milliseconds exit_check_interval{1};  ///< without a pidfd: next wait for the exit once the output closed
  // Serve mode (command.serve): the process is the slot's trainer, kept for the next launch when it
  // completed this one's command.
  UniqueFd server_stdin;           ///< our end of a socket, so that writing to a closed one fails without SIGPIPE
  bool command_completed = false;  ///< it printed the completion for command.serve->id
  std::string server_problem;      ///< why it broke off its command, for LaunchEnd::server_failed
  bool keep_server = false;        ///< over, and its process waits for the next command

  LineSplitter::LineSink line_sink(OutputStream kind) {
    return [this, kind](std::string_view line) {
      if (command_completed) return;  // what a server prints after its completion belongs to no launch
      if (command.serve && kind == OutputStream::stdout_stream) {
        if (const auto reply = trainer_output::parse_serve_reply(line)) return accept_reply(*reply);
      }
      if (observer && !observer_stopped && !observer(kind, line)) observer_stopped = true;
    };
  }

  void accept_reply(const trainer_output::ServeReply& reply) {
    if (!server_problem.empty()) return;
    if (!reply.problem.empty()) {
      server_problem = "printed a malformed completion: " + reply.problem;
    } else if (reply.id != command.serve->id) {
      server_problem = "printed the completion of command " + reply.id + " while running " + command.serve->id;
    } else {
      command_completed = true;
    }
  }

  /// Writes the launch's command to the server's stdin; a server that cannot take it breaks off.
  void send_command() {
    const std::string& line = command.serve->line;
    const ssize_t sent = ::send(server_stdin.get(), line.data(), line.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (sent == static_cast<ssize_t>(line.size())) return;
    server_problem = "could not take its command on stdin (" + (sent < 0 ? errno_text() : "its input is full") + ")";
  }

  bool server_stdin_closed() const {
    pollfd end{server_stdin.get(), POLLRDHUP, 0};
    return ::poll(&end, 1, 0) > 0 && (end.revents & (POLLHUP | POLLRDHUP | POLLERR | POLLNVAL)) != 0;
  }

  /// A server that completed its command can take the next one: it runs, reads its stdin, and
  /// its output is open.
  bool server_can_continue() {
    reap();
    return !trainer_reaped && streams[0].pipe && streams[1].pipe && !server_stdin_closed();
  }

  /// Serve mode, before the checks of advance(): a server that exited or closed its stdin has its
  /// last output read first (a completion it printed before still counts), then breaks off.
  void follow_server() {
    if (command_completed || !server_problem.empty()) return;
    const bool stdin_closed = server_stdin_closed();
    if (!trainer_reaped && !stdin_closed) return;
    drain(max_drain_bytes);
    if (command_completed || !server_problem.empty()) return;
    if (!trainer_reaped) {
      server_problem = "closed its stdin before completing its command";
    } else if (status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0) {
      server_problem = "exited with status 0 before completing its command";
    }
  }

  /// Reads at most `max_bytes` of what is available on `stream` into its log and, when
  /// `deliver_lines`, to the observer. True if any byte was read.
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
      stream.kept->append(chunk);
      if (deliver_lines) stream.lines.feed(chunk, line_sink(stream.kind));
      total += chunk.size();
    }
    return total > 0;
  }

  /// Reads every open stream without waiting, lines to the observer while the launch runs.
  void drain(std::size_t max_bytes) {
    for (Stream& stream : streams) {
      if (stream.pipe) read_available(stream, max_bytes, phase == Phase::running);
    }
  }

  /// Reaps the trainer and, once it is gone, members of its group adopted by us as subreaper.
  void reap() {
    int wait_status = 0;
    if (!trainer_reaped) {
      const pid_t reaped = ::waitpid(pid, &wait_status, WNOHANG);
      if (reaped == pid) status = wait_status;
      // ECHILD: someone else reaped it (SIGCHLD ignored in this process); its status is lost.
      trainer_reaped = reaped == pid || (reaped < 0 && errno == ECHILD);
      if (!trainer_reaped) return;
      pidfd.reset();
    }
    while (::waitpid(-pid, &wait_status, WNOHANG) > 0) {
    }
  }

  bool gone() {
    reap();
    return trainer_reaped && ::kill(-pid, 0) != 0 && errno == ESRCH;
  }

  /// Signals the group, and the trainer itself in case it moved to another group.
  void signal_group(int signal) {
    ::kill(-pid, signal);
    if (!trainer_reaped) ::kill(pid, signal);
  }

  /// Starts ending the launch for `why`: done at once when its group is gone, else SIGTERM (and
  /// SIGCONT) to the group and up to kill_grace_s for it to go.
  void begin_end(LaunchEnd why, SteadyTime::time_point now) {
    end = why;
    if (gone()) return;
    signal_group(SIGTERM);
    signal_group(SIGCONT);
    phase = Phase::terminating;
    deadline = now + to_duration(std::max(command.kill_grace_s, 0.0));
  }

  /// autolrs failed around the launch: it ends at once, SIGKILLed, and is not read any more.
  void abort(const std::string& what, SteadyTime::time_point now) {
    end = LaunchEnd::launcher_error;
    error = what;
    observer_stopped = true;
    signal_group(SIGKILL);
    for (Stream& stream : streams) stream.pipe.reset();
    phase = Phase::killing;
    deadline = now + kill_wait;
  }
};

namespace {

/// Waits up to kill_wait for a SIGKILLed launch's group to be gone.
template <class Launch>
void await_gone(Launch& launch) {
  const auto deadline = SteadyTime::now() + kill_wait;
  while (!launch.gone() && SteadyTime::now() < deadline) ::poll(nullptr, 0, 10);
}

}  // namespace

ProcessLauncher::~ProcessLauncher() {
  for (const std::unique_ptr<Launch>& launch : m_launches) launch->signal_group(SIGKILL);
  for (const auto& [slot, server] : m_parked_servers) server->signal_group(SIGKILL);
  for (const std::unique_ptr<Launch>& launch : m_launches) await_gone(*launch);
  for (const auto& [slot, server] : m_parked_servers) {
    await_gone(*server);
    end_marked_leftovers(server->command);
  }
}

std::unique_ptr<ProcessLauncher::Launch> ProcessLauncher::take_parked_server(const LaunchCommand& command) {
  const auto parked = m_parked_servers.find(command.slot);
  if (parked == m_parked_servers.end()) return nullptr;
  std::unique_ptr<Launch> server = std::move(parked->second);
  m_parked_servers.erase(parked);
  const LaunchCommand& started_as = server->command;
  if (server->server_can_continue() && started_as.argv == command.argv && started_as.env == command.env &&
      started_as.workdir == command.workdir) {
    return server;
  }
  // It exited or closed its stdin between commands, or the slot's trainer changed: a fresh one.
  server->signal_group(SIGKILL);
  await_gone(*server);
  end_marked_leftovers(server->command);
  return nullptr;
}

bool ProcessLauncher::stop_requested() const { return m_interrupted || (m_stop_signal && m_stop_signal->load() != 0); }

void ProcessLauncher::interrupt() { m_interrupted = true; }

std::size_t ProcessLauncher::running() const { return m_launches.size() + m_completed.size(); }

LaunchId ProcessLauncher::start(const LaunchCommand& command, LineObserver observer) {
  const LaunchId id = m_next_id++;
  const auto started = SteadyTime::now();
  const auto not_started = [&](LaunchEnd end, std::string message) {
    LaunchResult result;
    result.end = end;
    result.message = std::move(message);
    result.wall_s = std::chrono::duration<double>(SteadyTime::now() - started).count();
    m_completed.push_back({id, std::move(result)});
    return id;
  };
  if (stop_requested()) return not_started(LaunchEnd::interrupted, "autolrs was asked to stop; not started");
  if (command.argv.empty()) return not_started(LaunchEnd::failed_to_start, "empty command");
  std::error_code ignored;
  if (!fs::is_directory(command.workdir, ignored)) {
    return not_started(LaunchEnd::failed_to_start, "workdir " + command.workdir + " is not a directory");
  }
  const std::optional<std::string> program = resolve_program(command.argv[0], command.env, command.workdir);
  if (!program) {
    return not_started(LaunchEnd::failed_to_start, command.argv[0].find('/') == std::string::npos
                                                       ? command.argv[0] + ": not found in PATH (or not executable)"
                                                       : command.argv[0] + ": not an executable file");
  }

  std::string error;
  std::array<Stream, 2> streams{Stream{OutputStream::stdout_stream, command.stdout_log, {}, {}, {}, {}},
                                Stream{OutputStream::stderr_stream, command.stderr_log, {}, {}, {}, {}}};
  // The logs, the pipes and the fork are autolrs's own resources: failing them (a full disk, too many
  // open files, no memory) is an error of ours, not the trainer's outcome.
  for (Stream& stream : streams) {
    stream.log = open_log(stream.log_path, error);
    if (!stream.log) return not_started(LaunchEnd::launcher_error, error);
    stream.kept.emplace(command.log_limit_bytes, [fd = stream.log.get(), path = stream.log_path](std::string_view bytes) {
      write_all(fd, path, bytes);
    });
  }
  auto launch = std::make_unique<Launch>();
  if (std::unique_ptr<Launch> server = command.serve ? take_parked_server(command) : nullptr) {
    launch->pid = server->pid;
    launch->pidfd = std::move(server->pidfd);
    launch->server_stdin = std::move(server->server_stdin);
    for (std::size_t i = 0; i < streams.size(); ++i) {
      streams[i].pipe = std::move(server->streams[i].pipe);
      streams[i].lines = std::move(server->streams[i].lines);
    }
  } else {
    std::array<bp::pipe, 2> pipes{bp::pipe(-1, -1), bp::pipe(-1, -1)};
    for (bp::pipe& pipe : pipes) {
      if (!make_pipe(pipe, error)) return not_started(LaunchEnd::launcher_error, error);
    }
    UniqueFd trainer_stdin;
    if (command.serve) {
      int ends[2];
      if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends) != 0) {
        return not_started(LaunchEnd::launcher_error, "cannot create a socket pair: " + errno_text());
      }
      launch->server_stdin.reset(ends[0]);
      trainer_stdin.reset(ends[1]);
    }
    int spawn_errno = 0;
    const pid_t pid = spawn(command, *program, pipes[0], pipes[1], trainer_stdin.get(), error, spawn_errno);
    if (pid < 0) {
      return not_started(is_resource_shortage(spawn_errno) ? LaunchEnd::launcher_error : LaunchEnd::failed_to_start, error);
    }
    for (std::size_t i = 0; i < streams.size(); ++i) {  // the write ends went to the child and are closed
      streams[i].pipe.reset(pipes[i].native_source());
      pipes[i].assign_source(-1);
    }
    launch->pid = pid;
    launch->pidfd.reset(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));  // -1 on kernels before 5.3
  }
  launch->id = id;
  launch->command = command;
  launch->observer = std::move(observer);
  launch->streams = std::move(streams);
  launch->started = launch->last_output = started;
  if (command.serve) launch->send_command();
  m_launches.push_back(std::move(launch));
  return id;
}

bool ProcessLauncher::advance(Launch& launch) {
  const auto now = SteadyTime::now();
  switch (launch.phase) {
    case Launch::Phase::running: {
      launch.reap();
      const LaunchCommand& command = launch.command;
      if (command.serve) launch.follow_server();
      if (launch.observer_stopped) {
        launch.begin_end(LaunchEnd::stopped_by_observer, now);
      } else if (launch.command_completed) {
        if (!stop_requested() && launch.server_can_continue()) {
          launch.end = LaunchEnd::exited;
          launch.keep_server = true;
          break;
        }
        launch.begin_end(LaunchEnd::exited, now);  // the launch succeeded; its server is not kept
      } else if (!launch.server_problem.empty()) {
        launch.begin_end(LaunchEnd::server_failed, now);
      } else if (launch.trainer_reaped) {
        launch.drain(max_drain_bytes);
        launch.begin_end(launch.status && WIFSIGNALED(*launch.status) ? LaunchEnd::signaled : LaunchEnd::exited, now);
      } else if (stop_requested()) {
        launch.begin_end(LaunchEnd::interrupted, now);
      } else if (command.timeout_s > 0 && now - launch.started >= to_duration(command.timeout_s)) {
        launch.begin_end(LaunchEnd::timed_out, now);
      } else if (command.idle_timeout_s > 0 && now - launch.last_output >= to_duration(command.idle_timeout_s)) {
        launch.begin_end(LaunchEnd::idle_timed_out, now);
      }
      if (!launch.end) return false;
      if (launch.phase == Launch::Phase::running) break;  // its group was gone already
      return false;
    }
    case Launch::Phase::terminating:
      if (launch.gone()) break;
      if (now < launch.deadline) return false;
      launch.signal_group(SIGKILL);
      launch.phase = Launch::Phase::killing;
      launch.deadline = now + kill_wait;
      return false;
    case Launch::Phase::killing:
      if (launch.gone()) break;
      if (now < launch.deadline) return false;
      complete(launch, false);
      return true;
  }
  complete(launch, true);
  return true;
}

void ProcessLauncher::complete(Launch& launch, bool all_gone) {
  // Pending partial last lines (the observer is not called again once it asked to stop), and the
  // kept end of each log.
  try {
    for (Stream& stream : launch.streams) stream.lines.finish(launch.line_sink(stream.kind));
    if (launch.end != LaunchEnd::launcher_error) {
      for (Stream& stream : launch.streams) stream.kept->finish();
    }
  } catch (const std::exception& failure) {
    launch.end = LaunchEnd::launcher_error;
    launch.error = failure.what();
  }
  LaunchResult result;
  result.end = *launch.end;
  if (launch.command_completed && result.end == LaunchEnd::exited) {
    result.exit_code = 0;  // a served command succeeded, whatever its server did afterwards
  } else if (launch.status) {
    if (WIFEXITED(*launch.status)) result.exit_code = WEXITSTATUS(*launch.status);
    if (WIFSIGNALED(*launch.status)) result.signal = WTERMSIG(*launch.status);
  }
  if (result.end == LaunchEnd::launcher_error) {
    result.message = launch.error;
  } else if (result.end == LaunchEnd::server_failed) {
    result.message = launch.server_problem;
  } else if (!launch.command_completed || result.end != LaunchEnd::exited) {
    result.message = end_message(result.end, launch.command, launch.status);
  }
  if (!all_gone) {
    result.survivors = "processes of its group (" + std::to_string(launch.pid) + ") were still present " +
                       std::to_string(kill_wait.count()) + " s after SIGKILL";
    result.message += (result.message.empty() ? "" : "; ") + result.survivors;
  }
  if (!launch.keep_server) end_marked_leftovers(launch.command);
  result.wall_s = std::chrono::duration<double>(SteadyTime::now() - launch.started).count();
  m_completed.push_back({launch.id, std::move(result)});
}

void ProcessLauncher::park_server(std::unique_ptr<Launch> server) {
  // The launch is over: its observer and logs go; its process, pipes and stdin wait for the next command.
  server->observer = nullptr;
  for (Stream& stream : server->streams) {
    stream.kept.reset();
    stream.log.reset();
  }
  const int slot = server->command.slot;
  m_parked_servers[slot] = std::move(server);
}

void ProcessLauncher::poll_once() {
  std::vector<pollfd> fds;
  struct Source {
    Launch* launch;
    Stream* stream;  ///< null for the launch's pidfd
  };
  std::vector<Source> sources;
  const auto now = SteadyTime::now();
  auto wait = check_interval;  // the stop signal is checked at least this often
  const auto until = [&](SteadyTime::time_point deadline) {
    const auto left = std::chrono::ceil<milliseconds>(deadline - now);
    wait = std::clamp(left, milliseconds{0}, wait);
  };
  for (const std::unique_ptr<Launch>& launch : m_launches) {
    for (Stream& stream : launch->streams) {
      if (!stream.pipe) continue;
      fds.push_back({stream.pipe.get(), POLLIN, 0});
      sources.push_back({launch.get(), &stream});
    }
    if (launch->pidfd) {
      fds.push_back({launch->pidfd.get(), POLLIN, 0});
      sources.push_back({launch.get(), nullptr});
    }
    if (launch->phase != Launch::Phase::running) {
      wait = std::min(wait, group_check_interval);  // a group's end is not signalled: look again soon
      until(launch->deadline);
      continue;
    }
    const LaunchCommand& command = launch->command;
    if (command.timeout_s > 0) until(launch->started + to_duration(command.timeout_s));
    if (command.idle_timeout_s > 0) until(launch->last_output + to_duration(command.idle_timeout_s));
    if (!launch->pidfd && !launch->streams[0].pipe && !launch->streams[1].pipe) {
      // No pidfd and the output closed: only the exit is awaited, and it normally follows at once.
      // Check after 1 ms, doubling up to check_interval, rather than sleeping a whole interval.
      wait = std::min(wait, launch->exit_check_interval);
      launch->exit_check_interval = std::min(launch->exit_check_interval * 2, check_interval);
    }
  }
  if (::poll(fds.data(), fds.size(), static_cast<int>(wait.count())) <= 0) return;
  for (std::size_t i = 0; i < fds.size(); ++i) {
    if (fds[i].revents == 0 || !sources[i].stream) continue;  // a pidfd: the next advance() reaps
    Launch& launch = *sources[i].launch;
    if (!sources[i].stream->pipe) continue;  // closed by an abort while handling an earlier source
    try {
      const bool running = launch.phase == Launch::Phase::running;
      if (launch.read_available(*sources[i].stream, max_read_per_turn, running) && running) launch.last_output = SteadyTime::now();
    } catch (const std::exception& failure) {
      launch.abort(failure.what(), SteadyTime::now());
    }
  }
}

LaunchCompletion ProcessLauncher::wait() {
  for (;;) {
    if (!m_completed.empty()) {
      LaunchCompletion completion = std::move(m_completed.front());
      m_completed.pop_front();
      return completion;
    }
    if (m_launches.empty()) throw std::logic_error("ProcessLauncher::wait: no launch is running");
    for (auto it = m_launches.begin(); it != m_launches.end();) {
      bool over = false;
      try {
        over = advance(**it);
      } catch (const std::exception& failure) {  // the observer threw, or a log write failed, while draining
        (*it)->abort(failure.what(), SteadyTime::now());
      }
      if (over && (*it)->keep_server) park_server(std::move(*it));
      it = over ? m_launches.erase(it) : it + 1;
    }
    if (m_completed.empty()) poll_once();
  }
}

}  // namespace autolrs::process
