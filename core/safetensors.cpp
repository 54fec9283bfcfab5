#include "core/safetensors.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <optional>
#include <string>
#include <system_error>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/grad_mode.h"
#include "core/json.h"

namespace fluxion {

// Tensor bytes go between memory and the file unchanged; the format is
// little-endian, so a big-endian host would need byte swapping here.
static_assert(std::endian::native == std::endian::little, "safetensors I/O assumes a little-endian host");

namespace {

using nlohmann::json;

constexpr const char* kMetadataKey = "__metadata__";
// The reference implementation's limit: a larger length means a corrupt or
// foreign file, and allocating it would be the first thing to go wrong.
constexpr std::uint64_t kMaxHeaderBytes = 100'000'000;
constexpr std::uint64_t kLengthBytes = 8;

// --- dtypes and shapes ----------------------------------------------------------

const char* format_dtype(DType dtype) {
  switch (dtype) {
    case DType::float32: return "F32";
    case DType::float64: return "F64";
    case DType::int64: return "I64";
  }
  return "?";
}

// How a tensor's elements are stored in a file: as Fluxion's own dtype, or as
// one of the 16-bit floats of the wider ecosystem, read into float32.
enum class Stored { native, f16, bf16 };

struct StoredDType {
  DType dtype;                     // in memory
  Stored stored = Stored::native;  // on disk
};

std::optional<StoredDType> parse_dtype(const std::string& name) {
  for (DType d : {DType::float32, DType::float64, DType::int64})
    if (name == format_dtype(d)) return StoredDType{d};
  if (name == "F16") return StoredDType{DType::float32, Stored::f16};
  if (name == "BF16") return StoredDType{DType::float32, Stored::bf16};
  return std::nullopt;
}

const char* format_stored(const StoredDType& t) {
  switch (t.stored) {
    case Stored::f16: return "F16";
    case Stored::bf16: return "BF16";
    case Stored::native: break;
  }
  return format_dtype(t.dtype);
}

std::uint64_t stored_element_size(const StoredDType& t) {
  return t.stored == Stored::native ? element_size(t.dtype) : 2;
}

// IEEE 754 binary16 (1 sign, 5 exponent, 10 fraction bits) to float32:
// normal numbers rebias the exponent (15 -> 127); subnormals (exponent 0)
// are fraction * 2^-24, exact in float32; exponent 31 is infinity, or NaN
// with its fraction (the quiet bit included) moved to the top of float32's.
float half_to_float(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  const std::uint32_t exponent = (h >> 10) & 0x1fu, fraction = h & 0x3ffu;
  if (exponent == 0) {
    const float magnitude = std::ldexp(static_cast<float>(fraction), -24);
    return sign ? -magnitude : magnitude;
  }
  if (exponent == 0x1f) return std::bit_cast<float>(sign | 0x7f800000u | (fraction << 13));
  return std::bit_cast<float>(sign | ((exponent + 127 - 15) << 23) | (fraction << 13));
}

// bfloat16 is the top half of a float32, so widening is a shift.
float bfloat16_to_float(std::uint16_t b) { return std::bit_cast<float>(static_cast<std::uint32_t>(b) << 16); }

// The bytes a tensor of this dtype and shape needs; nullopt when that
// overflows 64 bits, which only a corrupt or hostile header can ask for.
std::optional<std::uint64_t> byte_count(const StoredDType& type, const Shape& shape) {
  if (std::find(shape.begin(), shape.end(), 0) != shape.end()) return 0;
  std::uint64_t bytes = stored_element_size(type);
  for (std::int64_t d : shape)
    if (__builtin_mul_overflow(bytes, static_cast<std::uint64_t>(d), &bytes)) return std::nullopt;
  return bytes;
}

std::uint64_t nbytes_of(const Tensor& t) {
  return static_cast<std::uint64_t>(t.numel()) * element_size(t.dtype());
}

// --- POSIX files ------------------------------------------------------------------

// strerror's text, without strerror's shared buffer (checkpoints may be saved
// from several threads).
std::string errno_text(int err) { return std::system_category().message(err); }

// Owns a file descriptor; close() reports the error that a destructor cannot.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // Returns 0 or an errno value. On NFS and some FUSE file systems, close is
  // where a failed write is first reported, so its result matters.
  int close() {
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc == 0 ? 0 : errno;
  }

