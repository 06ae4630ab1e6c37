#include "runner/verify.h"

namespace qb::runner {

Result<VerifyResult> verify_objects(Project& project, std::vector<std::string> keys,
                                    const std::function<void(const std::string&, int, int)>& on_object) {
  auto& store = project.store();
  if (keys.empty()) {
    for (const auto& k : store.list_keys())
      if (store.contains(k)) keys.push_back(k);  // a folder without a manifest is not an artifact
  }
  VerifyResult r;
  const int n = static_cast<int>(keys.size());
  for (int i = 0; i < n; ++i) {
    const auto& key = keys[static_cast<std::size_t>(i)];
    if (on_object) on_object(key, i, n);
    auto m = store.read_manifest(key);
    Status s = m.is_ok() ? store.verify(key, store::VerifyLevel::kChecksum) : m.status();
    ++r.checked;
    if (m.is_ok())
      for (const auto& f : m->files) r.bytes += f.value("size", std::uint64_t{0});
    if (s.is_ok()) continue;
    if (s.code() != Code::kCorrupt) return s;
    r.damaged.push_back({key, m.is_ok() ? m->kind : "?", m.is_ok() ? m->name : "(unreadable manifest)", s.message()});
    QB_TRY(project.quarantine(key, s.message()));
  }
  return r;
}

}  // namespace qb::runner
