#include "runner/noop_memo.h"

#include <sys/stat.h>

#include <thread>

#include "runner/output_memo.h"
#include "store/check_memo.h"
#include "util/memo_file.h"
#include "util/strings.h"
#include "util/subprocess.h"

namespace qb::runner {

namespace stdfs = std::filesystem;

namespace {
constexpr const char* kMagic = "qbuild-noop-memo";
constexpr std::uint32_t kVersion = 1;
}  // namespace

Digest noop_fingerprint(const stdfs::path& root, const std::vector<std::string>& parts) {
  Hasher h(Hasher::Explain::kSkip);
  h.salt("qbuild-noop-v1").str("qbuild_version", QBUILD_VERSION_STRING);
  const stdfs::path exe = self_executable();
  h.str("executable", exe.string()).path_stat(exe);
  std::error_code ec;
  h.str("root", stdfs::absolute(root, ec).lexically_normal().string());
  h.i64("cores", static_cast<std::int64_t>(std::thread::hardware_concurrency()));
  for (const auto& p : parts) h.str("part", p);
  return h.digest();
}

std::optional<NoopOutput> noop_memo_answer(const store::Layout& layout, const Digest& fingerprint) {
  auto r = fs::read_memo(layout.noop_memo(), kMagic, kVersion);
  if (!r) return std::nullopt;
  std::string fp, path;
  NoopOutput printed;
  std::uint64_t n = 0, exists = 0;
  if (!r->str(fp) || fp != fingerprint.hex() || !r->str(printed.out) || !r->str(printed.err) || !r->u64(n))
    return std::nullopt;
  fs::FileStat then;
  for (std::uint64_t i = 0; i < n; ++i) {
    if (!r->str(path) || !r->u64(exists) || !r->stat(then)) return std::nullopt;
    struct stat st {};
    const bool now = ::stat(path.c_str(), &st) == 0;
    if (now != (exists != 0) || (now && !(fs::file_stat(st) == then))) return std::nullopt;
  }
  if (!r->at_end()) return std::nullopt;
  return printed;
}

Status record_noop_memo(const Project& project, const Planned& planned, const Digest& fingerprint,
                        const NoopOutput& printed, const std::vector<fs::DependencyLog::Entry>& inputs,
                        const std::vector<stdfs::path>& extra) {
  const auto& L = project.layout();
  std::vector<std::pair<std::string, std::optional<fs::FileStat>>> paths;
  auto now = [&](const stdfs::path& p) { paths.emplace_back(p.string(), fs::stat_of(p)); };
  // The inputs first: an edited config is the likeliest difference, and the check stops there.
  for (const auto& e : inputs) paths.emplace_back(e.path, e.stat);
  // The store as the plan saw it.
  for (const char* sfx : {"", "-wal", "-shm", "-journal"}) now(L.index_db().string() + sfx);
  now(L.objects());
  std::error_code ec;
  for (const auto& e : stdfs::directory_iterator(L.objects(), ec)) now(e.path());
  if (ec) return Status::ok();
  now(L.tmp());
  now(L.runs());
  const auto checked = store::CheckMemo::load(L);
  for (int i : planned.selected) {
    const auto& n = planned.graph.node(i);
    if (n.is_source()) continue;
    const auto* files = checked.record(n.key);
    if (!files) return Status::ok();  // (the plan saw it cached, so it has one; be safe anyway)
    const stdfs::path dir = L.object_dir(n.key);
    for (const auto& f : *files) paths.emplace_back((dir / f.path).string(), f.stat);
    for (const auto& link : n.links)
      if (starts_with(link, "data/models/")) now(L.root() / link);
  }
  // The outputs, as the outputs memo last recorded them.
  OutputMemo::load(L).for_each_file([&](const std::string& p, const std::optional<fs::FileStat>& st) {
    paths.emplace_back(p, st);
  });
  for (const auto& p : extra) now(p);

  fs::MemoWriter w;
  w.str(fingerprint.hex()).str(printed.out).str(printed.err).u64(paths.size());
  for (const auto& [p, st] : paths) w.str(p).u64(st ? 1 : 0).stat(st.value_or(fs::FileStat{}));
  return fs::write_memo(L.noop_memo(), kMagic, kVersion, w);
}

}  // namespace qb::runner