 private:
  int fd_;
};

// Reads exactly `size` bytes at `offset`. The size was checked against
// fstat() beforehand, so a short read means the file changed underneath us.
void read_all(int fd, void* data, std::size_t size, std::uint64_t offset, const std::string& path) {
  char* p = static_cast<char*>(data);
  while (size > 0) {
    const ssize_t n = ::pread(fd, p, size, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    FLUXION_CHECK_INPUT(n >= 0, "load_safetensors: '", path, "': read failed: ", errno_text(errno));
    FLUXION_CHECK_INPUT(n > 0, "load_safetensors: '", path, "': the file ended early (was it changed while being read?)");
    p += n;
    size -= static_cast<std::size_t>(n);
    offset += static_cast<std::uint64_t>(n);
  }
}

// --- writing ------------------------------------------------------------------------

void check_savable(const std::string& path, const TensorMap& tensors) {
  FLUXION_CHECK(!tensors.contains(kMetadataKey), "save_safetensors: '", path, "': '", kMetadataKey,
                "' is reserved for the metadata and cannot name a tensor");
  for (const auto& [name, t] : tensors)
    FLUXION_CHECK(t.defined(), "save_safetensors: '", path, "': tensor '", name, "' is undefined");
}

// The JSON header, padded with spaces so the data starts 8-byte aligned (as
// the reference writer does: readers can then map the file and use the
// tensors in place). nlohmann::json keeps object keys sorted, and the data is
// laid out in the same (std::map) order.
std::string make_header(const std::string& path, const TensorMap& tensors, const Metadata& metadata) {
  json header = json::object();
  std::uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    const std::uint64_t end = offset + nbytes_of(t);
    header[name] = json::object({{"dtype", format_dtype(t.dtype())},
                                 {"shape", t.shape()},
                                 {"data_offsets", json::array({offset, end})}});
    offset = end;
  }
  if (!metadata.empty()) header[kMetadataKey] = metadata;
  std::string text;
  try {
    text = header.dump();
  } catch (const json::exception& e) {  // names and metadata must be valid UTF-8
    throw Error(detail::concat("save_safetensors: '", path, "': cannot encode the header: ", e.what()));
  }
  text.append((kLengthBytes - text.size() % kLengthBytes) % kLengthBytes, ' ');
  return text;
}

// --- reading ------------------------------------------------------------------------

// One tensor as the header describes it.
struct Entry {
  std::string name;
  StoredDType type;
  Shape shape;
  std::uint64_t begin, end;  // in the data buffer
};

// Reads and checks a file; every message starts with the path.
class Reader {
 public:
  explicit Reader(const std::string& path) : path_(path), fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {
    FLUXION_CHECK_INPUT(fd_.valid(), "load_safetensors: cannot open '", path_, "': ", errno_text(errno));
    struct stat st {};
    FLUXION_CHECK_INPUT(::fstat(fd_.get(), &st) == 0, "load_safetensors: cannot stat '", path_, "': ", errno_text(errno));
    file_size_ = static_cast<std::uint64_t>(st.st_size);
  }

  SafetensorsFile read() {
    const json header = read_header();
    std::vector<Entry> entries;
    SafetensorsFile file;
    for (const auto& [name, value] : header.items()) {
      if (name == kMetadataKey) file.metadata = parse_metadata(value);
      else entries.push_back(parse_entry(name, value));
    }
    check_layout(entries);
    for (const Entry& e : entries) file.tensors.emplace(e.name, read_tensor(e));
    return file;
  }

 private:
  template <class... Parts>
  [[noreturn]] void fail(const Parts&... parts) const {
    throw InputError(detail::concat("load_safetensors: '", path_, "': ", parts...));
  }

  json read_header() {
    if (file_size_ < kLengthBytes)
      fail("the file is ", file_size_, " bytes, shorter than the 8-byte header length that starts a safetensors file");
    std::uint64_t length = 0;  // little-endian on disk and (static_assert above) in memory
    read_all(fd_.get(), &length, kLengthBytes, 0, path_);
    if (length > kMaxHeaderBytes)
      fail("the header length ", length, " is absurdly large (more than ", kMaxHeaderBytes,
           " bytes): not a safetensors file?");
    if (length > file_size_ - kLengthBytes)
      fail("the header length ", length, " runs past the end of the file (", file_size_, " bytes)");
    data_start_ = kLengthBytes + length;
    buffer_size_ = file_size_ - data_start_;

    std::string text(length, '\0');
    read_all(fd_.get(), text.data(), text.size(), kLengthBytes, path_);
    json header;
    try {
      header = parse_json_bounded(text);
    } catch (const json::parse_error& e) {
      fail("the header is not valid JSON: ", e.what());
    } catch (const JsonTooDeep& e) {
      fail("the header is ", e.what());
    }
    if (!header.is_object()) fail("the header must be a JSON object, got a JSON ", header.type_name());
    return header;
  }

