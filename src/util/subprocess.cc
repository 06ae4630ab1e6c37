#include "util/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace qb {

namespace {
volatile sig_atomic_t g_child = 0;
volatile sig_atomic_t g_interrupted = 0;
void forward_term(int sig) {
  g_interrupted = 1;
  if (g_child > 0) ::kill(g_child, sig);
}
}  // namespace

Result<ProcessResult> run_process(const std::vector<std::string>& argv,
                                  const std::map<std::string, std::string>& env_overrides,
                                  const std::filesystem::path& cwd) {
  ProcessOptions opts;
  opts.env = env_overrides;
  opts.cwd = cwd;
  return run_process(argv, opts);
}

Result<ProcessResult> run_process(const std::vector<std::string>& argv, const ProcessOptions& opts) {
  const auto& env_overrides = opts.env;
  const auto& cwd = opts.cwd;
  if (argv.empty()) return invalid_argument("run_process: empty argv");
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  struct sigaction term {}, old_int {}, old_term {};
  term.sa_handler = forward_term;
  sigemptyset(&term.sa_mask);
  g_interrupted = 0;

  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) return errno_error("fork");
  if (pid == 0) {
    if (opts.die_with_parent) {
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (::getppid() != parent) ::_exit(128 + SIGTERM);  // the parent died before prctl
    }
    for (int fd : opts.inherit_fds) ::fcntl(fd, F_SETFD, 0);  // clears FD_CLOEXEC in the child only
    for (const auto& [k, v] : env_overrides) ::setenv(k.c_str(), v.c_str(), 1);
    if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) {
      std::fprintf(stderr, "qbuild: chdir '%s': %s\n", cwd.c_str(), std::strerror(errno));
      ::_exit(127);
    }
    ::execvp(args[0], args.data());
    std::fprintf(stderr, "qbuild: cannot run '%s': %s\n", args[0], std::strerror(errno));
    ::_exit(127);
  }
  g_child = pid;
  ::sigaction(SIGINT, &term, &old_int);
  ::sigaction(SIGTERM, &term, &old_term);
  int status = 0;
  pid_t w;
  do {
    w = ::waitpid(pid, &status, 0);
  } while (w < 0 && errno == EINTR);
  ::sigaction(SIGINT, &old_int, nullptr);
  ::sigaction(SIGTERM, &old_term, nullptr);
  g_child = 0;
  if (w < 0) return errno_error("waitpid");
  ProcessResult r;
  r.interrupted = g_interrupted != 0;
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) {
    r.signaled = true;
    r.signal = WTERMSIG(status);
  }
  return r;
}

Result<CapturedOutput> run_capture(const std::vector<std::string>& argv) {
  if (argv.empty()) return invalid_argument("run_capture: empty argv");
  if (argv[0].find('/') == std::string::npos && find_on_path(argv[0]).empty())
    return not_found("'" + argv[0] + "' is not on PATH");
  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return errno_error("pipe");
  if (::pipe2(err, O_CLOEXEC) != 0) {
    ::close(out[0]);
    ::close(out[1]);
    return errno_error("pipe");
  }
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) return errno_error("fork");
  if (pid == 0) {
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, 0);
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  ::close(out[1]);
  ::close(err[1]);
  CapturedOutput r;
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  std::string* sinks[2] = {&r.out, &r.err};
  int open_fds = 2;
  char buf[4096];
  while (open_fds > 0) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        sinks[i]->append(buf, static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  for (auto& f : fds)
    if (f.fd >= 0) ::close(f.fd);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::filesystem::path self_executable() {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::path() : p;
}

namespace {
std::vector<std::string> g_command_line;
}  // namespace

void save_command_line(int argc, char** argv) { g_command_line.assign(argv, argv + argc); }

Status exec_with_own_args(const std::filesystem::path& exe) {
  std::vector<std::string> args = g_command_line;
  if (args.empty()) return internal_error("exec '" + exe.string() + "': the command line was not saved");
  args[0] = exe.string();
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::fflush(stdout);
  std::fflush(stderr);
  ::execv(exe.c_str(), argv.data());
  return errno_error("exec '" + exe.string() + "'");
}

std::filesystem::path find_on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  if (!path) return {};
  std::string p = path;
  std::size_t start = 0;
  while (start <= p.size()) {
    std::size_t end = p.find(':', start);
    if (end == std::string::npos) end = p.size();
    std::filesystem::path cand = std::filesystem::path(p.substr(start, end - start)) / name;
    if (::access(cand.c_str(), X_OK) == 0) return cand;
    start = end + 1;
  }
  return {};
}

}  // namespace qb
