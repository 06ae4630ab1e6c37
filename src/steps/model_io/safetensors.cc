// The safetensors dtype table and the validating reader (see safetensors.h for the format).
#include "steps/model_io/safetensors.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <unordered_set>

#include <ATen/Parallel.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <nlohmann/json.hpp>

#include "steps/model_io/messages.h"
#include "util/log.h"

namespace qb::model_io {

static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian; big-endian hosts would need byte swapping");

namespace {

struct DTypeInfo {
  DType dtype;
  const char* name;  // as written in the header
  std::size_t size;  // bytes per element
  at::ScalarType scalar;
};

// The one table of dtypes: safetensors name, element size and torch type.
constexpr DTypeInfo kDTypes[] = {
    {DType::kBool, "BOOL", 1, at::kBool},
    {DType::kU8, "U8", 1, at::kByte},
    {DType::kI8, "I8", 1, at::kChar},
    {DType::kI16, "I16", 2, at::kShort},
    {DType::kI32, "I32", 4, at::kInt},
    {DType::kI64, "I64", 8, at::kLong},
    {DType::kF16, "F16", 2, at::kHalf},
    {DType::kBF16, "BF16", 2, at::kBFloat16},
    {DType::kF32, "F32", 4, at::kFloat},
    {DType::kF64, "F64", 8, at::kDouble},
    {DType::kU16, "U16", 2, at::kUInt16},
    {DType::kU32, "U32", 4, at::kUInt32},
    {DType::kU64, "U64", 8, at::kUInt64},
    {DType::kF8E4M3, "F8_E4M3", 1, at::kFloat8_e4m3fn},
    {DType::kF8E5M2, "F8_E5M2", 1, at::kFloat8_e5m2},
};

const DTypeInfo& info_of(DType d) {
  for (const DTypeInfo& i : kDTypes)
    if (i.dtype == d) return i;
  return kDTypes[0];  // unreachable for valid enum values
}

using json = nlohmann::json;

// Thrown from the parse callback to stop parsing early; turned into a Status below.
struct HeaderShapeError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string offsets_text(std::uint64_t b, std::uint64_t e) {
  return "[" + std::to_string(b) + ", " + std::to_string(e) + "]";
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// Parses the header JSON, rejecting duplicate keys (nlohmann would keep the last silently) and
// nesting deeper than any valid header (root object -> tensor object -> shape array).
Result<json> parse_header_json(std::string_view text, const std::string& where) {
  std::vector<std::unordered_set<std::string>> keys;  // one set per open object
  auto cb = [&](int depth, json::parse_event_t event, json& parsed) -> bool {
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        if (depth >= 3) throw HeaderShapeError("header nests deeper than a safetensors header can");
        if (event == json::parse_event_t::object_start) keys.emplace_back();
        break;
      case json::parse_event_t::object_end:
        keys.pop_back();
        break;
      case json::parse_event_t::key: {
        const std::string& k = parsed.get_ref<const std::string&>();
        if (!keys.back().insert(k).second) {
          if (depth == 1) throw HeaderShapeError("tensor " + quote(k) + " appears twice in the header");
          throw HeaderShapeError("duplicate key " + quote(k) + " in the header");
        }
        break;
      }
      default:
        break;
    }
    return true;
  };
  try {
    return json::parse(text.begin(), text.end(), cb);
  } catch (const HeaderShapeError& e) {
    return corrupt(where + ": " + e.what());
  } catch (const json::exception& e) {
    return corrupt(where + ": header is not valid JSON: " + json_error_text(e));
  }
}

std::optional<std::uint64_t> as_u64(const json& v) {
  if (!v.is_number_unsigned()) return std::nullopt;
  return v.get<std::uint64_t>();
}

// Fills `e` (name already set) from its header object; checks offsets against `data_size`.
Status parse_entry(const json& v, std::uint64_t data_size, const std::string& where, TensorEntry& e) {
  std::string at = where + ": tensor " + quote(e.name);
  if (!v.is_object()) return corrupt(at + ": entry is not an object");
  auto dt = v.find("dtype");
  if (dt == v.end()) return corrupt(at + ": missing \"dtype\"");
  if (!dt->is_string()) return corrupt(at + ": \"dtype\" is not a string");
  std::optional<DType> d = dtype_from_name(dt->get_ref<const std::string&>());
  if (!d) return corrupt(at + ": unknown dtype " + quote(dt->get<std::string>()));
  e.dtype = *d;

  auto sh = v.find("shape");
  if (sh == v.end()) return corrupt(at + ": missing \"shape\"");
  if (!sh->is_array()) return corrupt(at + ": \"shape\" is not an array");
  std::uint64_t numel = 1;
  bool overflow = false;
  for (const json& x : *sh) {
    std::optional<std::uint64_t> n = as_u64(x);
    if (!n || *n > static_cast<std::uint64_t>(std::numeric_limits<int64_t>::max()))
      return corrupt(at + ": \"shape\" " + sh->dump() + " is not a list of non-negative 64-bit integers");
    e.shape.push_back(static_cast<int64_t>(*n));
    overflow = overflow || __builtin_mul_overflow(numel, *n, &numel);
  }
  std::uint64_t need = 0;
  if (overflow || __builtin_mul_overflow(numel, dtype_size(e.dtype), &need))
    return corrupt(at + ": shape " + shape_text(e.shape) + " overflows 64-bit byte counts");

  auto off = v.find("data_offsets");
  if (off == v.end()) return corrupt(at + ": missing \"data_offsets\"");
  if (!off->is_array() || off->size() != 2 || !as_u64((*off)[0]) || !as_u64((*off)[1]))
    return corrupt(at + ": \"data_offsets\" " + off->dump() + " is not a pair of non-negative integers");
  e.begin = *as_u64((*off)[0]);
  e.end = *as_u64((*off)[1]);
  if (e.begin > e.end) return corrupt(at + ": data_offsets " + offsets_text(e.begin, e.end) + " are reversed");
  if (e.end > data_size)
    return corrupt(at + ": data_offsets " + offsets_text(e.begin, e.end) + " run past the end of the " +
                   std::to_string(data_size) + "-byte data section");
  if (e.end - e.begin != need)
    return corrupt(at + ": data_offsets " + offsets_text(e.begin, e.end) + " but " + dtype_name(e.dtype) + " " +
                   shape_text(e.shape) + " needs " + std::to_string(need) + " bytes");
  return Status::ok();
}

Status parse_metadata(const json& v, const std::string& where, std::map<std::string, std::string>& out) {
  if (v.is_null()) return Status::ok();
  if (!v.is_object()) return corrupt(where + ": __metadata__ is not an object");
  for (auto it = v.begin(); it != v.end(); ++it) {
    if (!it.value().is_string())
      return corrupt(where + ": __metadata__ value for " + quote(it.key()) + " is not a string");
    out.emplace(it.key(), it.value().get<std::string>());
  }
  return Status::ok();
}

// Like the reference reader: tensors must tile the data section exactly, in offset order, so a
// file accepted here is accepted by the `safetensors` package too. Entries come sorted.
Status check_layout(const std::vector<TensorEntry>& entries, std::uint64_t data_size, const std::string& where) {
  std::uint64_t covered = 0;
  const TensorEntry* prev = nullptr;
  for (const TensorEntry& e : entries) {
    std::string at = where + ": tensor " + quote(e.name) + ": data_offsets " + offsets_text(e.begin, e.end);
    if (e.begin < covered)
      return corrupt(at + " overlap tensor " + quote(prev->name) + " " + offsets_text(prev->begin, prev->end));
    if (e.begin > covered)
      return corrupt(at + " leave bytes [" + std::to_string(covered) + ", " + std::to_string(e.begin) +
                     ") unused" + (prev ? " after tensor " + quote(prev->name) : std::string(" at the start")));
    covered = e.end;
    prev = &e;
  }
  if (covered != data_size)
    return corrupt(where + ": the data section has " + std::to_string(data_size) + " bytes but the tensors cover " +
                   std::to_string(covered));
  return Status::ok();
}

Status check_device(at::Device device, const std::string& at) {
  if (device.is_cpu()) return Status::ok();
  if (device.is_cuda()) {
    const auto& hooks = at::detail::getCUDAHooks();
    int count = hooks.hasCUDA() ? static_cast<int>(hooks.deviceCount()) : 0;
    if (count == 0) return unavailable(at + ": no CUDA device in this process");
    if (device.has_index() && device.index() >= count)
      return unavailable(at + ": " + device.str() + " requested but only " + std::to_string(count) +
                         " CUDA device(s) present");
  }
  return Status::ok();
}

// memcpy split over threads for big tensors: page faults (on the map and on fresh destination
// pages) and memory bandwidth both scale with threads. Runs on libtorch's inter-op pool via
// at::launch: at::parallel_for would be serial here, since its OpenMP body is inlined into this
// translation unit, which is not built with -fopenmp. The caller claims chunks too and waits only
// for chunks that were claimed, so a busy (or nested) pool cannot deadlock it; late pool tasks
// find no work and touch only the shared counters.
constexpr std::size_t kChunk = 4 << 20;  // parallel_copy's unit of work

void parallel_copy(void* dst, const std::uint8_t* src, std::size_t n) {
  const std::size_t chunks = (n + kChunk - 1) / kChunk;
  const std::size_t helpers = std::min<std::size_t>(chunks, static_cast<std::size_t>(at::get_num_interop_threads())) - 1;
  if (chunks < 4 || helpers == 0) {
    std::memcpy(dst, src, n);
    return;
  }
  struct State {
    std::atomic<std::size_t> next{0}, done{0};
    std::uint8_t* dst;
    const std::uint8_t* src;
    std::size_t n, chunks;
  };
  auto st = std::make_shared<State>();
  st->dst = static_cast<std::uint8_t*>(dst);
  st->src = src;
  st->n = n;
  st->chunks = chunks;
  auto work = [](State& s) {
    for (std::size_t c; (c = s.next.fetch_add(1)) < s.chunks;) {
      std::size_t b = c * kChunk;
      std::memcpy(s.dst + b, s.src + b, std::min(kChunk, s.n - b));
      if (s.done.fetch_add(1) + 1 == s.chunks) s.done.notify_all();
    }
  };
  for (std::size_t i = 0; i < helpers; ++i) at::launch([st, work] { work(*st); });
  work(*st);
  for (std::size_t d; (d = st->done.load()) < chunks;) st->done.wait(d);
}

// Asks for transparent huge pages on a fresh destination buffer before it is first touched:
// filling a fresh 4 KiB-page buffer costs one page fault per page, which dominates large copies
// (measured 2.5x faster warm loads with THP). Advisory; a no-op where THP is off.
void advise_huge_pages(void* p, std::size_t n) {
  constexpr std::uintptr_t kHuge = 2u << 20;
  if (n < 2 * kHuge) return;
  std::uintptr_t b = (reinterpret_cast<std::uintptr_t>(p) + kHuge - 1) & ~(kHuge - 1);
  std::uintptr_t e = (reinterpret_cast<std::uintptr_t>(p) + n) & ~(kHuge - 1);
  if (e > b) ::madvise(reinterpret_cast<void*>(b), e - b, MADV_HUGEPAGE);
}

// Hints the kernel to read ahead the pages of [p, p + n); advisory, errors ignored.
void advise_sequential(const std::uint8_t* p, std::size_t n) {
  if (n < (1u << 20)) return;
  static const std::uintptr_t kPage = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
  std::uintptr_t b = reinterpret_cast<std::uintptr_t>(p) & ~(kPage - 1);
  std::uintptr_t e = reinterpret_cast<std::uintptr_t>(p) + n;
  ::madvise(reinterpret_cast<void*>(b), e - b, MADV_WILLNEED);
}

}  // namespace

std::optional<DType> dtype_from_name(std::string_view name) {
  for (const DTypeInfo& i : kDTypes)
    if (name == i.name) return i.dtype;
  return std::nullopt;
}

const char* dtype_name(DType dtype) { return info_of(dtype).name; }
std::size_t dtype_size(DType dtype) { return info_of(dtype).size; }
at::ScalarType to_scalar_type(DType dtype) { return info_of(dtype).scalar; }

Result<DType> from_scalar_type(at::ScalarType type) {
  for (const DTypeInfo& i : kDTypes)
    if (i.scalar == type) return i.dtype;
  return invalid_argument(std::string("torch dtype ") + c10::toString(type) + " has no safetensors equivalent");
}

std::uint64_t TensorEntry::numel() const {
  std::uint64_t n = 1;
  for (int64_t d : shape) n *= static_cast<std::uint64_t>(d);  // validated not to overflow
  return n;
}

Result<SafetensorsReader> SafetensorsReader::open(const std::filesystem::path& path) {
  const std::string where = quote(path.string());
  QB_ASSIGN_OR_RETURN(fs::MappedFile map, fs::MappedFile::open(path));
  const std::uint64_t size = map.size();
  if (size < 8)
    return corrupt(where + ": file is " + std::to_string(size) + " bytes, too short for the 8-byte header length");
  std::uint64_t header_len = 0;
  std::memcpy(&header_len, map.data(), 8);  // little-endian (static_assert above)
  if (header_len > kMaxHeaderBytes)
    return corrupt(where + ": header length " + std::to_string(header_len) + " exceeds the limit of " +
                   std::to_string(kMaxHeaderBytes) + " bytes");
  if (header_len > size - 8)
    return corrupt(where + ": header length " + std::to_string(header_len) + " exceeds the " +
                   std::to_string(size - 8) + " bytes after the length field (truncated file?)");
  std::string_view header(reinterpret_cast<const char*>(map.data()) + 8, header_len);
  if (header.empty() || header.front() != '{') return corrupt(where + ": header does not start with '{'");
  if (auto nul = header.find('\0'); nul != std::string_view::npos)
    return corrupt(where + ": header contains a NUL byte at offset " + std::to_string(8 + nul));
  QB_ASSIGN_OR_RETURN(json root, parse_header_json(header, where));
  if (!root.is_object()) return corrupt(where + ": header is not a JSON object");

  SafetensorsReader r;
  r.path_ = path;
  r.data_start_ = 8 + header_len;
  const std::uint64_t data_size = size - r.data_start_;
  r.entries_.reserve(root.size());
  for (auto it = root.begin(); it != root.end(); ++it) {
    if (it.key() == "__metadata__") {
      QB_TRY(parse_metadata(it.value(), where, r.metadata_));
      continue;
    }
    TensorEntry e;
    e.name = it.key();
    QB_TRY(parse_entry(it.value(), data_size, where, e));
    r.entries_.push_back(std::move(e));
  }
  std::sort(r.entries_.begin(), r.entries_.end(), [](const TensorEntry& a, const TensorEntry& b) {
    return std::tie(a.begin, a.end, a.name) < std::tie(b.begin, b.end, b.name);
  });
  QB_TRY(check_layout(r.entries_, data_size, where));
  for (std::size_t i = 0; i < r.entries_.size(); ++i) r.index_.emplace(r.entries_[i].name, i);
  r.map_ = std::make_shared<const fs::MappedFile>(std::move(map));
  log::debug("safetensors " + where + ": " + std::to_string(r.entries_.size()) + " tensors, " +
             std::to_string(data_size) + " data bytes");
  return r;
}

const TensorEntry* SafetensorsReader::find(std::string_view name) const {
  auto it = index_.find(std::string(name));
  return it == index_.end() ? nullptr : &entries_[it->second];
}

std::span<const std::uint8_t> SafetensorsReader::bytes(const TensorEntry& entry) const {
  return {map_->data() + data_start_ + entry.begin, static_cast<std::size_t>(entry.nbytes())};
}

Result<at::Tensor> SafetensorsReader::load(std::string_view name, at::Device device) const {
  const TensorEntry* e = find(name);
  if (!e) return not_found(quote(path_.string()) + ": no tensor " + quote(std::string(name)));
  return load(*e, device);
}

Result<at::Tensor> SafetensorsReader::load(const TensorEntry& entry, at::Device device) const {
  const std::string at = quote(path_.string()) + ": tensor " + quote(entry.name);
  QB_TRY(check_device(device, at));
  std::span<const std::uint8_t> src = bytes(entry);
  if (entry.dtype == DType::kBool) {
    // Any byte other than 0/1 would be an invalid bool in torch (undefined behaviour).
    for (std::size_t i = 0; i < src.size(); ++i)
      if (src[i] > 1)
        return corrupt(at + ": BOOL byte " + std::to_string(i) + " is " + std::to_string(src[i]) + ", not 0 or 1");
  }
  advise_sequential(src.data(), src.size());
  try {
    auto options = at::TensorOptions().dtype(to_scalar_type(entry.dtype));
    if (device.is_cpu()) {
      at::Tensor t = at::empty(entry.shape, options);
      advise_huge_pages(t.data_ptr(), src.size());
      if (!src.empty()) parallel_copy(t.data_ptr(), src.data(), src.size());
      return t;
    }
    if (device.is_cuda()) {
      // Pinned staging lets the DMA run at full speed and asynchronously; the caching host
      // allocator keeps the staging block alive until the copy on the current stream is done.
      at::Tensor staging = at::empty(entry.shape, options.pinned_memory(true));
      if (!src.empty()) parallel_copy(staging.data_ptr(), src.data(), src.size());
      return staging.to(device, /*non_blocking=*/true);
    }
    // Other devices: a synchronous copy straight from the (read-only, never written) map.
    at::Tensor view = at::from_blob(const_cast<std::uint8_t*>(src.data()), entry.shape, options);
    return view.to(device, /*non_blocking=*/false, /*copy=*/true);
  } catch (const c10::Error& err) {
    return unavailable(at + ": copying " + std::to_string(src.size()) + " bytes to " + device.str() +
                       " failed: " + err.what_without_backtrace());
  }
}

}  // namespace qb::model_io
