#include "config/loc_map.h"

namespace qb::config {

void LocMap::add(const std::string& path, const Node* key, const Node& value) {
  locs_[path] = {key ? key->loc : value.loc, value.loc};
}

void LocMap::add_tree(const std::string& path, const Node* key, const Node& value) {
  add(path, key, value);
  if (value.is_mapping()) {
    for (const auto& [k, v] : value.entries)
      if (k.is_scalar() && !locs_.count(spec::field(path, k.text))) add_tree(spec::field(path, k.text), &k, v);
  } else if (value.is_sequence()) {
    for (std::size_t i = 0; i < value.items.size(); ++i) add_tree(spec::item(path, i), nullptr, value.items[i]);
  }
}

void LocMap::alias(const std::string& path, const SourceLoc& loc) { locs_[path] = {loc, loc}; }

SourceLoc LocMap::find(const std::string& path, bool at_key) const {
  if (auto it = locs_.find(path); it != locs_.end()) return at_key ? it->second.key : it->second.value;
  // Longest recorded prefix ("a.b[2].c" → "a.b[2]" → "a.b" → "a"), at its key.
  std::string p = path;
  while (!p.empty()) {
    auto cut = p.find_last_of(".[");
    p = cut == std::string::npos ? "" : p.substr(0, cut);
    if (auto it = locs_.find(p); it != locs_.end() && !p.empty()) return it->second.key;
  }
  return root_;
}

int LocMap::report(const spec::Issues& issues, Diagnostics& diags) const {
  int errors = 0;
  for (const spec::Issue& i : issues.all()) {
    SourceLoc loc = find(i.path, i.at_key);
    if (i.error) {
      Diagnostic& d = diags.error(loc, i.message);
      if (!i.note.empty()) d.notes.push_back(Diagnostics::note(find(i.note_path, false), i.note));
      ++errors;
    } else {
      diags.warning(loc, i.message);
    }
  }
  return errors;
}

}  // namespace qb::config
