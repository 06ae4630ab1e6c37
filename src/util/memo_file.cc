#include "util/memo_file.h"

#include <cstring>

#include <xxhash.h>

#include "util/atomic_file.h"

namespace qb::fs {

namespace {
void put_u64(std::string& out, std::uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  out.append(b, 8);
}
std::uint64_t get_u64(const char* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}
}  // namespace

MemoWriter& MemoWriter::u64(std::uint64_t v) {
  put_u64(out_, v);
  return *this;
}

MemoWriter& MemoWriter::str(std::string_view s) {
  put_u64(out_, s.size());
  out_.append(s.data(), s.size());
  return *this;
}

MemoWriter& MemoWriter::stat(const FileStat& f) {
  return u64(f.dev).u64(f.ino).u64(f.size).i64(f.mtime_ns).i64(f.ctime_ns);
}

bool MemoReader::u64(std::uint64_t& v) {
  if (!ok_ || data_.size() - pos_ < 8) return ok_ = false;
  v = get_u64(data_.data() + pos_);
  pos_ += 8;
  return true;
}

bool MemoReader::i64(std::int64_t& v) {
  std::uint64_t u = 0;
  if (!u64(u)) return false;
  v = static_cast<std::int64_t>(u);
  return true;
}

bool MemoReader::str(std::string& s) {
  std::uint64_t n = 0;
  if (!u64(n)) return false;
  if (data_.size() - pos_ < n) return ok_ = false;
  s.assign(data_.data() + pos_, n);
  pos_ += n;
  return true;
}

bool MemoReader::stat(FileStat& f) {
  return u64(f.dev) && u64(f.ino) && u64(f.size) && i64(f.mtime_ns) && i64(f.ctime_ns);
}

std::optional<MemoReader> read_memo(const std::filesystem::path& path, std::string_view magic, std::uint32_t version) {
  auto text = read_file(path);
  if (!text.is_ok()) return std::nullopt;
  const std::string& t = *text;
  const std::size_t head = magic.size() + 1 + 4 + 8;
  if (t.size() < head + 8 || t.compare(0, magic.size(), magic) != 0 || t[magic.size()] != '\n') return std::nullopt;
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(t[magic.size() + 1 + static_cast<std::size_t>(i)]);
  if (v != version) return std::nullopt;
  std::uint64_t size = get_u64(t.data() + magic.size() + 5);
  if (size != t.size() - head - 8) return std::nullopt;
  if (XXH3_64bits(t.data(), t.size() - 8) != get_u64(t.data() + t.size() - 8)) return std::nullopt;
  return MemoReader(t.substr(head, size));
}

Status write_memo(const std::filesystem::path& path, std::string_view magic, std::uint32_t version,
                  const MemoWriter& payload) {
  std::string out;
  out.reserve(magic.size() + 21 + payload.payload().size());
  out.append(magic.data(), magic.size());
  out.push_back('\n');
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((version >> (8 * i)) & 0xff));
  put_u64(out, payload.payload().size());
  out += payload.payload();
  put_u64(out, XXH3_64bits(out.data(), out.size()));
  QB_ASSIGN_OR_RETURN(AtomicFileWriter w, AtomicFileWriter::create(path));
  QB_TRY(w.append(out.data(), out.size()));
  return w.commit_unsynced();
}

}  // namespace qb::fs
