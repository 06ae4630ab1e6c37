#include "runner/output_memo.h"

#include "util/memo_file.h"

namespace qb::runner {

namespace {
constexpr const char* kMagic = "qbuild-outputs-memo";
constexpr std::uint32_t kVersion = 1;
}  // namespace

OutputMemo OutputMemo::load(const store::Layout& layout) {
  OutputMemo m;
  auto r = fs::read_memo(layout.outputs_memo(), kMagic, kVersion);
  if (!r) return m;
  std::uint64_t n = 0;
  if (!r->u64(n)) return m;
  for (std::uint64_t i = 0; i < n; ++i) {
    std::string name;
    Unit u;
    std::uint64_t files = 0;
    if (!r->str(name) || !r->str(u.fingerprint) || !r->u64(files) || files > (1u << 20)) return OutputMemo();
    u.files.resize(files);
    for (auto& f : u.files) {
      std::uint64_t exists = 0;
      if (!r->str(f.path) || !r->u64(exists) || !r->stat(f.stat)) return OutputMemo();
      f.exists = exists != 0;
    }
    m.units_.emplace(std::move(name), std::move(u));
  }
  if (!r->at_end()) return OutputMemo();
  return m;
}

bool OutputMemo::unchanged(const Unit& u) {
  for (const auto& f : u.files) {
    auto now = fs::stat_of(f.path);
    if (now.has_value() != f.exists || (now && !(*now == f.stat))) return false;
  }
  return true;
}

bool OutputMemo::fresh(const std::string& unit, const Digest& fingerprint) {
  seen_.insert(unit);
  auto it = units_.find(unit);
  if (it == units_.end() || it->second.fingerprint != fingerprint.hex() || !unchanged(it->second)) return false;
  ++hits_;
  return true;
}

void OutputMemo::record(const std::string& unit, const Digest& fingerprint,
                        const std::vector<std::filesystem::path>& files) {
  seen_.insert(unit);
  Unit u;
  u.fingerprint = fingerprint.hex();
  for (const auto& p : files) {
    File f;
    f.path = p.string();
    if (auto st = fs::stat_of(p)) {
      f.exists = true;
      f.stat = *st;
    }
    u.files.push_back(std::move(f));
  }
  units_[unit] = std::move(u);
  changed_ = true;
}

Status OutputMemo::save(const store::Layout& layout) {
  if (!changed_) return Status::ok();
  std::vector<const std::pair<const std::string, Unit>*> keep;
  for (const auto& u : units_)
    if (seen_.count(u.first) || unchanged(u.second)) keep.push_back(&u);
  fs::MemoWriter w;
  w.u64(keep.size());
  for (const auto* u : keep) {
    w.str(u->first).str(u->second.fingerprint).u64(u->second.files.size());
    for (const auto& f : u->second.files) w.str(f.path).u64(f.exists ? 1 : 0).stat(f.stat);
  }
  QB_TRY(fs::make_dirs(layout.cache()));
  QB_TRY(fs::write_memo(layout.outputs_memo(), kMagic, kVersion, w));
  changed_ = false;
  return Status::ok();
}

Status write_if_changed(OutputMemo& memo, const std::filesystem::path& path, const std::string& text) {
  const Digest fp = hash_bytes(text.data(), text.size());
  if (memo.fresh(path.string(), fp)) return Status::ok();
  auto old = fs::read_file(path);
  if (!old.is_ok() || *old != text) QB_TRY(fs::write_file_atomic(path, text));
  memo.record(path.string(), fp, {path});
  return Status::ok();
}

}  // namespace qb::runner
