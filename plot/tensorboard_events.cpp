#include "plot/tensorboard_events.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <cfloat>
#include <chrono>
#include <cmath>
#include <cstring>

#include "core/error.h"

namespace fluxion::plot::tensorboard {
namespace fs = std::filesystem;

namespace {

// The byte-at-a-time table of the reflected Castagnoli polynomial: entry n
// is the CRC of the byte n alone.
constexpr std::array<std::uint32_t, 256> make_crc_table() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t n = 0; n < 256; ++n) {
    std::uint32_t c = n;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    table[n] = c;
  }
  return table;
}
constexpr std::array<std::uint32_t, 256> kCrcTable = make_crc_table();

// The protobuf wire format, as far as these messages need it: a field is a
// varint key (number << 3 | wire type), then a varint (type 0), 8
// little-endian bytes (type 1), a varint length and the bytes (type 2), or
// 4 little-endian bytes (type 5).
enum WireType : std::uint32_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out += static_cast<char>((v & 0x7F) | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
}

void put_little_endian(std::string& out, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
}

void put_key(std::string& out, std::uint32_t field, WireType type) { put_varint(out, (field << 3) | type); }

void put_double_value(std::string& out, double v) { put_little_endian(out, std::bit_cast<std::uint64_t>(v), 8); }

// A proto3 double outside a oneof: left out when its bits are zero (+0.0),
// as protobuf does (-0.0 is written).
void put_double(std::string& out, std::uint32_t field, double v) {
  if (std::bit_cast<std::uint64_t>(v) == 0) return;
  put_key(out, field, kFixed64);
  put_double_value(out, v);
}

void put_float(std::string& out, std::uint32_t field, float v) {  // in a oneof: always written
  put_key(out, field, kFixed32);
  put_little_endian(out, std::bit_cast<std::uint32_t>(v), 4);
}

void put_bytes(std::string& out, std::uint32_t field, std::string_view bytes) {
  put_key(out, field, kLengthDelimited);
  put_varint(out, bytes.size());
  out += bytes;
}

// A packed repeated double: one length-delimited field of 8-byte values;
// left out when empty.
void put_packed_doubles(std::string& out, std::uint32_t field, const std::vector<double>& values) {
  if (values.empty()) return;
  std::string packed;
  for (double v : values) put_double_value(packed, v);
  put_bytes(out, field, packed);
}

// HistogramProto (histogram.proto): min 1, max 2, num 3, sum 4,
// sum_squares 5, bucket_limit 6, bucket 7.
std::string encode_histogram(const Histogram& h) {
  std::string out;
  put_double(out, 1, h.min);
  put_double(out, 2, h.max);
  put_double(out, 3, h.num);
  put_double(out, 4, h.sum);
  put_double(out, 5, h.sum_squares);
  put_packed_doubles(out, 6, h.bucket_limit);
  put_packed_doubles(out, 7, h.bucket);
  return out;
}

// Summary.Value (summary.proto): tag 1, and of the oneof value
// simple_value 2 (float) or histo 5.
std::string encode_value(const SummaryValue& v) {
  std::string out;
  if (!v.tag.empty()) put_bytes(out, 1, v.tag);
  if (v.simple_value) put_float(out, 2, *v.simple_value);
  if (v.histo) put_bytes(out, 5, encode_histogram(*v.histo));
  return out;
}

// Summary: repeated Value value = 1.
std::string encode_summary(const std::vector<SummaryValue>& values) {
  std::string out;
  for (const SummaryValue& v : values) put_bytes(out, 1, encode_value(v));
  return out;
}

// SessionLog (event.proto): status 1, an enum whose START is 1.
std::string encode_session_start() {
  std::string out;
  put_key(out, 1, kVarint);
  put_varint(out, 1);
  return out;
}

// TensorFlow's default bucket limits (tensorflow/core/lib/histogram/
// histogram.cc, InitDefaultBucketsInner): -DBL_MAX, the negated limits
// in increasing order, 0, then 1e-12 x 1.1^k below 1e20, then DBL_MAX.
const std::vector<double>& default_bucket_limits() {
  static const std::vector<double> limits = [] {
    std::vector<double> positive;
    for (double v = 1.0e-12; v < 1.0e20; v *= 1.1) positive.push_back(v);
    positive.push_back(DBL_MAX);
    std::vector<double> all;
    for (auto it = positive.rbegin(); it != positive.rend(); ++it) all.push_back(-*it);
    all.push_back(0.0);
    all.insert(all.end(), positive.begin(), positive.end());
    return all;
  }();
  return limits;
}

}  // namespace

