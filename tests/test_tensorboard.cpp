// TensorBoard event files (plot/tensorboard_events.h): CRC-32C against its
// standard check value and RFC 3720's vectors, the framing and protobuf
// encoding byte for byte against records that TensorBoard's own Python
// classes wrote (tests/fixtures/tensorboard_events.json, from
// scripts/make_tensorboard_fixture.py), TensorFlow's histogram buckets, and
// the writer's file. scripts/check_tensorboard.py reads whole runs with
// TensorBoard's reader (ctest -R tensorboard).
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <cfloat>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include "fixture_file.h"
#include "autograd/ops.h"
#include "helpers.h"
#include "layers/models/registry.h"
#include "optim/make_optimizer.h"
#include "plot/tensorboard_events.h"
#include "train/tensorboard_log.h"


using namespace fluxion;
using test::TempDir;
namespace tb = fluxion::plot::tensorboard;

namespace {

std::string hex(const std::string& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) out += {digits[b >> 4], digits[b & 15]};
  return out;
}

std::string read_all(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The fixture's event fields as the writer's Event.
tb::Event event_from(const nlohmann::json& f) {
  tb::Event e;
  e.wall_time = f.at("wall_time").get<double>();
  e.step = f.at("step").get<std::int64_t>();
  if (f.contains("file_version")) e.file_version = f["file_version"].get<std::string>();
  if (f.contains("session_start")) e.session_start = true;
  if (f.contains("scalars"))
    for (const auto& s : f["scalars"]) e.summary.push_back({s[0].get<std::string>(), s[1].get<float>(), {}});
  if (f.contains("histogram")) {
    const nlohmann::json& h = f["histogram"];
    tb::Histogram histo;
    histo.min = h["min"], histo.max = h["max"], histo.num = h["num"], histo.sum = h["sum"];
    histo.sum_squares = h["sum_squares"];
    histo.bucket_limit = h["bucket_limit"].get<std::vector<double>>();
    histo.bucket = h["bucket"].get<std::vector<double>>();
    e.summary.push_back({f["histogram_tag"].get<std::string>(), {}, histo});
  }
  return e;
}

}  // namespace

TEST_CASE("tensorboard: CRC-32C has the standard check value and RFC 3720's vectors") {
  CHECK(tb::crc32c("123456789") == 0xE3069283u);
  std::string ascending, descending;
  for (int i = 0; i < 32; ++i) ascending += static_cast<char>(i), descending += static_cast<char>(31 - i);
  // RFC 3720, B.4: 32 bytes of zeros, of ones, ascending, descending.
  CHECK(tb::crc32c(std::string(32, '\0')) == 0x8A9136AAu);
  CHECK(tb::crc32c(std::string(32, '\xff')) == 0x62A8AB43u);
  CHECK(tb::crc32c(ascending) == 0x46DD794Eu);
  CHECK(tb::crc32c(descending) == 0x113FDB5Cu);
  CHECK(tb::crc32c("") == 0u);
  // The mask: rotate right by 15, add 0xa282ead8.
  const std::uint32_t crc = 0xE3069283u;
  CHECK(tb::masked_crc32c("123456789") == static_cast<std::uint32_t>(((crc >> 15) | (crc << 17)) + 0xa282ead8u));
}

TEST_CASE("tensorboard: events are framed and encoded byte for byte as TensorBoard's protobuf classes write them") {
  const nlohmann::json fixture =
      test::fixture_json("tensorboard_events.json", ".venv-compare/bin/python scripts/make_tensorboard_fixture.py");
  REQUIRE(fixture.at("events").size() >= 7);
  for (const nlohmann::json& c : fixture["events"]) {
    CAPTURE(c["name"].get<std::string>());
    CHECK(hex(tb::tfrecord(tb::encode(event_from(c["fields"])))) == c["record_hex"].get<std::string>());
  }
}

