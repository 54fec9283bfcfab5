// The dataset readers: IDX (MNIST, Fashion-MNIST) and CIFAR-10/100 binary
// files, plain and gzipped, made here in the official formats; every broken
// variant gives an InputError naming the file and the problem; and the real
// Fashion-MNIST of Debian's dataset-fashion-mnist when it is installed.
#include <doctest/doctest.h>

#include <sys/resource.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <vector>

#include "core/error.h"
#include "data/cifar.h"
#include "data/datasets.h"
#include "data/file_bytes.h"
#include "data/idx.h"
#include "helpers.h"

using namespace fluxion;
using namespace fluxion::data;
namespace fs = std::filesystem;
using test::TempDir;
using Bytes = std::vector<std::uint8_t>;

namespace {

void write_file(const std::string& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

Bytes read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A real gzip file, as gzip(1) would write it.
void write_gz(const std::string& path, const Bytes& bytes) {
  gzFile f = gzopen(path.c_str(), "wb9");
  REQUIRE(f != nullptr);
  REQUIRE(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())) == static_cast<int>(bytes.size()));
  REQUIRE(gzclose(f) == Z_OK);
}

void put_be32(Bytes& b, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) b.push_back(static_cast<std::uint8_t>(v >> shift));
}

// Pixel k of image i: distinct enough that a shifted or swapped image shows.
std::uint8_t pixel(std::int64_t i, std::int64_t k) { return static_cast<std::uint8_t>((i * 37 + k * 11 + 5) % 256); }

Bytes idx_images(std::uint32_t n, std::uint32_t rows, std::uint32_t cols) {
  Bytes b;
  put_be32(b, 0x803);
  put_be32(b, n);
  put_be32(b, rows);
  put_be32(b, cols);
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t k = 0; k < rows * cols; ++k) b.push_back(pixel(i, k));
  return b;
}

Bytes idx_labels(const std::vector<std::uint8_t>& labels) {
  Bytes b;
  put_be32(b, 0x801);
  put_be32(b, static_cast<std::uint32_t>(labels.size()));
  b.insert(b.end(), labels.begin(), labels.end());
  return b;
}

// CIFAR records: the label byte(s), then 3072 pixels; image i starts at `first`.
Bytes cifar_records(const std::vector<std::vector<std::uint8_t>>& labels, std::int64_t first) {
  Bytes b;
  for (std::size_t r = 0; r < labels.size(); ++r) {
    b.insert(b.end(), labels[r].begin(), labels[r].end());
    for (std::int64_t k = 0; k < 3072; ++k) b.push_back(pixel(first + static_cast<std::int64_t>(r), k));
  }
  return b;
}

void check_pixels(const Dataset& d) {
  for (std::int64_t i = 0; i < d.size(); ++i)
    for (std::int64_t k = 0; k < d.image_bytes(); ++k)
      if (d.image(i)[k] != pixel(i, k)) {
        FAIL_CHECK("image " << i << " pixel " << k << ": got " << int{d.image(i)[k]} << ", expected "
                            << int{pixel(i, k)});
        return;
      }
}

// CHECKs that `message` contains each of `parts`.
void check_mentions(const std::string& message, const std::vector<std::string>& parts) {
  for (const auto& part : parts) CHECK_MESSAGE(message.find(part) != std::string::npos, "'" << part << "' not in: " << message);
}

// A small, valid MNIST-style pair in `dir`: 3 images of 4 x 5, labels 7 2 9.
struct IdxPair {
  std::string images, labels;
};
IdxPair write_idx_pair(const TempDir& dir, bool gz = false) {
  IdxPair p{dir.file(gz ? "img.gz" : "img"), dir.file(gz ? "lab.gz" : "lab")};
  (gz ? write_gz : write_file)(p.images, idx_images(3, 4, 5));
  (gz ? write_gz : write_file)(p.labels, idx_labels({7, 2, 9}));
  return p;
}

