#include "ninja/ninja_writer.h"

namespace qb::ninja {

std::string escape_path(std::string_view path) {
  std::string out;
  for (char c : path) {
    if (c == '$' || c == ' ' || c == ':') out.push_back('$');
    out.push_back(c);
  }
  return out;
}

std::string escape_value(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '$') out.push_back('$');
    out.push_back(c);
  }
  return out;
}

static Status check_no_newline(std::string_view s, std::string_view what) {
  if (s.find('\n') != std::string_view::npos || s.find('\r') != std::string_view::npos)
    return invalid_argument(std::string(what) + " contains a newline, which Ninja cannot represent: '" + std::string(s) + "'");
  return Status::ok();
}

void NinjaWriter::comment(std::string_view text) {
  out_ += "# ";
  for (char c : text) {
    out_.push_back(c);
    if (c == '\n') out_ += "# ";
  }
  out_ += "\n";
}

void NinjaWriter::newline() { out_ += "\n"; }

Status NinjaWriter::variable(std::string_view name, std::string_view value, int indent) {
  QB_TRY(check_no_newline(value, "value of '" + std::string(name) + "'"));
  out_.append(static_cast<std::size_t>(indent) * 2, ' ');
  out_ += std::string(name) + " = " + escape_value(value) + "\n";
  return Status::ok();
}

void NinjaWriter::pool(std::string_view name, int depth) {
  out_ += "pool " + std::string(name) + "\n  depth = " + std::to_string(depth) + "\n";
}

void NinjaWriter::include(std::string_view path) { out_ += "include " + escape_path(path) + "\n"; }

Status NinjaWriter::build(const BuildEdge& e) {
  auto paths = [&](const std::vector<std::string>& ps, std::string& line) -> Status {
    for (const auto& p : ps) {
      QB_TRY(check_no_newline(p, "path"));
      line += " " + escape_path(p);
    }
    return Status::ok();
  };
  std::string line = "build";
  QB_TRY(paths(e.outputs, line));
  line += ": " + e.rule;
  QB_TRY(paths(e.inputs, line));
  if (!e.implicit.empty()) {
    line += " |";
    QB_TRY(paths(e.implicit, line));
  }
  if (!e.order_only.empty()) {
    line += " ||";
    QB_TRY(paths(e.order_only, line));
  }
  out_ += line + "\n";
  for (const auto& [k, v] : e.vars) QB_TRY(variable(k, v, 1));
  return Status::ok();
}

void NinjaWriter::default_targets(const std::vector<std::string>& targets) {
  if (targets.empty()) return;
  std::string line = "default";
  for (const auto& t : targets) line += " " + escape_path(t);
  out_ += line + "\n";
}

}  // namespace qb::ninja