TEST_CASE("tensorboard: histograms have TensorFlow's exponential buckets, empty runs collapsed") {
  // 0.5 lies in [0.5 / 1.1^k ...): the bucket whose limit is the first
  // default limit above it; 0 in [0, 1e-12); -0.5 below -0.5's limit.
  const std::vector<float> values = {0.5f, 0.5f, 0.0f, -0.5f, 1e-13f, NAN, INFINITY};
  const tb::Histogram h = tb::make_histogram(values);
  CHECK(h.num == 5);  // NaN and inf left out
  CHECK(h.min == -0.5);
  CHECK(h.max == 0.5);
  CHECK(h.sum == doctest::Approx(0.5 + 1e-13).epsilon(1e-6));
  CHECK(h.sum_squares == doctest::Approx(0.75));
  REQUIRE(h.bucket.size() == h.bucket_limit.size());
  CHECK(std::accumulate(h.bucket.begin(), h.bucket.end(), 0.0) == 5);
  CHECK(h.bucket_limit.back() == DBL_MAX);
  // Limits increase; no two empty buckets in a row (runs are collapsed).
  for (std::size_t i = 1; i < h.bucket.size(); ++i) {
    CHECK(h.bucket_limit[i] > h.bucket_limit[i - 1]);
    CHECK((h.bucket[i] > 0 || h.bucket[i - 1] > 0));
  }
  // Each value lies below its bucket's limit and at or above the previous one.
  auto bucket_of = [&](double v) {
    for (std::size_t i = 0; i < h.bucket_limit.size(); ++i)
      if (v < h.bucket_limit[i]) return i;
    return h.bucket_limit.size();
  };
  CHECK(h.bucket[bucket_of(0.5)] == 2);
  CHECK(h.bucket[bucket_of(-0.5)] == 1);
  // 0 and 1e-13 share [0, 1e-12), whose limit is the first default one.
  CHECK(h.bucket[bucket_of(0.0)] == 2);
  CHECK(h.bucket_limit[bucket_of(0.0)] == 1e-12);
  CHECK(h.bucket_limit[bucket_of(0.0) - 1] == 0.0);
  // 0.5's bucket: [1e-12 x 1.1^k, 1e-12 x 1.1^(k+1)) with 0.5 inside.
  const double upper = h.bucket_limit[bucket_of(0.5)];
  CHECK(upper > 0.5);
  CHECK(upper / 1.1 <= 0.5);
}

TEST_CASE("tensorboard: a histogram of nothing finite is TensorFlow's empty one") {
  const std::vector<float> values = {NAN};
  const tb::Histogram h = tb::make_histogram(values);
  CHECK(h.num == 0);
  CHECK(h.min == 0);
  CHECK(h.max == 0);
  CHECK(h.bucket_limit == std::vector<double>{DBL_MAX});
  CHECK(h.bucket == std::vector<double>{0.0});
}

TEST_CASE("tensorboard: the writer's file is named as TensorBoard expects and holds the records written") {
  TempDir dir;
  std::filesystem::path first, second;
  {
    tb::EventWriter writer(dir.path);
    first = writer.path();
    tb::Event e;
    e.step = 1;
    e.wall_time = 5.0;
    e.summary.push_back({"loss", 0.25f, {}});
    writer.write(e);
    writer.flush();
    const std::string bytes = read_all(first);
    tb::Event version;
    version.file_version = "brain.Event:2";
    const std::size_t version_size = tb::tfrecord(tb::encode(version)).size() + 9;  // + wall_time: key and 8 bytes
    REQUIRE(bytes.size() == version_size + tb::tfrecord(tb::encode(e)).size());
    CHECK(bytes.substr(version_size) == tb::tfrecord(tb::encode(e)));
    // A second writer in the same second gets a file of its own.
    tb::EventWriter again(dir.path);
    second = again.path();
  }
  CHECK(tb::is_event_file_name(first.filename().string()));
  CHECK(first.filename().string().starts_with("events.out.tfevents."));
  CHECK(first != second);
  CHECK(tb::is_event_file_name(second.filename().string()));
}

TEST_CASE("tensorboard: a ResNet-20 epoch with AdaBayes writes a few hundred kilobytes") {
  // What the trainer writes per epoch for the model of docs/training.md's
  // cost figures: the size is bounded here (TensorFlow's buckets, empty
  // runs collapsed); the time is printed, not checked.
  manual_seed(0);
  nn::ModulePtr model = nn::make_model("resnet20", 10);
  auto optimizer = optim::make_optimizer("adabayes", model->parameters(), {});
  for (int step = 0; step < 2; ++step) {
    optimizer->zero_grad();
    cross_entropy(model->forward(randn({8, 3, 32, 32})), arange(8.0)).backward();
    optimizer->step();
  }
  TempDir dir;
  train::EpochMetrics m;
  m.epoch = 1;
  const auto t0 = std::chrono::steady_clock::now();
  std::uintmax_t bytes = 0;
  {
    train::TensorBoardLog log(dir.path, 0);
    log.write_epoch(m, train::OptionalColumns{}, *model, *optimizer);
    for (const auto& entry : std::filesystem::directory_iterator(dir.path)) bytes = entry.file_size();
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const std::size_t params = model->named_parameters().size();
  MESSAGE("ResNet-20 (" << params << " parameters), AdaBayes: " << bytes << " bytes and " << seconds
                        << " s for one epoch's events");
  CHECK(bytes > params * 3 * 16);   // three histograms a parameter, each with buckets
  CHECK(bytes < 4 * 1024 * 1024);   // a few hundred buckets each, not TensorFlow's 1,548
}