  Metadata parse_metadata(const json& value) const {
    if (!value.is_object()) fail("\"", kMetadataKey, "\" must be an object of strings, got a JSON ", value.type_name());
    Metadata metadata;
    for (const auto& [key, v] : value.items()) {
      if (!v.is_string())
        fail("\"", kMetadataKey, "\" must be an object of strings, but \"", key, "\" holds a JSON ", v.type_name());
      metadata.emplace(key, v.get<std::string>());
    }
    return metadata;
  }

  Entry parse_entry(const std::string& name, const json& value) const {
    if (!value.is_object())
      fail("tensor '", name, "': expected an object with dtype, shape and data_offsets, got a JSON ", value.type_name());
    for (const char* field : {"dtype", "shape", "data_offsets"})
      if (!value.contains(field)) fail("tensor '", name, "': missing \"", field, "\"");
    Entry e{name, parse_entry_dtype(name, value["dtype"]), parse_shape(name, value["shape"]), 0, 0};
    parse_offsets(e, value["data_offsets"]);
    check_size(e);
    return e;
  }

  StoredDType parse_entry_dtype(const std::string& name, const json& value) const {
    const std::optional<StoredDType> dtype = value.is_string() ? parse_dtype(value.get<std::string>()) : std::nullopt;
    if (!dtype)
      fail("tensor '", name, "': unsupported dtype ", value.dump(),
           " (Fluxion reads F32, F64, I64, and F16 and BF16 into float32)");
    return *dtype;
  }

  Shape parse_shape(const std::string& name, const json& value) const {
    constexpr auto kMaxDim = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    // nlohmann parses non-negative integers as unsigned, negative ones as
    // signed and anything with a '.' or exponent as float.
    const auto dim_ok = [](const json& d) { return d.is_number_unsigned() && d.get<std::uint64_t>() <= kMaxDim; };
    if (!value.is_array() || !std::all_of(value.begin(), value.end(), dim_ok))
      fail("tensor '", name, "': shape must be an array of non-negative integers, got ", value.dump());
    Shape shape;
    for (const json& d : value) shape.push_back(d.get<std::int64_t>());
    return shape;
  }

  void parse_offsets(Entry& e, const json& value) const {
    if (!value.is_array() || value.size() != 2 || !value[0].is_number_unsigned() || !value[1].is_number_unsigned() ||
        value[0].get<std::uint64_t>() > value[1].get<std::uint64_t>())
      fail("tensor '", e.name, "': data_offsets must be two non-decreasing non-negative integers [begin, end], got ",
           value.dump());
    e.begin = value[0].get<std::uint64_t>();
    e.end = value[1].get<std::uint64_t>();
  }

  // The byte count must match the shape exactly.
  void check_size(const Entry& e) const {
    const std::optional<std::uint64_t> expected = byte_count(e.type, e.shape);
    if (!expected || *expected != e.end - e.begin)
      fail("tensor '", e.name, "': dtype ", format_stored(e.type), " and shape ", to_string(e.shape), " need ",
           expected ? std::to_string(*expected) : std::string("more than 2^64"), " bytes, but data_offsets [",
           e.begin, ", ", e.end, "] span ", e.end - e.begin);
    if (e.end > buffer_size_)
      fail("tensor '", e.name, "': data_offsets [", e.begin, ", ", e.end, "] run past the end of the data buffer (",
           buffer_size_, " bytes after the header)");
  }

  // The tensors must tile the data buffer exactly: no two overlap (a writer
  // bug, or a crafted file aliasing memory) and no byte is left unused (the
  // reference rejects holes too, as "metadata incomplete buffer").
  void check_layout(std::vector<Entry>& entries) const {
    std::sort(entries.begin(), entries.end(),
              [](const Entry& a, const Entry& b) { return std::tie(a.begin, a.end) < std::tie(b.begin, b.end); });
    std::uint64_t covered = 0;
    const Entry* last = nullptr;
    for (const Entry& e : entries) {
      if (e.begin < covered)
        fail("tensors '", last->name, "' (bytes [", last->begin, ", ", last->end, ")) and '", e.name, "' (bytes [",
             e.begin, ", ", e.end, ")) overlap");
      if (e.begin > covered) fail_hole(covered, e.begin);
      covered = e.end;
      last = &e;
    }
    if (covered < buffer_size_) fail_hole(covered, buffer_size_);
  }

