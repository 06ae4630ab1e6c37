// Headless Chromium for the report's browser tests: a page's DOM after its scripts ran (and
// after the virtual-time budget, so Vega's asynchronous rendering has finished), the messages
// it wrote to the console (uncaught errors included), and screenshots.
//
// Chromium is Debian's `chromium` (scripts/setup.sh installs it; $QB_CHROMIUM names another
// binary). Console messages come from --enable-logging=stderr, one "…:CONSOLE…] "<message>",
// source: …" line each.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "ci_required.h"
#include "run_command.h"

namespace qb::report::testing {

inline std::string chromium_binary() {
  if (const char* c = std::getenv("QB_CHROMIUM"); c && *c) return c;
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "");
  std::string d;
  while (std::getline(dirs, d, ':'))
    for (const char* name : {"chromium", "chromium-browser"})
      if (!d.empty() && ::access((std::filesystem::path(d) / name).c_str(), X_OK) == 0) return (std::filesystem::path(d) / name).string();
  return "";
}

#define QB_REQUIRE_CHROMIUM()                                                                                   \
  if (::qb::report::testing::chromium_binary().empty())                                                         \
  QB_SKIP_OR_FAIL_IN_CI("chromium is not installed (Debian: apt-get install chromium; scripts/setup.sh --test " \
                        "installs it), so the report cannot be rendered here")

struct Rendered {
  int code = -1;
  std::string dom;
  std::vector<std::string> console;  // every console message and uncaught error
  std::string log;                   // Chromium's whole stderr, for failure messages
};

inline std::string chromium_command(const std::filesystem::path& work) {
  return "timeout 180 '" + chromium_binary() +
         "' --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run --no-default-browser-check "
         "--disable-extensions --user-data-dir='" + (work / "profile").string() + "' --virtual-time-budget=20000 ";
}

inline Rendered render(const std::filesystem::path& html, const std::filesystem::path& work) {
  std::filesystem::create_directories(work);
  const auto dom = work / "dom.html", log = work / "chromium.log";
  Rendered r;
  // (In a subshell: run_command sends the command's stderr to its stdout after these.)
  r.code = qb::testing::run_command("(" + chromium_command(work) + "--enable-logging=stderr --v=0 --dump-dom 'file://" +
                                    std::filesystem::absolute(html).string() + "' > '" + dom.string() + "' 2> '" +
                                    log.string() + "')")
               .code;
  std::ifstream d(dom), l(log);
  r.dom.assign(std::istreambuf_iterator<char>(d), {});
  r.log.assign(std::istreambuf_iterator<char>(l), {});
  std::stringstream lines(r.log);
  std::string line;
  while (std::getline(lines, line))
    if (line.find(":CONSOLE") != std::string::npos) r.console.push_back(line);
  return r;
}

inline int screenshot(const std::filesystem::path& html, const std::filesystem::path& png, const std::filesystem::path& work,
                      int width = 1400, int height = 3200) {
  std::filesystem::create_directories(work);
  return qb::testing::run_command(chromium_command(work) + "--hide-scrollbars --window-size=" + std::to_string(width) +
                                  "," + std::to_string(height) + " --screenshot='" + png.string() + "' 'file://" +
                                  std::filesystem::absolute(html).string() + "' > /dev/null 2>&1")
      .code;
}

// How many <tag> elements the Vega marks of class `mark_class` (e.g. "mark-symbol role-mark
// points") hold, over every chart of the page: Vega's SVG renderer draws a mark as one <g> of
// that class whose children are its items.
inline int count_marks(const std::string& dom, const std::string& mark_class, const std::string& tag) {
  int n = 0;
  const std::string open = "class=\"" + mark_class + "\"";
  for (std::size_t at = dom.find(open); at != std::string::npos; at = dom.find(open, at + 1)) {
    const std::size_t end = dom.find("</g>", at);
    for (std::size_t t = dom.find("<" + tag, at); t != std::string::npos && t < end; t = dom.find("<" + tag, t + 1)) ++n;
  }
  return n;
}

inline int count(const std::string& s, const std::string& what) {
  int n = 0;
  for (std::size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + what.size())) ++n;
  return n;
}

}  // namespace qb::report::testing