std::uint32_t crc32c(std::string_view bytes) {
  std::uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char b : bytes) crc = kCrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

std::uint32_t masked_crc32c(std::string_view bytes) {
  const std::uint32_t crc = crc32c(bytes);
  return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

std::string tfrecord(std::string_view data) {
  std::string out;
  put_little_endian(out, data.size(), 8);
  put_little_endian(out, masked_crc32c(out), 4);
  out += data;
  put_little_endian(out, masked_crc32c(data), 4);
  return out;
}

Histogram make_histogram(std::span<const float> values) {
  const std::vector<double>& limits = default_bucket_limits();
  std::vector<double> counts(limits.size(), 0.0);
  Histogram h;
  h.min = DBL_MAX, h.max = -DBL_MAX;
  for (const float value : values) {
    if (!std::isfinite(value)) continue;
    const double v = value;
    // Bucket b holds [limits[b-1], limits[b]): TensorFlow's upper_bound.
    counts[static_cast<std::size_t>(std::upper_bound(limits.begin(), limits.end(), v) - limits.begin())] += 1;
    h.min = std::min(h.min, v);
    h.max = std::max(h.max, v);
    h.num += 1;
    h.sum += v;
    h.sum_squares += v * v;
  }
  // TensorFlow's EncodeToProto without preserve_zero_buckets: a run of
  // empty buckets becomes its last one.
  for (std::size_t i = 0; i < counts.size();) {
    double end = limits[i], count = counts[i];
    ++i;
    if (count <= 0)
      while (i < counts.size() && counts[i] <= 0) end = limits[i], count = counts[i], ++i;
    h.bucket_limit.push_back(end);
    h.bucket.push_back(count);
  }
  if (h.num == 0) {  // nothing finite: TensorFlow's empty histogram
    h.min = h.max = 0;
    h.bucket_limit = {DBL_MAX};
    h.bucket = {0.0};
  }
  return h;
}

std::string encode(const Event& event) {
  // Event (event.proto): wall_time 1, step 2, and of the oneof what:
  // file_version 3, summary 5, session_log 7.
  std::string out;
  put_double(out, 1, event.wall_time);
  if (event.step != 0) {
    put_key(out, 2, kVarint);
    put_varint(out, static_cast<std::uint64_t>(event.step));  // int64: negatives as 10-byte two's complement
  }
  if (event.file_version) put_bytes(out, 3, *event.file_version);
  else if (event.session_start) put_bytes(out, 7, encode_session_start());
  else put_bytes(out, 5, encode_summary(event.summary));
  return out;
}

bool is_event_file_name(std::string_view name) { return name.starts_with("events.out.tfevents."); }

double wall_time_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

EventWriter::EventWriter(const fs::path& dir) {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') std::strcpy(host, "localhost");
  const auto seconds = static_cast<long long>(std::floor(wall_time_now()));
  const std::string base = "events.out.tfevents." + std::to_string(seconds) + "." + host;
  path_ = dir / base;
  for (int i = 1; fs::exists(path_); ++i) path_ = dir / (base + "." + std::to_string(i));
  file_ = std::fopen(path_.c_str(), "wb");
  FLUXION_CHECK_INPUT(file_ != nullptr, "cannot create the TensorBoard event file ", path_.string(), ": ",
                      std::strerror(errno));
  Event version;
  version.wall_time = wall_time_now();
  version.file_version = "brain.Event:2";
  write(version);
  flush();
}

EventWriter::~EventWriter() {
  if (file_) std::fclose(file_);
}

void EventWriter::write(const Event& event) {
  const std::string record = tfrecord(encode(event));
  FLUXION_CHECK_INPUT(std::fwrite(record.data(), 1, record.size(), file_) == record.size(),
                      "cannot write the TensorBoard event file ", path_.string(), ": ", std::strerror(errno));
}

void EventWriter::flush() {
  FLUXION_CHECK_INPUT(std::fflush(file_) == 0 && fsync(fileno(file_)) == 0, "cannot write the TensorBoard event file ",
                      path_.string(), ": ", std::strerror(errno));
}

}  // namespace fluxion::plot::tensorboard