  [[noreturn]] void fail_hole(std::uint64_t begin, std::uint64_t end) const {
    fail("bytes [", begin, ", ", end, ") of the data buffer are not covered by any tensor (metadata incomplete buffer)");
  }

  Tensor read_tensor(const Entry& e) const {
    Tensor t = empty(e.shape, e.type.dtype);
    if (e.end == e.begin) return t;
    if (e.type.stored == Stored::native) {
      read_all(fd_.get(), t.raw_data(), e.end - e.begin, data_start_ + e.begin, path_);
      return t;
    }
    // 16-bit floats widen to float32 exactly: every F16 and BF16 value,
    // subnormals, infinities and NaNs included, is a float32.
    std::vector<std::uint16_t> bits(static_cast<std::size_t>(t.numel()));
    read_all(fd_.get(), bits.data(), e.end - e.begin, data_start_ + e.begin, path_);
    float* out = static_cast<float*>(t.raw_data());
    for (std::size_t i = 0; i < bits.size(); ++i)
      out[i] = e.type.stored == Stored::f16 ? half_to_float(bits[i]) : bfloat16_to_float(bits[i]);
    return t;
  }

  std::string path_;
  Fd fd_;
  std::uint64_t file_size_ = 0;
  std::uint64_t data_start_ = 0;   // 8 + header length
  std::uint64_t buffer_size_ = 0;  // bytes after the header
};

// "\"a\", \"b\""
std::string quoted_list(const std::vector<std::string>& keys) {
  std::string out;
  for (const auto& k : keys) out += (out.empty() ? "\"" : ", \"") + k + "\"";
  return out;
}

}  // namespace

void save_safetensors(const std::string& path, const TensorMap& tensors, const Metadata& metadata) {
  NoGradGuard no_grad;  // contiguous() of a parameter is a copy, not a graph node
  check_savable(path, tensors);
  const std::string header = make_header(path, tensors, metadata);
  const std::uint64_t length = header.size();

  AtomicFile tmp(path, "save_safetensors");
  tmp.write(&length, kLengthBytes);
  tmp.write(header.data(), header.size());
  for (const auto& [name, t] : tensors) {
    // Row-major on the host, whatever the strides and device were.
    const Tensor c = t.to(Device::cpu()).contiguous();
    if (c.numel() > 0) tmp.write(c.raw_data(), nbytes_of(c));
  }
  tmp.commit();
}

SafetensorsFile load_safetensors(const std::string& path) { return Reader(path).read(); }

void load_into(const TensorMap& targets, const TensorMap& loaded, bool strict, const std::string& source) {
  std::vector<std::string> missing, unexpected, mismatches;
  for (const auto& [name, target] : targets) {
    FLUXION_CHECK(target.defined(), "load_into: target '", name, "' is undefined");
    const auto it = loaded.find(name);
    if (it == loaded.end()) {
      missing.push_back(name);
      continue;
    }
    const Tensor& src = it->second;
    FLUXION_CHECK(src.defined(), "load_into: '", source, "': tensor '", name, "' is undefined");
    if (src.shape() != target.shape())
      mismatches.push_back(detail::concat("shape mismatch for \"", name, "\": ", to_string(src.shape()), " in '",
                                          source, "', ", to_string(target.shape()), " in the target"));
    else if (src.dtype() != target.dtype())
      mismatches.push_back(detail::concat("dtype mismatch for \"", name, "\": ", src.dtype(), " in '", source, "', ",
                                          target.dtype(), " in the target"));
  }
  for (const auto& [name, src] : loaded)
    if (!targets.contains(name)) unexpected.push_back(name);

  // Like PyTorch, report every problem at once, so one run shows all renames
  // a checkpoint needs.
  std::string problems;
  if (strict && !missing.empty()) problems += "\n  missing keys: " + quoted_list(missing);
  if (strict && !unexpected.empty()) problems += "\n  unexpected keys: " + quoted_list(unexpected);
  for (const auto& m : mismatches) problems += "\n  " + m;
  FLUXION_CHECK(problems.empty(), "load_into: error(s) loading '", source, "':", problems);

  NoGradGuard no_grad;  // so parameters that require grad accept the copy
  for (const auto& [name, target] : targets) {
    const auto it = loaded.find(name);
    if (it == loaded.end()) continue;
    Tensor handle = target;  // shares the TensorImpl: copy_ writes the target's memory
    handle.copy_(it->second);
  }
}

}  // namespace fluxion