// The official CIFAR-10 layout under dir/cifar-10-batches-bin: 2 records per
// training batch (labels 0..9 in order), 3 test records.
std::string write_cifar10(const TempDir& dir) {
  const fs::path folder = dir.path / "cifar-10-batches-bin";
  fs::create_directories(folder);
  for (int b = 0; b < 5; ++b)
    write_file((folder / ("data_batch_" + std::to_string(b + 1) + ".bin")).string(),
               cifar_records({{std::uint8_t(2 * b)}, {std::uint8_t(2 * b + 1)}}, 2 * b));
  write_file((folder / "test_batch.bin").string(), cifar_records({{3}, {1}, {4}}, 0));
  return folder.string();
}

}  // namespace

// --- round trips -------------------------------------------------------------

TEST_CASE("data readers: IDX images and labels read back exactly, plain and gzipped") {
  TempDir dir;
  for (bool gz : {false, true}) {
    CAPTURE(gz);
    const IdxPair p = write_idx_pair(dir, gz);
    const Dataset d = read_idx(p.images, p.labels, 10, "toy train");
    CHECK(d.name == "toy train");
    CHECK(d.size() == 3);
    CHECK(d.channels == 1);
    CHECK(d.height == 4);
    CHECK(d.width == 5);
    CHECK(d.num_classes == 10);
    CHECK(d.labels == std::vector<std::int64_t>{7, 2, 9});
    REQUIRE(d.pixels.size() == 3 * 20);
    check_pixels(d);
  }
}

TEST_CASE("data readers: read_file_bytes reads plain, gzip and concatenated gzip members") {
  TempDir dir;
  Bytes data(200000);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i * 7 % 251);
  write_file(dir.file("plain"), data);
  write_gz(dir.file("one.gz"), data);
  CHECK(read_file_bytes(dir.file("plain"), data.size()) == data);
  CHECK(read_file_bytes(dir.file("one.gz"), data.size()) == data);
  // Two members, as `cat a.gz b.gz` makes: gunzip reads both, so do we.
  write_gz(dir.file("half.gz"), Bytes(data.begin(), data.begin() + 1000));
  Bytes two = read_file(dir.file("half.gz")), one = read_file(dir.file("one.gz"));
  two.insert(two.end(), one.begin(), one.end());
  write_file(dir.file("two.gz"), two);
  Bytes expected(data.begin(), data.begin() + 1000);
  expected.insert(expected.end(), data.begin(), data.end());
  CHECK(read_file_bytes(dir.file("two.gz"), expected.size()) == expected);
}

