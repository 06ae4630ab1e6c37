#include "util/hash.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <vector>

#include <xxhash.h>

#include "util/fs.h"

namespace qb {

namespace {
XXH3_state_t* st(void* p) { return static_cast<XXH3_state_t*>(p); }

void put_u64(unsigned char* out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out[i] = static_cast<unsigned char>((v >> (8 * i)) & 0xff);
}
}  // namespace

std::string Digest::hex() const {
  static const char* kHex = "0123456789abcdef";
  std::string s(32, '0');
  for (int i = 0; i < 16; ++i) {
    s[15 - i] = kHex[(hi >> (4 * i)) & 0xf];
    s[31 - i] = kHex[(lo >> (4 * i)) & 0xf];
  }
  return s;
}

Result<Digest> Digest::from_hex(std::string_view hex) {
  if (hex.size() != 32) return invalid_argument("not a 32-character hex digest: '" + std::string(hex) + "'");
  Digest d;
  for (int i = 0; i < 32; ++i) {
    char c = hex[i];
    int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (v < 0) return invalid_argument("not a hex digest: '" + std::string(hex) + "'");
    std::uint64_t& part = i < 16 ? d.hi : d.lo;
    part = (part << 4) | static_cast<std::uint64_t>(v);
  }
  return d;
}

Hasher::Hasher(Explain explain) : state_(XXH3_createState()), record_(explain == Explain::kRecord) {
  XXH3_128bits_reset(st(state_));
}
Hasher::~Hasher() { XXH3_freeState(st(state_)); }

void Hasher::frame(char tag, const void* data, std::size_t size) {
  // <tag><size u64 LE><bytes>, fed as one update when small (the common case: field names,
  // short strings, numbers): XXH3's streaming update has a fixed cost per call.
  unsigned char buf[64];
  buf[0] = static_cast<unsigned char>(tag);
  put_u64(buf + 1, size);
  if (size <= sizeof buf - 9) {
    if (size) std::memcpy(buf + 9, data, size);
    XXH3_128bits_update(st(state_), buf, 9 + size);
    return;
  }
  XXH3_128bits_update(st(state_), buf, 9);
  XXH3_128bits_update(st(state_), data, size);
}

Hasher& Hasher::salt(std::string_view v) {
  frame('V', v.data(), v.size());
  if (record_) explain_.push_back("salt = " + std::string(v));
  return *this;
}

Hasher& Hasher::str(std::string_view field, std::string_view value) {
  frame('F', field.data(), field.size());
  frame('s', value.data(), value.size());
  if (record_) explain_.push_back(std::string(field) + " = " + std::string(value));
  return *this;
}

Hasher& Hasher::i64(std::string_view field, std::int64_t value) {
  frame('F', field.data(), field.size());
  unsigned char b[8];
  put_u64(b, static_cast<std::uint64_t>(value));
  frame('i', b, sizeof b);
  if (record_) explain_.push_back(std::string(field) + " = " + std::to_string(value));
  return *this;
}

Hasher& Hasher::path_stat(const std::filesystem::path& path) {
  const auto st = fs::stat_of(path);
  boolean("exists", st.has_value());
  if (!st) return *this;
  i64("dev", static_cast<std::int64_t>(st->dev)).i64("ino", static_cast<std::int64_t>(st->ino));
  return i64("size", static_cast<std::int64_t>(st->size)).i64("mtime_ns", st->mtime_ns).i64("ctime_ns", st->ctime_ns);
}

Hasher& Hasher::boolean(std::string_view field, bool value) {
  frame('F', field.data(), field.size());
  char b = value ? 1 : 0;
  frame('b', &b, 1);
  if (record_) explain_.push_back(std::string(field) + " = " + (value ? "true" : "false"));
  return *this;
}

Hasher& Hasher::digest_field(std::string_view field, const Digest& d) {
  frame('F', field.data(), field.size());
  unsigned char b[16];
  put_u64(b, d.hi);
  put_u64(b + 8, d.lo);
  frame('d', b, sizeof b);
  if (record_) explain_.push_back(std::string(field) + " = " + d.hex());
  return *this;
}

Hasher& Hasher::bytes(std::string_view field, const void* data, std::size_t size) {
  frame('F', field.data(), field.size());
  frame('x', data, size);
  if (record_) explain_.push_back(std::string(field) + " = <" + std::to_string(size) + " bytes>");
  return *this;
}

void Hasher::feed_json(const nlohmann::json& v) {
  using T = nlohmann::json::value_t;
  switch (v.type()) {
    case T::null: frame('n', nullptr, 0); break;
    case T::boolean: { char b = v.get<bool>() ? 1 : 0; frame('b', &b, 1); break; }
    case T::number_integer: case T::number_unsigned: {
      unsigned char b[8];
      if (v.type() == T::number_unsigned) put_u64(b, v.get<std::uint64_t>());
      else put_u64(b, static_cast<std::uint64_t>(v.get<std::int64_t>()));
      frame(v.type() == T::number_unsigned && v.get<std::uint64_t>() > INT64_MAX ? 'u' : 'i', b, sizeof b);
      break;
    }
    case T::number_float: {
      double d = v.get<double>();
      if (d == 0.0) d = 0.0;  // fold -0.0
      std::uint64_t bits;
      std::memcpy(&bits, &d, 8);
      unsigned char b[8];
      put_u64(b, bits);
      frame('f', b, sizeof b);
      break;
    }
    case T::string: { const auto& s = v.get_ref<const std::string&>(); frame('s', s.data(), s.size()); break; }
    case T::array: {
      unsigned char n[8];
      put_u64(n, v.size());
      frame('[', n, sizeof n);
      for (const auto& e : v) feed_json(e);
      break;
    }
    case T::object: {  // nlohmann::json's default object is a std::map: keys already sorted
      unsigned char n[8];
      put_u64(n, v.size());
      frame('{', n, sizeof n);
      for (auto it = v.begin(); it != v.end(); ++it) {
        frame('k', it.key().data(), it.key().size());
        feed_json(it.value());
      }
      break;
    }
    case T::binary: case T::discarded: frame('?', nullptr, 0); break;
  }
}

Hasher& Hasher::json(std::string_view field, const nlohmann::json& value) {
  frame('F', field.data(), field.size());
  feed_json(value);
  if (record_) explain_.push_back(std::string(field) + " = " + value.dump());
  return *this;
}

Digest Hasher::digest() const {
  XXH128_hash_t h = XXH3_128bits_digest(st(state_));
  return Digest{h.high64, h.low64};
}

Digest hash_bytes(const void* data, std::size_t size) {
  XXH128_hash_t h = XXH3_128bits(data, size);
  return Digest{h.high64, h.low64};
}

Result<Digest> hash_file(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno_error("open '" + path.string() + "'");
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  XXH3_state_t* s = XXH3_createState();
  XXH3_128bits_reset(s);
  std::vector<char> buf(1 << 20);
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      Status err = errno_error("read '" + path.string() + "'");
      XXH3_freeState(s);
      ::close(fd);
      return err;
    }
    if (n == 0) break;
    XXH3_128bits_update(s, buf.data(), static_cast<std::size_t>(n));
  }
  XXH128_hash_t h = XXH3_128bits_digest(s);
  XXH3_freeState(s);
  ::close(fd);
  return Digest{h.high64, h.low64};
}

}  // namespace qb
