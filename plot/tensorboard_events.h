//! @file
//! TensorBoard event files, written by Fluxion: the TFRecord framing (with
//! its masked CRC-32C) and the few protobuf messages a run's scalars and
//! histograms need (Event, Summary, Summary.Value, HistogramProto,
//! SessionLog), with the field numbers of TensorBoard's own protos
//! (tensorboard/compat/proto/event.proto, summary.proto, histogram.proto).
//!
//! Why no protobuf library: the build has libprotobuf but no protoc to
//! generate the classes, and five small messages need only varints, 64- and
//! 32-bit fixed fields and length-delimited fields; nor does Debian ship a
//! CRC-32C library. tests/test_tensorboard.cpp holds the encoder to bytes
//! that TensorBoard's Python protobuf classes wrote
//! (scripts/make_tensorboard_fixture.py), and scripts/check_tensorboard.py
//! reads a whole run with TensorBoard's own reader.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace fluxion::plot::tensorboard {

/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as TFRecord and
/// iSCSI use it: crc32c("123456789") = 0xE3069283.
std::uint32_t crc32c(std::string_view bytes);

/// TFRecord's masked CRC: ((crc >> 15) | (crc << 17)) + 0xa282ead8, so that
/// a CRC of data that itself holds CRCs stays well mixed.
std::uint32_t masked_crc32c(std::string_view bytes);

/// One TFRecord: the length as a little-endian uint64, the masked CRC-32C
/// of those 8 bytes, the data, the masked CRC-32C of the data.
std::string tfrecord(std::string_view data);

/// HistogramProto: bucket i counts the values in [bucket_limit[i-1],
/// bucket_limit[i]) (the first from -infinity).
struct Histogram {
  double min = 0, max = 0, num = 0, sum = 0, sum_squares = 0;
  std::vector<double> bucket_limit, bucket;
};

/// The histogram TensorFlow's C++ summary op (tensorflow/core/lib/histogram)
/// makes, which TensorBoard's histogram and distribution views expect:
/// exponential buckets growing by 10% from 1e-12 to 1e20, mirrored for the
/// negative values, with 0 and +-DBL_MAX as limits; each run of empty
/// buckets is collapsed into the last of them, so a weight tensor costs a
/// few hundred buckets, not 1,548. Values that are NaN or infinite are left
/// out (TensorBoard's charts cannot place them); with none left, the one
/// bucket (DBL_MAX, 0) of TensorFlow's empty histogram.
Histogram make_histogram(std::span<const float> values);

/// Summary.Value: a tag with either a scalar or a histogram.
struct SummaryValue {
  std::string tag;
  std::optional<float> simple_value;
  std::optional<Histogram> histo;
};

/// Event: exactly one of file_version, summary, or a SessionLog START
/// (which tells a reader that the events it read before at steps >= `step`
/// belong to a killed run, and to drop them).
struct Event {
  double wall_time = 0;  ///< seconds since the epoch
  std::int64_t step = 0;
  std::optional<std::string> file_version;  ///< "brain.Event:2" opens a file
  std::vector<SummaryValue> summary;
  bool session_start = false;
};

/// The Event's protobuf wire bytes: fields in number order, proto3 scalars
/// left out when zero (as protobuf writes them), the members of a oneof
/// (file_version, summary, session_log; simple_value, histo) always written.
std::string encode(const Event& event);

/// Appends events to DIR/events.out.tfevents.SECONDS.HOST (the Unix time and the host name),
/// the name TensorBoard looks for (.1, .2, ... added where a file of that
/// name exists: two opens within one second). The first record is the
/// file_version event. Records are buffered until flush(), which also
/// fsyncs: what a crash can lose is what came after the last flush.
class EventWriter {
 public:
  explicit EventWriter(const std::filesystem::path& dir);
  ~EventWriter();
  EventWriter(const EventWriter&) = delete;
  EventWriter& operator=(const EventWriter&) = delete;

  void write(const Event& event);
  /// InputError naming the file when it cannot be written.
  void flush();
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  std::FILE* file_ = nullptr;
};

/// Whether `name` is an event file's name (a folder check: a run's own files).
bool is_event_file_name(std::string_view name);

/// The seconds since the Unix epoch, as Event::wall_time holds them.
double wall_time_now();

}  // namespace fluxion::plot::tensorboard
