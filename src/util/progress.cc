#include "util/progress.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace qb {

namespace {
// Where the one updating line goes: stderr when it is a terminal; else, for a step that Ninja
// runs with its output captured, the controlling terminal when qbuild said it has one
// (QBUILD_TTY_PROGRESS=1, set by `qbuild` when its own output is a terminal); else nowhere.
int open_tty_line() {
  if (::isatty(2)) return ::dup(2);
  const char* env = std::getenv("QBUILD_TTY_PROGRESS");
  if (env && std::string(env) == "1") return ::open("/dev/tty", O_WRONLY | O_CLOEXEC | O_NOCTTY);
  return -1;
}
}  // namespace

Progress::Progress(std::string what, std::int64_t total, double interval_s)
    : what_(std::move(what)), total_(total), interval_s_(interval_s), tty_fd_(open_tty_line()) {
  start_ = last_ = std::chrono::steady_clock::now();
}

Progress::~Progress() {
  if (done_ > 0 && done_ < total_) report(true);
  if (tty_fd_ >= 0) ::close(tty_fd_);
}

void Progress::advance(std::int64_t n) {
  done_ += n;
  auto now = std::chrono::steady_clock::now();
  bool final = done_ >= total_;
  if (final || std::chrono::duration<double>(now - last_).count() >= interval_s_) {
    last_ = now;
    report(final);
  }
}

std::string Progress::line(bool final) const {
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  double rate = elapsed > 0 ? static_cast<double>(done_) / elapsed : 0.0;
  double eta = rate > 0 && !final ? static_cast<double>(total_ - done_) / rate : 0.0;
  char buf[256];
  std::snprintf(buf, sizeof buf, "%s: %lld/%lld (%.1f/s, elapsed %.1fs, eta %.1fs)", what_.c_str(),
                static_cast<long long>(done_), static_cast<long long>(total_), rate, elapsed, eta);
  return buf;
}

void Progress::report(bool final) {
  std::string l = line(final);
  spdlog::info("{}", l);
  if (tty_fd_ >= 0) {
    std::string out = "\r\033[K" + l + (final ? "\n" : "");
    [[maybe_unused]] ssize_t w = ::write(tty_fd_, out.data(), out.size());
  }
}

}  // namespace qb