TEST_CASE("data readers: CIFAR-10 batches read back in order, from the folder or its parent") {
  TempDir dir;
  const std::string folder = write_cifar10(dir);
  for (const std::string& where : {dir.path.string(), folder}) {
    CAPTURE(where);
    const Dataset train = read_cifar10(where, true);
    CHECK(train.name == "cifar10 train");
    CHECK(train.size() == 10);
    CHECK(train.channels == 3);
    CHECK(train.height == 32);
    CHECK(train.width == 32);
    CHECK(train.num_classes == 10);
    CHECK(train.labels == std::vector<std::int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
    REQUIRE(train.pixels.size() == 10 * 3072);
    check_pixels(train);
    const Dataset test = read_cifar10(where, false);
    CHECK(test.labels == std::vector<std::int64_t>{3, 1, 4});
    check_pixels(test);
  }
}

TEST_CASE("data readers: CIFAR-100 keeps the fine label, the record's second byte") {
  TempDir dir;
  const fs::path folder = dir.path / "cifar-100-binary";
  fs::create_directories(folder);
  write_file((folder / "train.bin").string(), cifar_records({{19, 99}, {0, 0}, {4, 55}}, 0));
  write_file((folder / "test.bin").string(), cifar_records({{7, 42}}, 0));
  const Dataset train = read_cifar100(dir.path.string(), true);
  CHECK(train.name == "cifar100 train");
  CHECK(train.num_classes == 100);
  CHECK(train.labels == std::vector<std::int64_t>{99, 0, 55});
  REQUIRE(train.pixels.size() == 3 * 3072);
  check_pixels(train);
  CHECK(read_cifar100(folder.string(), false).labels == std::vector<std::int64_t>{42});
}

TEST_CASE("data readers: load_dataset reads MNIST-style files plain or gzipped, by their official names") {
  TempDir dir;
  write_gz(dir.file("train-images-idx3-ubyte.gz"), idx_images(3, 28, 28));
  write_file(dir.file("train-labels-idx1-ubyte"), idx_labels({1, 0, 9}));
  const Dataset d = load_dataset("mnist", dir.path.string(), true);
  CHECK(d.name == "mnist train");
  CHECK(d.labels == std::vector<std::int64_t>{1, 0, 9});
  check_pixels(d);

  // The test split is missing: the message names it and lists the expected files.
  check_mentions(test::error_message<InputError>([&] { load_dataset("mnist", dir.path.string(), false); }),
                 {"t10k-images-idx3-ubyte", dir.path.string(), "train-labels-idx1-ubyte", "t10k-labels-idx1-ubyte",
                  ".gz"});

  // Images of another size than the dataset's are refused.
  TempDir other;
  write_file(other.file("train-images-idx3-ubyte"), idx_images(3, 4, 5));
  write_file(other.file("train-labels-idx1-ubyte"), idx_labels({1, 0, 9}));
  check_mentions(test::error_message<InputError>([&] { load_dataset("fashion-mnist", other.path.string(), true); }),
                 {"1x4x5", "expected 1x28x28", other.path.string()});
}

TEST_CASE("data readers: the registry knows four datasets and says what to pass for the others") {
  CHECK(dataset_names() == std::vector<std::string>{"fashion-mnist", "mnist", "cifar10", "cifar100", "imagefolder"});
  const DatasetInfo& c100 = dataset_info("cifar100");
  CHECK(c100.num_classes == 100);
  CHECK(c100.channels == 3);
  CHECK(c100.mean.size() == 3);
  CHECK(c100.std.size() == 3);
  CHECK(dataset_info("fashion-mnist").default_dir == "/usr/share/datasets/fashion-mnist");
  CHECK(dataset_info("mnist").mean == std::vector<float>{0.1307f});

  check_mentions(test::error_message<InputError>([] { dataset_info("imagenet"); }),
                 {"imagenet", "fashion-mnist", "mnist", "cifar10", "cifar100"});
  check_mentions(test::error_message<InputError>([] { load_dataset("mnist", "", true); }), {"--data-dir"});
  check_mentions(test::error_message<InputError>([] { load_dataset("cifar10", "", true); }), {"--data-dir", "get-cifar.sh"});
  check_mentions(test::error_message<InputError>([] { load_dataset("cifar100", "/nonexistent/fluxion", true); }),
                 {"/nonexistent/fluxion", "does not exist", "get-cifar.sh"});
}

TEST_CASE("data readers: every registered dataset is complete: a reader, a shape, one mean and std per channel") {
  for (const std::string& name : dataset_names()) {
    CAPTURE(name);
    const DatasetInfo& info = dataset_info(name);
    CHECK(info.name == name);
    if (info.from_folder) {  // imagefolder: everything comes from the folder (tests/test_image_folder.cpp)
      CHECK_FALSE(static_cast<bool>(info.read));
      CHECK(info.num_classes * info.channels * info.height * info.width == 0);
      CHECK(info.mean.empty());
      CHECK_FALSE(info.how_to_get.empty());
      check_mentions(test::error_message<InputError>([&] { load_dataset(name, "/tmp", true); }), {name});
      continue;
    }
    CHECK(static_cast<bool>(info.read));
    CHECK(info.num_classes >= 2);
    CHECK(info.channels * info.height * info.width > 0);
    CHECK(info.mean.size() == static_cast<std::size_t>(info.channels));
    CHECK(info.std.size() == static_cast<std::size_t>(info.channels));
    CHECK(info.train_images > 0);
    CHECK(info.test_images > 0);
    // Without a default folder, the message must say how to get one.
    if (info.default_dir.empty()) CHECK_FALSE(info.how_to_get.empty());
  }
  CHECK(dataset_info("cifar10").augment_by_default);  // the paper's CIFAR protocol crops and flips
  CHECK_FALSE(dataset_info("fashion-mnist").augment_by_default);
  // A folder that is not there: the CIFAR hint names it; the package hint
  // appears only for the default folder.
  check_mentions(test::error_message<InputError>([] { load_dataset("cifar10", "/nonexistent/c10", true); }),
                 {"scripts/get-cifar.sh /nonexistent/c10 downloads it there"});
  const std::string fashion = test::error_message<InputError>([] { load_dataset("fashion-mnist", "/nonexistent/f", true); });
  CHECK(fashion.find("apt-get") == std::string::npos);
}

// --- broken files --------------------------------------------------------------

TEST_CASE("data readers: a missing CIFAR file lists the expected files and the get-cifar hint") {
  TempDir dir;
  check_mentions(test::error_message<InputError>([&] { read_cifar10(dir.path.string(), true); }),
                 {dir.path.string(), "data_batch_1.bin", "data_batch_5.bin", "scripts/get-cifar.sh"});
  check_mentions(test::error_message<InputError>([&] { read_cifar100(dir.path.string(), false); }),
                 {dir.path.string(), "test.bin", "scripts/get-cifar.sh"});
  // One batch of five missing: that one is named.
  const std::string folder = write_cifar10(dir);
  fs::remove(fs::path(folder) / "data_batch_3.bin");
  check_mentions(test::error_message<InputError>([&] { read_cifar10(dir.path.string(), true); }),
                 {"missing data_batch_3.bin", folder, "scripts/get-cifar.sh"});
  CHECK(read_cifar10(dir.path.string(), false).size() == 3);  // the test split is whole
}

TEST_CASE("data readers: a missing IDX file is named") {
  TempDir dir;
  const IdxPair p = write_idx_pair(dir);
  check_mentions(test::error_message<InputError>([&] { read_idx(dir.file("nope"), p.labels, 10, "toy"); }),
                 {dir.file("nope"), "no such file"});
  check_mentions(test::error_message<InputError>([&] { read_idx(p.images, dir.path.string(), 10, "toy"); }),
                 {dir.path.string(), "not a regular file"});
}

TEST_CASE("data readers: a CIFAR file that is not a whole number of records") {
  TempDir dir;
  const std::string folder = write_cifar10(dir);
  Bytes b = cifar_records({{1}, {2}}, 0);
  b.resize(b.size() - 100);  // truncated in its last record
  const std::string path = (fs::path(folder) / "test_batch.bin").string();
  write_file(path, b);
  check_mentions(test::error_message<InputError>([&] { read_cifar10(folder, false); }),
                 {path, "6046 bytes", "not a whole number of 3073-byte records", "1 records and 2973 bytes over"});
  // CIFAR-10 files read as CIFAR-100 (3074-byte records) fail the same way.
  const fs::path c100 = dir.path / "cifar-100-binary";
  fs::create_directories(c100);
  write_file((c100 / "test.bin").string(), cifar_records({{1}, {2}}, 0));
  check_mentions(test::error_message<InputError>([&] { read_cifar100(dir.path.string(), false); }),
                 {(c100 / "test.bin").string(), "3074-byte records"});
}

TEST_CASE("data readers: a truncated IDX file, in its data or its header") {
  TempDir dir;
  const IdxPair p = write_idx_pair(dir);
  Bytes b = idx_images(3, 4, 5);
  b.pop_back();
  write_file(p.images, b);
  check_mentions(test::error_message<InputError>([&] { read_idx(p.images, p.labels, 10, "toy"); }),
                 {"toy", p.images, "truncated", "75 bytes, expected 76", "3 x 4 x 5"});
  write_file(p.images, Bytes(b.begin(), b.begin() + 10));
  check_mentions(test::error_message<InputError>([&] { read_idx(p.images, p.labels, 10, "toy"); }),
                 {p.images, "truncated", "16-byte header"});
  // Every prefix of a valid file is refused, never read as something shorter.
  write_file(p.images, idx_images(3, 4, 5));
  const Bytes whole = idx_labels({1, 2, 3});
  for (std::size_t n = 0; n < whole.size(); ++n) {
    CAPTURE(n);
    write_file(p.labels, Bytes(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(n)));
    check_mentions(test::error_message<InputError>([&] { read_idx(p.images, p.labels, 10, "toy"); }), {p.labels});
  }
}

TEST_CASE("data readers: a truncated gzip file") {
  TempDir dir;
  const IdxPair p = write_idx_pair(dir, true);
  const Bytes gz = read_file(p.images);
  write_file(p.images, Bytes(gz.begin(), gz.begin() + static_cast<std::ptrdiff_t>(gz.size() / 2)));
  check_mentions(test::error_message<InputError>([&] { read_idx(p.images, p.labels, 10, "toy"); }), {p.images, "gzip data is truncated"});
  // Cut anywhere, even inside the trailing checksum: always an error.
  for (std::size_t n = 2; n < gz.size(); ++n) {
    CAPTURE(n);
    write_file(p.images, Bytes(gz.begin(), gz.begin() + static_cast<std::ptrdiff_t>(n)));
    check_mentions(test::error_message<InputError>([&] { read_file_bytes(p.images, 1 << 20); }), {p.images, "truncated"});
  }
}

TEST_CASE("data readers: corrupt gzip data is refused, never read as garbage") {
  TempDir dir;
  const IdxPair p = write_idx_pair(dir, true);
  const Bytes gz = read_file(p.images);
  const Dataset good = read_idx(p.images, p.labels, 10, "toy");
  Bytes bad = gz;
  bad[bad.size() - 6] ^= 0x40;  // in the CRC-32 of the data
  write_file(p.images, bad);
  check_mentions(test::error_message<InputError>([&] { read_idx(p.images, p.labels, 10, "toy"); }), {p.images, "corrupt gzip data"});
  // One flipped bit anywhere gives an error naming the file or, in the
  // header's free fields (time, OS), the same images: never other data.
  for (std::size_t i = 0; i < gz.size(); ++i) {
    CAPTURE(i);
    bad = gz;
    bad[i] ^= 0x10;
    write_file(p.images, bad);
    std::vector<std::uint8_t> pixels;
    try {
      pixels = read_idx(p.images, p.labels, 10, "toy").pixels;
    } catch (const InputError& e) {
      CHECK(std::string(e.what()).find(p.images) != std::string::npos);
      continue;
    }
    CHECK(pixels == good.pixels);
  }
  // Bytes after the gzip stream that are not another gzip member.
  bad = gz;
  bad.insert(bad.end(), {0, 0, 0, 0});
  write_file(p.images, bad);
  check_mentions(test::error_message<InputError>([&] { read_file_bytes(p.images, 1 << 20); }), {p.images, "after the end of the gzip data"});
}

TEST_CASE("data readers: more data than max_bytes is refused, plain or a gzip bomb") {
  TempDir dir;
  write_gz(dir.file("bomb.gz"), Bytes(4 << 20, 0));  // 4 MiB of zeros in a few KB
  CHECK(fs::file_size(dir.file("bomb.gz")) < 20000);
  check_mentions(test::error_message<InputError>([&] { read_file_bytes(dir.file("bomb.gz"), 1 << 20); }),
                 {dir.file("bomb.gz"), "decompresses to more than 1048576 bytes"});
  write_file(dir.file("big"), Bytes(1001, 1));
  check_mentions(test::error_message<InputError>([&] { read_file_bytes(dir.file("big"), 1000); }), {dir.file("big"), "more than 1000"});
  CHECK(read_file_bytes(dir.file("big"), 1001).size() == 1001);
}

// VmSize of this process, in bytes: what an address-space limit counts.
std::uint64_t mapped_bytes() {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmSize:", 0) == 0) return std::stoull(line.substr(7)) * 1024;
  return 0;
}

TEST_CASE("data readers: a gzip bomb behind a valid IDX header stops at the size the header declares") {
  TempDir dir;
  // A header for 1,024 images of 28x28 (802,832 bytes with the header), then
  // 256 MiB of zeros: a few hundred KB on disk.
  const std::string path = dir.file("train-images-idx3-ubyte.gz");
  {
    gzFile f = gzopen(path.c_str(), "wb9");
    REQUIRE(f != nullptr);
    Bytes header;
    for (std::uint32_t v : {0x803u, 1024u, 28u, 28u}) put_be32(header, v);
    REQUIRE(gzwrite(f, header.data(), static_cast<unsigned>(header.size())) == 16);
    const Bytes zeros(1 << 20, 0);
    for (int i = 0; i < 256; ++i) REQUIRE(gzwrite(f, zeros.data(), 1u << 20) == (1 << 20));
    REQUIRE(gzclose(f) == Z_OK);
  }
  CHECK(fs::file_size(path) < (1 << 20));
  check_mentions(test::error_message<InputError>([&] { read_idx(path, dir.file("labels"), 10, "bomb"); }),
                 {path, "more than the 802832 bytes its header declares"});
#if !defined(__SANITIZE_ADDRESS__)  // ASan reserves terabytes of shadow memory: no address-space limit applies
  // With 64 MiB of address space to spare, the reader stops with its own
  // error (100), not std::bad_alloc (101) or a kill: it never holds more than
  // the header's 784 KiB.
  const int status = test::run_isolated([&] {
    const rlim_t limit = mapped_bytes() + (64 << 20);
    const rlimit r{limit, limit};
    if (setrlimit(RLIMIT_AS, &r) != 0) return 3;
    read_idx(path, dir.file("labels"), 10, "bomb");
    return 0;
  });
  CHECK_MESSAGE(status == 100, test::describe_status(status));
#endif
}

TEST_CASE("data readers: trailing bytes after the IDX data") {
  TempDir dir;
  const IdxPair p = write_idx_pair(dir);
  Bytes b = idx_labels({7, 2, 9});
  b.push_back(0);
  b.push_back(0);
  write_file(p.labels, b);
  check_mentions(test::error_message<InputError>([&] { read_idx(p.images, p.labels, 10, "toy"); }),
                 {p.labels, "2 trailing bytes", "13 bytes, expected 11"});
}

TEST_CASE("data readers: a label out of range") {
  TempDir dir;
  const IdxPair p = write_idx_pair(dir);
  write_file(p.labels, idx_labels({7, 10, 9}));
  check_mentions(test::error_message<InputError>([&] { read_idx(p.images, p.labels, 10, "toy"); }),
                 {p.labels, "label 10 of image 1 is out of range", "0 to 9"});

  const std::string folder = write_cifar10(dir);
  const std::string batch = (fs::path(folder) / "data_batch_2.bin").string();
  write_file(batch, cifar_records({{3}, {255}}, 0));
  check_mentions(test::error_message<InputError>([&] { read_cifar10(folder, true); }), {batch, "label 255 of record 1", "0 to 9"});

  const fs::path c100 = dir.path / "cifar-100-binary";
  fs::create_directories(c100);
  const std::string test = (c100 / "test.bin").string();
  write_file(test, cifar_records({{0, 100}}, 0));
  check_mentions(test::error_message<InputError>([&] { read_cifar100(dir.path.string(), false); }),
                 {test, "label 100 of record 0", "0 to 99"});
  write_file(test, cifar_records({{20, 5}}, 0));
  check_mentions(test::error_message<InputError>([&] { read_cifar100(dir.path.string(), false); }),
                 {test, "coarse label 20 of record 0", "0 to 19"});
}

TEST_CASE("data readers: a wrong IDX magic number") {
  TempDir dir;
  const IdxPair p = write_idx_pair(dir);
  // Images and labels swapped.
  check_mentions(test::error_message<InputError>([&] { read_idx(p.labels, p.images, 10, "toy"); }),
                 {p.labels, "wrong IDX magic number", "expected 0x00000803", "found 0x00000801", "a labels file?"});
  // Float elements.
  Bytes b = idx_images(3, 4, 5);
  b[2] = 0x0d;
  write_file(p.images, b);
  check_mentions(test::error_message<InputError>([&] { read_idx(p.images, p.labels, 10, "toy"); }),
                 {p.images, "found 0x00000d03", "float32 elements"});
  // Not an IDX file at all (here: little-endian).
  std::reverse(b.begin(), b.begin() + 4);
  write_file(p.images, b);
  check_mentions(test::error_message<InputError>([&] { read_idx(p.images, p.labels, 10, "toy"); }), {p.images, "not an IDX file"});
}

TEST_CASE("data readers: zero or absurd IDX dimensions") {
  TempDir dir;
  const IdxPair p = write_idx_pair(dir);
  write_file(p.images, idx_images(3, 0, 5));
  check_mentions(test::error_message<InputError>([&] { read_idx(p.images, p.labels, 10, "toy"); }), {p.images, "rows is 0"});
  write_file(p.images, idx_images(3, 4, 5));
  write_file(p.labels, idx_labels({}));
  check_mentions(test::error_message<InputError>([&] { read_idx(p.images, p.labels, 10, "toy"); }),
                 {p.labels, "label count is 0"});
  Bytes b = idx_images(1, 1, 1);
  b[12] = 0x01;  // columns = 2^24 + 1
  write_file(p.images, b);
  check_mentions(test::error_message<InputError>([&] { read_idx(p.images, p.labels, 10, "toy"); }),
                 {p.images, "columns is 16777217", "absurd"});
  // A count far beyond the data: truncated, without allocating for it.
  b = idx_images(1, 4, 5);
  b[4] = 0xff;
  write_file(p.images, b);
  check_mentions(test::error_message<InputError>([&] { read_idx(p.images, p.labels, 10, "toy"); }), {p.images, "truncated"});
}

TEST_CASE("data readers: different numbers of images and labels") {
  TempDir dir;
  const IdxPair p = write_idx_pair(dir);
  write_file(p.labels, idx_labels({1, 2}));
  check_mentions(test::error_message<InputError>([&] { read_idx(p.images, p.labels, 10, "toy"); }),
                 {p.images, p.labels, "3 images", "2 labels"});
}

TEST_CASE("data readers: an empty file") {
  TempDir dir;
  const IdxPair p = write_idx_pair(dir);
  write_file(p.images, {});
  check_mentions(test::error_message<InputError>([&] { read_idx(p.images, p.labels, 10, "toy"); }), {p.images, "is empty"});
  const std::string folder = write_cifar10(dir);
  const std::string test = (fs::path(folder) / "test_batch.bin").string();
  write_file(test, {});
  check_mentions(test::error_message<InputError>([&] { read_cifar10(folder, false); }), {test, "is empty"});
  // An empty gzip stream is no better.
  write_gz(p.images, {});
  check_mentions(test::error_message<InputError>([&] { read_idx(p.images, p.labels, 10, "toy"); }), {p.images, "is empty"});
}

// --- the real thing ---------------------------------------------------------------

TEST_CASE("data readers: the real Fashion-MNIST from Debian's dataset-fashion-mnist") {
  const std::string dir = "/usr/share/datasets/fashion-mnist";
  if (!fs::exists(fs::path(dir) / "t10k-labels-idx1-ubyte.gz")) {
    MESSAGE("skipped: " << dir << " is absent (apt-get install dataset-fashion-mnist, as scripts/setup.sh does)");
    return;
  }
  for (bool train : {true, false}) {
    const Dataset d = load_dataset("fashion-mnist", "", train);
    const std::int64_t n = train ? 60000 : 10000;
    CHECK(d.name == (train ? "fashion-mnist train" : "fashion-mnist test"));
    CHECK(d.size() == n);
    CHECK(d.channels == 1);
    CHECK(d.height == 28);
    CHECK(d.width == 28);
    CHECK(d.num_classes == 10);
    CHECK(d.pixels.size() == static_cast<std::size_t>(n * 784));
    std::vector<std::int64_t> per_class(10, 0);
    for (std::int64_t label : d.labels) ++per_class[static_cast<std::size_t>(label)];
    CHECK(per_class == std::vector<std::int64_t>(10, n / 10));
    if (train) {  // the registry's normalisation constants are these pixels'
      double sum = 0, sum_sq = 0;
      for (std::uint8_t v : d.pixels) {
        sum += v / 255.0;
        sum_sq += (v / 255.0) * (v / 255.0);
      }
      const double count = static_cast<double>(d.pixels.size()), mean = sum / count;
      const DatasetInfo& info = dataset_info("fashion-mnist");
      CHECK(mean == doctest::Approx(info.mean[0]).epsilon(1e-3));
      CHECK(std::sqrt(sum_sq / count - mean * mean) == doctest::Approx(info.std[0]).epsilon(1e-3));
    }
  }
}
