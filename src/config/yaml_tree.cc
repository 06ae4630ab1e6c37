// yaml-cpp → Node conversion with byte-exact locations (see yaml_tree.h).
//
// yaml-cpp's Mark has a byte offset (`pos`) that is reliable, while its column counts differ
// for non-ASCII text; locations are therefore recomputed from `pos` and the source text, falling
// back to line/column when `pos` is unusable.
#include "config/yaml_tree.h"

#include <fmt/format.h>

#include <algorithm>
#include <exception>

#include <yaml-cpp/yaml.h>

#include "util/strings.h"

namespace qb::config {
namespace {

// Aliases share nodes in yaml-cpp, so a small file can expand into a huge tree ("billion
// laughs"); no real config comes anywhere near this.
constexpr int kMaxNodes = 100000;
// An alias may refer to the node that contains it (`&a [*a]`): yaml-cpp then hands out a cyclic
// graph, which the node budget alone would only stop after overflowing the stack. No config
// nests anywhere near this deep.
constexpr int kMaxDepth = 64;

class Converter {
 public:
  Converter(const std::string& file, const std::string& text) : file_(file), text_(text) {
    line_starts_.push_back(0);
    for (std::size_t i = 0; i < text.size(); ++i)
      if (text[i] == '\n') line_starts_.push_back(i + 1);
  }

  SourceLoc loc_of(const YAML::Mark& mark, int length) const {
    SourceLoc loc{file_, 0, 0, length};
    if (mark.pos >= 0 && static_cast<std::size_t>(mark.pos) <= text_.size()) {
      auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(),
                                 static_cast<std::size_t>(mark.pos));
      int line = static_cast<int>(it - line_starts_.begin());
      if (line == mark.line + 1) {
        loc.line = line;
        loc.col = static_cast<int>(mark.pos - line_starts_[line - 1]) + 1;
        return loc;
      }
    }
    loc.line = mark.line >= 0 ? mark.line + 1 : 1;
    loc.col = mark.column >= 0 ? mark.column + 1 : 1;
    return loc;
  }

  // Bytes the scalar at `pos` occupies on its first line: to the closing quote for quoted
  // scalars, the value itself for single-line plain ones.
  int scalar_length(int pos, const std::string& value) const {
    if (pos < 0 || static_cast<std::size_t>(pos) >= text_.size()) return 1;
    std::size_t eol = text_.find('\n', pos);
    if (eol == std::string::npos) eol = text_.size();
    std::string_view rest(text_.data() + pos, eol - pos);
    if (!rest.empty() && rest.back() == '\r') rest.remove_suffix(1);
    if (rest.empty()) return 1;
    char q = rest[0];
    if (q == '"' || q == '\'') {
      for (std::size_t i = 1; i < rest.size(); ++i) {
        if (q == '"' && rest[i] == '\\') { ++i; continue; }
        if (rest[i] == q) {
          if (q == '\'' && i + 1 < rest.size() && rest[i + 1] == '\'') { ++i; continue; }
          return static_cast<int>(i + 1);
        }
      }
      return static_cast<int>(rest.size());
    }
    if (q == '|' || q == '>') return 1;
    if (rest.substr(0, value.size()) == value && !value.empty())
      return static_cast<int>(value.size());
    return std::max(1, static_cast<int>(rest.find_last_not_of(" \t") + 1));
  }

  bool written_null_at(int pos) const {
    if (pos < 0 || static_cast<std::size_t>(pos) >= text_.size()) return false;
    std::string_view rest(text_.data() + pos, text_.size() - pos);
    for (std::string_view tok : {"~", "null", "Null", "NULL"})
      if (rest.substr(0, tok.size()) == tok) return true;
    return false;
  }

  // The first limit exceeded, if any (convert() then returns false).
  std::string exceeded() const { return exceeded_; }

