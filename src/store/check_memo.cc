#include "store/check_memo.h"

#include "util/memo_file.h"

namespace qb::store {

namespace {
constexpr const char* kMagic = "qbuild-checked-memo";
constexpr std::uint32_t kVersion = 1;

// True when every recorded file of the artifact in `dir` still has its recorded stat.
bool unchanged(const std::filesystem::path& dir, const std::vector<SeenFile>& files) {
  for (const auto& f : files) {
    auto now = fs::stat_of(dir / f.path);
    if (!now || !(*now == f.stat)) return false;
  }
  return true;
}
}  // namespace

CheckMemo CheckMemo::load(const Layout& layout) {
  CheckMemo m;
  auto r = fs::read_memo(layout.check_memo(), kMagic, kVersion);
  if (!r) return m;
  std::uint64_t n = 0;
  if (!r->u64(n)) return m;
  for (std::uint64_t i = 0; i < n; ++i) {
    std::string key;
    std::uint64_t files = 0;
    if (!r->str(key) || !r->u64(files) || files == 0 || files > (1u << 20)) return CheckMemo();
    std::vector<SeenFile> seen(files);
    for (auto& f : seen)
      if (!r->str(f.path) || !r->stat(f.stat)) return CheckMemo();
    m.records_.emplace(std::move(key), std::move(seen));
  }
  if (!r->at_end()) return CheckMemo();
  return m;
}

Result<bool> CheckMemo::check(const ObjectStore& store, const std::string& key, const FileHasher& hasher) {
  checked_.insert(key);
  const auto dir = store.layout().object_dir(key);
  if (auto it = records_.find(key); it != records_.end() && unchanged(dir, it->second)) {
    ++hits_;
    return true;
  }
  if (records_.erase(key)) changed_ = true;
  if (!store.contains(key)) return false;
  // The manifest's stat before its content is read: if it is replaced meanwhile, the record
  // names the old one and the next plan checks again.
  auto manifest = fs::stat_of(store.layout().manifest(key));
  if (!manifest) return false;
  std::vector<SeenFile> seen = {{Layout::kManifestName, *manifest}};
  QB_TRY(store.verify(key, VerifyLevel::kChanged, hasher, &seen));
  records_.emplace(key, std::move(seen));
  changed_ = true;
  return true;
}

Status CheckMemo::save(const Layout& layout) {
  if (!changed_) return Status::ok();
  std::vector<const std::pair<const std::string, std::vector<SeenFile>>*> keep;
  for (const auto& rec : records_) {
    if (!checked_.count(rec.first)) {
      auto manifest = fs::stat_of(layout.manifest(rec.first));
      if (rec.second.empty() || !manifest || !(*manifest == rec.second.front().stat)) continue;
    }
    keep.push_back(&rec);
  }
  fs::MemoWriter w;
  w.u64(keep.size());
  for (const auto* rec : keep) {
    w.str(rec->first).u64(rec->second.size());
    for (const auto& f : rec->second) w.str(f.path).stat(f.stat);
  }
  QB_TRY(fs::make_dirs(layout.cache()));
  QB_TRY(fs::write_memo(layout.check_memo(), kMagic, kVersion, w));
  changed_ = false;
  return Status::ok();
}

}  // namespace qb::store
