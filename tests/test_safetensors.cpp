// Safetensors checkpoints: round trips, the exact bytes on disk, every way a
// corrupt file is rejected, atomic saves, and load_into's key checks.
#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdint>
#include <cmath>
#include <cstring>
#include <limits>
#include <filesystem>
#include <functional>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "core/atomic_file.h"
#include "core/safetensors.h"
#include "helpers.h"

using namespace fluxion;
namespace fs = std::filesystem;

using test::TempDir;

namespace {

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string le64(std::uint64_t v) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[static_cast<std::size_t>(i)] = static_cast<char>((v >> (8 * i)) & 0xff);
  return out;
}

template <class T>
std::string bytes_of(const std::vector<T>& values) {
  return std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
}

// What the reference writer produces: the length, the header padded with
// spaces to a multiple of 8, then the data.
std::string safetensors_bytes(std::string header, const std::string& data) {
  header.append((8 - header.size() % 8) % 8, ' ');
  return le64(header.size()) + header + data;
}

// The message load_safetensors throws for `path`, or "" if it does not throw.
std::string load_error(const std::string& path) {
  try {
    load_safetensors(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// Writes `bytes` to a file, loads it, and checks the error names the file and
// contains `phrase`.
void check_rejected(const std::string& bytes, const std::string& phrase) {
  TempDir dir;
  const std::string path = dir.file("bad.safetensors");
  write_bytes(path, bytes);
  const std::string message = load_error(path);
  INFO("message: ", message);
  CHECK_MESSAGE(!message.empty(), "load_safetensors accepted a corrupt file");
  CHECK(message.find(path) != std::string::npos);
  CHECK(message.find(phrase) != std::string::npos);
}

// A well-formed entry for an F32 [2] tensor over kEightBytes, to build headers from.
const std::string kGoodEntry = R"({"dtype":"F32","shape":[2],"data_offsets":[0,8]})";
const std::string kEightBytes = bytes_of(std::vector<float>{1.0f, 2.0f});

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

// --- round trips --------------------------------------------------------------------

TEST_CASE("safetensors: F32, F64 and I64 tensors and metadata survive a round trip") {
  TempDir dir;
  const std::string path = dir.file("model.safetensors");
  TensorMap tensors{
      {"w32", tensor({1.5, -2.25, 3.0, 1e30, -0.0, 7.0}, {2, 3}, kFloat32)},
      {"w64", tensor({0.1, 1e-300, -3.5}, {3}, kFloat64)},
      {"idx", from_vector<std::int64_t>({-1, 0, (std::int64_t{1} << 62) + 1, 7}, {2, 2})},
      {"scalar", scalar_tensor(4.5, kFloat64)},
      {"empty", zeros({0, 3}, kFloat32)},
      {"empty_inner", zeros({2, 0}, kInt64)},
  };
  const Metadata metadata{{"format", "pt"}, {"epoch", "12"}, {"note", "unicode \xc3\xa9 and \"quotes\""}};
  save_safetensors(path, tensors, metadata);

  const SafetensorsFile file = load_safetensors(path);
  CHECK(file.metadata == metadata);
  REQUIRE(file.tensors.size() == tensors.size());
  for (const auto& [name, original] : tensors) {
    CAPTURE(name);
    REQUIRE(file.tensors.contains(name));
    const Tensor& t = file.tensors.at(name);
    CHECK(t.dtype() == original.dtype());
    CHECK(t.shape() == original.shape());
    CHECK(t.is_contiguous());
    CHECK(t.device() == kCPU);
    CHECK(t.storage() != original.storage());
  }
  CHECK(file.tensors.at("w32").to_vector<float>() == tensors.at("w32").to_vector<float>());
  CHECK(file.tensors.at("w64").to_vector<double>() == tensors.at("w64").to_vector<double>());
  CHECK(file.tensors.at("idx").to_vector<std::int64_t>() == tensors.at("idx").to_vector<std::int64_t>());
  CHECK(file.tensors.at("scalar").item<double>() == 4.5);
  CHECK(file.tensors.at("scalar").dim() == 0);
}

TEST_CASE("safetensors: non-contiguous tensors are written row-major") {
  TempDir dir;
  const std::string path = dir.file("views.safetensors");
  Tensor base = arange(0, 12, 1, kFloat32).reshape({3, 4});
  Tensor transposed = base.t();                              // [4, 3], strides [1, 4]
  Tensor strided = arange(0, 20, 1, kInt64).slice(0, 1, 20, 3);  // 1, 4, 7, ...
  Tensor permuted = test::make_tensor({1, 2, 3, 4, 5, 6}, {2, 3}, test::Layout::permuted, kFloat64);
  REQUIRE(!transposed.is_contiguous());
  REQUIRE(!strided.is_contiguous());
  REQUIRE(!permuted.is_contiguous());
  save_safetensors(path, {{"t", transposed}, {"s", strided}, {"p", permuted}});

  const SafetensorsFile file = load_safetensors(path);
  CHECK(file.tensors.at("t").shape() == Shape{4, 3});
  CHECK(file.tensors.at("t").to_vector<float>() == transposed.to_vector<float>());
  CHECK(file.tensors.at("s").to_vector<std::int64_t>() == std::vector<std::int64_t>{1, 4, 7, 10, 13, 16, 19});
  CHECK(file.tensors.at("p").to_vector<double>() == std::vector<double>{1, 2, 3, 4, 5, 6});
}

TEST_CASE("safetensors: parameters that require grad save and no graph is recorded") {
  TempDir dir;
  const std::string path = dir.file("params.safetensors");
  Tensor w = tensor({1, 2, 3, 4}, {2, 2}, kFloat32).requires_grad_();
  save_safetensors(path, {{"w", w.t()}});  // a tracked view: saving must not need a graph
  const Tensor loaded = load_safetensors(path).tensors.at("w");
  CHECK(!loaded.requires_grad());
  CHECK(loaded.to_vector<float>() == std::vector<float>{1, 3, 2, 4});
}

TEST_CASE("safetensors: an empty map round trips") {
  TempDir dir;
  const std::string path = dir.file("empty.safetensors");
  save_safetensors(path, {});
  CHECK(read_bytes(path) == le64(8) + "{}      ");
  const SafetensorsFile file = load_safetensors(path);
  CHECK(file.tensors.empty());
  CHECK(file.metadata.empty());
}

// --- bytes on disk -------------------------------------------------------------------

TEST_CASE("safetensors: a tiny file has exactly the expected bytes") {
  TempDir dir;
  const std::string path = dir.file("tiny.safetensors");
  save_safetensors(path, {{"a", tensor({1.0, 2.0}, kFloat32)}});
  // 54 bytes of JSON, keys sorted, padded with 2 spaces to 56 so the data
  // starts at offset 8 + 56 = 64, a multiple of 8.
  const std::string expected = std::string("\x38\0\0\0\0\0\0\0", 8) +
                               R"({"a":{"data_offsets":[0,8],"dtype":"F32","shape":[2]}})" + "  " +
                               std::string("\x00\x00\x80\x3f\x00\x00\x00\x40", 8);  // 1.0f, 2.0f little-endian
  const std::string actual = read_bytes(path);
  CHECK(actual.size() == 72);
  CHECK(actual == expected);
}

TEST_CASE("safetensors: header keys are sorted and data follows in the same order, aligned") {
  TempDir dir;
  const std::string path = dir.file("order.safetensors");
  save_safetensors(path, {{"b", tensor({2.0}, kFloat64)}, {"a", tensor({1.0}, kFloat32)}},
                   {{"k", "v"}});
  const std::string bytes = read_bytes(path);
  std::uint64_t length = 0;
  std::memcpy(&length, bytes.data(), 8);
  CHECK(length % 8 == 0);
  const std::string header = bytes.substr(8, length);
  CHECK(header.starts_with(R"({"__metadata__":{"k":"v"},"a":{"data_offsets":[0,4],"dtype":"F32","shape":[1]},)"
                           R"("b":{"data_offsets":[4,12],"dtype":"F64","shape":[1]}})"));
  CHECK(header.find_first_not_of(' ', header.find_last_of('}') + 1) == std::string::npos);
  CHECK(bytes.size() == 8 + length + 12);
  CHECK(bytes.substr(8 + length) == bytes_of(std::vector<float>{1.0f}) + bytes_of(std::vector<double>{2.0}));
}

TEST_CASE("safetensors: reads a file laid out as the Python reference writes it") {
  TempDir dir;
  const std::string path = dir.file("reference.safetensors");
  // The reference orders each entry's fields dtype, shape, data_offsets.
  const std::string header = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  REQUIRE(header.size() == 54);
  write_bytes(path, le64(56) + header + "  " + bytes_of(std::vector<float>{0.5f, -3.0f}));
  const SafetensorsFile file = load_safetensors(path);
  REQUIRE(file.tensors.size() == 1);
  CHECK(file.tensors.at("a").dtype() == kFloat32);
  CHECK(file.tensors.at("a").shape() == Shape{2});
  CHECK(file.tensors.at("a").to_vector<float>() == std::vector<float>{0.5f, -3.0f});
  CHECK(file.metadata.empty());
}

// F16 and BF16 bit patterns written by hand (IEEE 754 binary16 and bfloat16,
// the top half of a float32), each beside the float32 it stands for.
TEST_CASE("safetensors: F16 tensors widen exactly to float32: normals, subnormals, zeros, infinities, NaN") {
  TempDir dir;
  const std::string path = dir.file("half.safetensors");
  const std::vector<std::uint16_t> bits{
      0x3c00,  // 1.0
      0xc100,  // -2.5
      0x7bff,  // 65504, the largest finite
      0x0400,  // 2^-14, the smallest normal
      0x0001,  // 2^-24, the smallest subnormal
      0x83ff,  // -(1023 * 2^-24), the largest subnormal, negative
      0x8000,  // -0.0
      0x7c00,  // +inf
      0xfc00,  // -inf
      0x7e00,  // NaN
  };
  write_bytes(path, safetensors_bytes(R"({"h":{"dtype":"F16","shape":[2,5],"data_offsets":[0,20]}})", bytes_of(bits)));
  const Tensor h = load_safetensors(path).tensors.at("h");
  CHECK(h.dtype() == kFloat32);
  CHECK(h.shape() == Shape{2, 5});
  const std::vector<float> v = h.to_vector<float>();
  CHECK(v[0] == 1.0f);
  CHECK(v[1] == -2.5f);
  CHECK(v[2] == 65504.0f);
  CHECK(v[3] == std::ldexp(1.0f, -14));
  CHECK(v[4] == std::ldexp(1.0f, -24));
  CHECK(v[5] == -std::ldexp(1023.0f, -24));
  CHECK(v[6] == 0.0f);
  CHECK(std::signbit(v[6]));
  CHECK(v[7] == std::numeric_limits<float>::infinity());
  CHECK(v[8] == -std::numeric_limits<float>::infinity());
  CHECK(std::isnan(v[9]));
}

TEST_CASE("safetensors: BF16 tensors widen exactly to float32") {
  TempDir dir;
  const std::string path = dir.file("bfloat.safetensors");
  const std::vector<std::uint16_t> bits{0x3f80, 0xc020, 0x0001, 0x7f80, 0xff80, 0x7fc0, 0x4049};
  write_bytes(path, safetensors_bytes(R"({"b":{"dtype":"BF16","shape":[7],"data_offsets":[0,14]}})", bytes_of(bits)));
  const std::vector<float> v = load_safetensors(path).tensors.at("b").to_vector<float>();
  CHECK(v[0] == 1.0f);
  CHECK(v[1] == -2.5f);
  CHECK(v[2] == std::ldexp(1.0f, -133));  // a float32 subnormal: bfloat16 shares float32's exponent
  CHECK(v[3] == std::numeric_limits<float>::infinity());
  CHECK(v[4] == -std::numeric_limits<float>::infinity());
  CHECK(std::isnan(v[5]));
  CHECK(v[6] == 3.140625f);  // pi rounded to bfloat16's 8 significant bits
}

TEST_CASE("safetensors: an F16 tensor's byte count is two bytes per element, and a wrong one is rejected") {
  check_rejected(safetensors_bytes(R"({"w":{"dtype":"F16","shape":[2],"data_offsets":[0,8]}})", kEightBytes),
                 "tensor 'w': dtype F16 and shape [2] need 4 bytes");
}

TEST_CASE("safetensors: a module loads F16 weights into its float32 parameters") {
  TempDir dir;
  const std::string path = dir.file("module.safetensors");
  const std::vector<std::uint16_t> bits{0x3c00, 0xc100, 0x3800};  // 1, -2.5, 0.5
  write_bytes(path, safetensors_bytes(R"({"w":{"dtype":"F16","shape":[3],"data_offsets":[0,6]}})", bytes_of(bits)));
  Tensor w = zeros({3}, kFloat32);
  load_into({{"w", w}}, load_safetensors(path).tensors, true, path);
  CHECK(w.to_vector<float>() == std::vector<float>{1.0f, -2.5f, 0.5f});
}

// --- validation: one test per way a file can be wrong ---------------------------------

TEST_CASE("safetensors: a missing file is an error naming it") {
  TempDir dir;
  const std::string path = dir.file("absent.safetensors");
  const std::string message = load_error(path);
  CHECK(contains(message, path));
  CHECK(contains(message, "cannot open"));
  CHECK(contains(message, "No such file"));
}

TEST_CASE("safetensors: a file shorter than 8 bytes is rejected") {
  check_rejected("", "shorter than the 8-byte header length");
  check_rejected(std::string("\x02\0\0\0\0", 5), "shorter than the 8-byte header length");
}

TEST_CASE("safetensors: a header length past the end of the file is rejected") {
  check_rejected(le64(100) + R"({"a":1})", "runs past the end of the file");
}

TEST_CASE("safetensors: an absurdly large header length is rejected") {
  check_rejected(le64(std::uint64_t{1} << 40) + "{}", "absurdly large");
  check_rejected(le64(~std::uint64_t{0}) + "{}", "absurdly large");
}

TEST_CASE("safetensors: a header that is not JSON is rejected") {
  check_rejected(safetensors_bytes(R"({"a":{"dtype":)", ""), "not valid JSON");
  check_rejected(safetensors_bytes("\xff\xfe", ""), "not valid JSON");
}

TEST_CASE("safetensors: a header that is not a JSON object is rejected") {
  check_rejected(safetensors_bytes("[1,2]", ""), "must be a JSON object, got a JSON array");
}

TEST_CASE("safetensors: an entry that is not an object is rejected") {
  check_rejected(safetensors_bytes(R"({"w":[0,8]})", kEightBytes), "tensor 'w': expected an object");
}

TEST_CASE("safetensors: an entry without dtype, shape or data_offsets is rejected") {
  check_rejected(safetensors_bytes(R"({"w":{"shape":[2],"data_offsets":[0,8]}})", kEightBytes),
                 "tensor 'w': missing \"dtype\"");
  check_rejected(safetensors_bytes(R"({"w":{"dtype":"F32","data_offsets":[0,8]}})", kEightBytes),
                 "tensor 'w': missing \"shape\"");
  check_rejected(safetensors_bytes(R"({"w":{"dtype":"F32","shape":[2]}})", kEightBytes),
                 "tensor 'w': missing \"data_offsets\"");
}

TEST_CASE("safetensors: an unknown dtype is rejected, listing the supported ones") {
  check_rejected(safetensors_bytes(R"({"w":{"dtype":"F8_E4M3","shape":[8],"data_offsets":[0,8]}})", kEightBytes),
                 "tensor 'w': unsupported dtype \"F8_E4M3\" (Fluxion reads F32, F64, I64, and F16 and BF16 into "
                 "float32)");
  check_rejected(safetensors_bytes(R"({"w":{"dtype":32,"shape":[2],"data_offsets":[0,8]}})", kEightBytes),
                 "unsupported dtype 32");
}

TEST_CASE("safetensors: a negative shape entry is rejected") {
  check_rejected(safetensors_bytes(R"({"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", kEightBytes),
                 "tensor 'w': shape must be an array of non-negative integers, got [-2]");
}

TEST_CASE("safetensors: a non-integer shape entry is rejected") {
  check_rejected(safetensors_bytes(R"({"w":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}})", kEightBytes),
                 "tensor 'w': shape must be an array of non-negative integers");
  check_rejected(safetensors_bytes(R"({"w":{"dtype":"F32","shape":["2"],"data_offsets":[0,8]}})", kEightBytes),
                 "shape must be an array of non-negative integers");
  check_rejected(safetensors_bytes(R"({"w":{"dtype":"F32","shape":2,"data_offsets":[0,8]}})", kEightBytes),
                 "shape must be an array of non-negative integers");
}

TEST_CASE("safetensors: data_offsets that are not two non-decreasing integers are rejected") {
  const std::string phrase = "tensor 'w': data_offsets must be two non-decreasing non-negative integers";
  for (const char* offsets : {"[8,0]", "[0]", "[0,8,8]", "[0,8.0]", "[-1,7]", "\"0,8\""}) {
    CAPTURE(offsets);
    check_rejected(
        safetensors_bytes(std::string(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":)") + offsets + "}}",
                          kEightBytes),
        phrase);
  }
}

TEST_CASE("safetensors: a byte count that does not match the shape is rejected") {
  check_rejected(safetensors_bytes(R"({"w":{"dtype":"F64","shape":[2],"data_offsets":[0,8]}})", kEightBytes),
                 "tensor 'w': dtype F64 and shape [2] need 16 bytes, but data_offsets [0, 8] span 8");
  // A shape whose byte count overflows 64 bits must not wrap around to a match.
  check_rejected(safetensors_bytes(
                     R"({"w":{"dtype":"F32","shape":[4294967296,4294967296,2],"data_offsets":[0,8]}})",
                     kEightBytes),
                 "need more than 2^64 bytes");
}

TEST_CASE("safetensors: offsets past the end of the data buffer are rejected") {
  check_rejected(safetensors_bytes(R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", kEightBytes),
                 "tensor 'w': data_offsets [0, 16] run past the end of the data buffer (8 bytes");
}

TEST_CASE("safetensors: overlapping tensors are rejected") {
  const std::string data = kEightBytes + kEightBytes;
  check_rejected(safetensors_bytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                                   R"("b":{"dtype":"F32","shape":[3],"data_offsets":[4,16]}})",
                                   data),
                 "tensors 'a' (bytes [0, 8)) and 'b' (bytes [4, 16)) overlap");
  // Two names for the same bytes.
  check_rejected(safetensors_bytes(R"({"a":)" + kGoodEntry + R"(,"b":)" + kGoodEntry + "}", kEightBytes),
                 "overlap");
}

TEST_CASE("safetensors: bytes not covered by any tensor are rejected") {
  // A hole between two tensors.
  check_rejected(safetensors_bytes(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                                   R"("b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})",
                                   kEightBytes + kEightBytes),
                 "bytes [4, 8) of the data buffer are not covered by any tensor (metadata incomplete buffer)");
  // Trailing bytes after the last tensor.
  check_rejected(safetensors_bytes(R"({"a":)" + kGoodEntry + "}", kEightBytes + "xyz"),
                 "bytes [8, 11) of the data buffer are not covered by any tensor");
  // A hole at the start.
  check_rejected(safetensors_bytes(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", kEightBytes),
                 "bytes [0, 4) of the data buffer are not covered");
}

TEST_CASE("safetensors: __metadata__ that is not an object of strings is rejected") {
  check_rejected(safetensors_bytes(R"({"__metadata__":["x"],"a":)" + kGoodEntry + "}", kEightBytes),
                 "\"__metadata__\" must be an object of strings, got a JSON array");
  check_rejected(safetensors_bytes(R"({"__metadata__":{"epoch":3},"a":)" + kGoodEntry + "}", kEightBytes),
                 "\"__metadata__\" must be an object of strings, but \"epoch\" holds a JSON number");
}

TEST_CASE("safetensors: empty tensors may share an offset with their neighbours") {
  TempDir dir;
  const std::string path = dir.file("empties.safetensors");
  write_bytes(path, safetensors_bytes(R"({"a":)" + kGoodEntry +
                                          R"(,"e":{"dtype":"I64","shape":[0,5],"data_offsets":[8,8]},)"
                                          R"("f":{"dtype":"F64","shape":[0],"data_offsets":[0,0]}})",
                                      kEightBytes));
  const SafetensorsFile file = load_safetensors(path);
  CHECK(file.tensors.at("e").shape() == Shape{0, 5});
  CHECK(file.tensors.at("f").numel() == 0);
  CHECK(file.tensors.at("a").to_vector<float>() == std::vector<float>{1.0f, 2.0f});
}

// --- saving: atomicity and errors --------------------------------------------------------

TEST_CASE("safetensors: saving over an existing file replaces it whole and leaves no temporary") {
  TempDir dir;
  const std::string path = dir.file("ckpt.safetensors");
  save_safetensors(path, {{"big", zeros({1000}, kFloat64)}, {"old", ones({3})}}, {{"v", "1"}});
  const auto big_size = fs::file_size(path);
  save_safetensors(path, {{"small", tensor({5.0})}});

  CHECK(fs::file_size(path) < big_size);
  const SafetensorsFile file = load_safetensors(path);
  CHECK(file.tensors.size() == 1);
  CHECK(file.tensors.at("small").item<float>() == 5.0f);
  CHECK(file.metadata.empty());

  // The second file is byte for byte what a fresh save writes.
  const std::string fresh = dir.file("fresh.safetensors");
  save_safetensors(fresh, {{"small", tensor({5.0})}});
  CHECK(read_bytes(fresh) == read_bytes(path));

  for (const auto& entry : fs::directory_iterator(dir.path)) {
    CAPTURE(entry.path().string());
    CHECK(!contains(entry.path().filename().string(), ".tmp."));
  }
}

TEST_CASE("atomic files: temporaries of a killed writer are removed, a live writer's are kept") {
  TempDir dir;
  // A pid that surely names no process: a child that has exited and been reaped.
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) ::_exit(0);
  ::waitpid(child, nullptr, 0);
  const std::string dead = std::to_string(child), self = std::to_string(::getpid());
  const std::string parent = std::to_string(::getppid());  // alive: it runs this test
  // This machine as temporaries name it: the host name, letters, digits and '-'.
  char host_name[256] = {};
  ::gethostname(host_name, sizeof host_name - 1);
  std::string host = host_name;
  for (char& c : host) c = std::isalnum(static_cast<unsigned char>(c)) || c == '-' ? c : '-';
  const std::string removable[] = {"last.safetensors.tmp." + host + "." + dead + ".0",
                                   "metrics.jsonl.tmp." + host + "." + dead + ".17"};
  const std::string kept[] = {
      "last.safetensors.tmp." + host + "." + self + ".3",    // this process
      "last.safetensors.tmp." + host + "." + parent + ".4",  // another live one
      "last.safetensors.tmp.elsewhere." + dead + ".5",       // another machine's: its pid means nothing here
      "x.tmp." + host + "." + dead + ".",                    // names that only look alike
      ".tmp." + host + "." + dead + ".1",
      "x.tmp." + host + ".1x.2",
      "notes.tmp.txt",
      "last.safetensors"};
  for (const std::string& name : removable) std::ofstream(dir.file(name)) << "x";
  for (const std::string& name : kept) std::ofstream(dir.file(name)) << "x";
  std::vector<std::string> removed = remove_stale_temporaries(dir.path.string());
  std::sort(removed.begin(), removed.end());
  CHECK(removed == std::vector<std::string>(std::begin(removable), std::end(removable)));
  for (const std::string& name : removable) CHECK(!fs::exists(dir.file(name)));
  for (const std::string& name : kept) {
    CAPTURE(name);
    CHECK(fs::exists(dir.file(name)));
  }
  CHECK(remove_stale_temporaries(dir.file("no-such-folder")).empty());
}

TEST_CASE("safetensors: saving into a missing directory throws naming the path and writes nothing") {
  TempDir dir;
  const std::string path = dir.file("no/such/dir/ckpt.safetensors");
  const std::string message = test::error_message([&] { save_safetensors(path, {{"w", ones({2})}}); });
  CHECK(contains(message, path));
  CHECK(contains(message, "No such file or directory"));
  CHECK(!fs::exists(path));
}

TEST_CASE("safetensors: a failed save leaves the previous file untouched") {
  TempDir dir;
  const std::string path = dir.file("keep.safetensors");
  save_safetensors(path, {{"w", ones({2})}});
  const std::string before = read_bytes(path);
  // An invalid UTF-8 name fails while encoding the header, before anything is written.
  const std::string message = test::error_message([&] { save_safetensors(path, {{"bad\xff", ones({2})}}); });
  CHECK(contains(message, path));
  CHECK(read_bytes(path) == before);
  CHECK(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator()) == 1);
}

TEST_CASE("safetensors: a tensor cannot be named __metadata__") {
  TempDir dir;
  const std::string path = dir.file("reserved.safetensors");
  const std::string message = test::error_message([&] { save_safetensors(path, {{"__metadata__", ones({1})}}); });
  CHECK(contains(message, path));
  CHECK(contains(message, "reserved"));
  CHECK(!fs::exists(path));
}

// --- load_into --------------------------------------------------------------------------

TEST_CASE("safetensors: load_into copies into parameters that require grad") {
  Tensor w = zeros({2, 2}).requires_grad_();
  Tensor b = zeros({2}).requires_grad_();
  const Tensor w_before = w;
  load_into({{"w", w}, {"b", b}}, {{"w", tensor({1, 2, 3, 4}, {2, 2})}, {"b", tensor({5, 6})}}, true, "ckpt");
  CHECK(w.to_vector<float>() == std::vector<float>{1, 2, 3, 4});
  CHECK(b.to_vector<float>() == std::vector<float>{5, 6});
  CHECK(w.impl() == w_before.impl());  // the same parameter, filled in place
  CHECK(w.requires_grad());
  CHECK(w.is_leaf());
}

TEST_CASE("safetensors: load_into strict lists every missing and unexpected key at once") {
  Tensor a = zeros({2}), b = zeros({2}), c = zeros({2});
  const TensorMap targets{{"a", a}, {"layer.weight", b}, {"layer.bias", c}};
  const TensorMap loaded{{"a", ones({2})}, {"extra", ones({1})}};
  const std::string message = test::error_message([&] { load_into(targets, loaded, true, "/ckpt/model.safetensors"); });
  INFO("message: ", message);
  CHECK(contains(message, "/ckpt/model.safetensors"));
  CHECK(contains(message, "missing keys: \"layer.bias\", \"layer.weight\""));
  CHECK(contains(message, "unexpected keys: \"extra\""));
  CHECK(a.to_vector<float>() == std::vector<float>{0, 0});  // nothing copied when anything is wrong

  // Not strict: the keys both sides have are copied and the rest ignored.
  load_into(targets, loaded, false, "/ckpt/model.safetensors");
  CHECK(a.to_vector<float>() == std::vector<float>{1, 1});
  CHECK(b.to_vector<float>() == std::vector<float>{0, 0});
}

TEST_CASE("safetensors: load_into reports shape and dtype mismatches naming key and both sides") {
  const TensorMap targets{{"w", zeros({3, 2})}, {"idx", zeros({4}, kInt64)}};
  const TensorMap loaded{{"w", ones({2, 3})}, {"idx", ones({4}, kFloat32)}};
  for (bool strict : {true, false}) {
    CAPTURE(strict);
    const std::string message = test::error_message([&] { load_into(targets, loaded, strict, "m.safetensors"); });
    INFO("message: ", message);
    CHECK(contains(message, "shape mismatch for \"w\": [2, 3] in 'm.safetensors', [3, 2] in the target"));
    CHECK(contains(message, "dtype mismatch for \"idx\": float32 in 'm.safetensors', int64 in the target"));
  }
  CHECK(targets.at("w").to_vector<float>() == std::vector<float>(6, 0.0f));
}

TEST_CASE("safetensors: save then load_into restores a set of parameters") {
  TempDir dir;
  const std::string path = dir.file("state.safetensors");
  Generator gen(7);
  const TensorMap saved{{"w", randn({4, 3}, kFloat32, &gen)}, {"b", randn({3}, kFloat64, &gen)}};
  save_safetensors(path, saved);
  const TensorMap fresh{{"w", zeros({4, 3}).requires_grad_()}, {"b", zeros({3}, kFloat64).requires_grad_()}};
  load_into(fresh, load_safetensors(path).tensors, true, path);
  CHECK(fresh.at("w").to_vector<float>() == saved.at("w").to_vector<float>());
  CHECK(fresh.at("b").to_vector<double>() == saved.at("b").to_vector<double>());
}