  bool convert(const YAML::Node& y, Node& out, const SourceLoc* key_loc, int depth = 0) {
    if (++nodes_ > kMaxNodes) {
      exceeded_ = fmt::format("YAML document too large (more than {} nodes once aliases are expanded)",
                              kMaxNodes);
      return false;
    }
    if (depth > kMaxDepth) {
      exceeded_ = fmt::format("YAML nested more than {} levels deep (an alias inside the node it names?)",
                              kMaxDepth);
      return false;
    }
    const YAML::Mark mark = y.Mark();
    switch (y.Type()) {
      case YAML::NodeType::Scalar:
        out.kind = Node::Kind::kScalar;
        out.text = y.Scalar();
        out.plain = y.Tag() == "?";
        out.loc = loc_of(mark, scalar_length(mark.pos, out.text));
        return true;
      case YAML::NodeType::Sequence:
        out.kind = Node::Kind::kSequence;
        out.loc = loc_of(mark, 1);
        for (const YAML::Node& item : y) {
          out.items.emplace_back();
          if (!convert(item, out.items.back(), nullptr, depth + 1)) return false;
        }
        return true;
      case YAML::NodeType::Map:
        out.kind = Node::Kind::kMapping;
        out.loc = loc_of(mark, 1);
        for (auto it = y.begin(); it != y.end(); ++it) {
          out.entries.emplace_back();
          auto& [k, v] = out.entries.back();
          if (!convert(it->first, k, nullptr, depth + 1)) return false;
          if (!convert(it->second, v, &k.loc, depth + 1)) return false;
        }
        return true;
      case YAML::NodeType::Null:
      case YAML::NodeType::Undefined:
        out.kind = Node::Kind::kNull;
        if (written_null_at(mark.pos)) {
          out.loc = loc_of(mark, text_[mark.pos] == '~' ? 1 : 4);
        } else {
          out.loc = key_loc ? *key_loc : loc_of(mark, 1);  // `key:` with nothing after it
        }
        return true;
    }
    return true;
  }

 private:
  const std::string& file_;
  const std::string& text_;
  std::vector<std::size_t> line_starts_;
  int nodes_ = 0;
  std::string exceeded_;
};

}  // namespace

std::optional<Node> parse_yaml(const std::string& file, const std::string& text,
                               Diagnostics& diags) {
  // Config files are UTF-8: everything they name becomes file names, JSON and CSV. (Escapes
  // cannot add invalid text: yaml-cpp encodes \x and \u escapes as UTF-8 and rejects lone
  // surrogates.)
  if (auto bad = first_invalid_utf8(text)) {
    std::string shown = text;
    shown.resize(*bad);
    const int line = 1 + static_cast<int>(std::count(shown.begin(), shown.end(), '\n'));
    const auto nl = shown.rfind('\n');
    const int col = 1 + static_cast<int>(*bad - (nl == std::string::npos ? 0 : nl + 1));
    diags.error(SourceLoc{file, line, col, 1},
                fmt::format("invalid UTF-8 (byte 0x{:02X}): config files must be UTF-8",
                            static_cast<unsigned char>(text[*bad])));
    return std::nullopt;
  }
  diags.add_source(file, text);
  Converter conv(file, text);
  try {
    std::vector<YAML::Node> docs = YAML::LoadAll(text);
    if (docs.size() > 1) {
      diags.error(conv.loc_of(docs[1].Mark(), 1),
                  "a config file holds one YAML document; found a second one");
      return std::nullopt;
    }
    Node root;
    if (docs.empty()) return root;
    if (!conv.convert(docs[0], root, nullptr)) {
      diags.error(SourceLoc{file, 0, 0, 0}, conv.exceeded());
      return std::nullopt;
    }
    return root;
  } catch (const YAML::Exception& e) {
    diags.error(conv.loc_of(e.mark, 1), "malformed YAML: " + e.msg);
  } catch (const std::exception& e) {
    diags.error(SourceLoc{file, 0, 0, 0}, std::string("malformed YAML: ") + e.what());
  }
  return std::nullopt;
}

}  // namespace qb::config
