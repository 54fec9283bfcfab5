#include "data/cifar.h"

#include <cstdint>
#include <filesystem>
#include <vector>

#include "core/error.h"
#include "core/path_check.h"
#include "data/file_bytes.h"

namespace fluxion::data {
namespace {

namespace fs = std::filesystem;

constexpr std::int64_t kImageBytes = 3 * 32 * 32;
// No official file holds more than 50,000 records (CIFAR-100's train.bin,
// 150 MB); the readers take fewer, but a file of more is not CIFAR, and the
// bound stops a gzip bomb before it fills memory.
constexpr std::int64_t kMaxRecords = 50000;

struct Format {
  const char* name;         // "cifar10"
  const char* subdir;       // where the official tarball extracts
  std::int64_t label_bytes;  // 1, or 2 (coarse, fine)
  std::int64_t num_classes;  // of the label kept: the last byte
  std::int64_t coarse_classes;  // of CIFAR-100's first byte, checked only
  std::vector<std::string> train_files, test_files;
};

const Format kCifar10{"cifar10", "cifar-10-batches-bin", 1, 10, 0,
                      {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin",
                       "data_batch_5.bin"},
                      {"test_batch.bin"}};
const Format kCifar100{"cifar100", "cifar-100-binary", 2, 100, 20, {"train.bin"}, {"test.bin"}};

// The folder that holds all of `files`: `dir` itself or its official subfolder.
fs::path find_folder(const Format& format, const std::string& dir, const std::vector<std::string>& files,
                     const std::string& name) {
  FLUXION_CHECK_INPUT(is_folder(dir, "--data-dir"), name, ": the data directory '", dir,
                      "' does not exist or is not a directory; run scripts/get-cifar.sh ", dir,
                      " to download ", format.name, " there");
  for (const fs::path& folder : {fs::path(dir), fs::path(dir) / format.subdir}) {
    std::vector<std::string> absent;
    for (const auto& f : files)
      if (!path_exists(folder / f, "--data-dir")) absent.push_back(f);
    if (absent.empty()) return folder;
    FLUXION_CHECK_INPUT(absent.size() == files.size(), name, ": missing ", detail::join(absent), " in '",
                        folder.string(), "'; expected ", detail::join(files), " there; run scripts/get-cifar.sh ", dir,
                        " to download ", format.name, " again");
  }
  throw InputError(detail::concat(name, ": no ", format.name, " binary files in '", dir, "' or '",
                                  (fs::path(dir) / format.subdir).string(), "'; expected ", detail::join(files),
                                  "; run scripts/get-cifar.sh ", dir, " to download ", format.name, " there"));
}

Dataset read_cifar(const Format& format, const std::string& dir, bool train) {
  const std::string name = std::string(format.name) + (train ? " train" : " test");
  const auto& files = train ? format.train_files : format.test_files;
  const fs::path folder = find_folder(format, dir, files, name);
  const std::int64_t record = format.label_bytes + kImageBytes;

  Dataset d;
  d.name = name;
  d.channels = 3;
  d.height = d.width = 32;
  d.num_classes = format.num_classes;
  for (const auto& file : files) {
    const std::string path = (folder / file).string();
    const std::vector<std::uint8_t> bytes = read_file_bytes(path, static_cast<std::uint64_t>(kMaxRecords * record));
    const auto size = static_cast<std::int64_t>(bytes.size());
    FLUXION_CHECK_INPUT(size > 0, name, ": '", path, "' is empty; expected ", record, "-byte records (",
                        format.label_bytes, " label byte(s) and 3072 pixels)");
    FLUXION_CHECK_INPUT(size % record == 0, name, ": '", path, "' is ", size, " bytes, not a whole number of ",
                        record, "-byte records (", format.label_bytes, " label byte(s) and 3072 pixels): ",
                        size / record, " records and ", size % record,
                        " bytes over; the file is truncated or not a ", format.name, " binary file");
    const std::int64_t n = size / record;
    d.labels.reserve(d.labels.size() + static_cast<std::size_t>(n));
    d.pixels.reserve(d.pixels.size() + static_cast<std::size_t>(n * kImageBytes));
    for (std::int64_t i = 0; i < n; ++i) {
      const std::uint8_t* r = bytes.data() + i * record;
      const std::uint8_t label = r[format.label_bytes - 1];
      FLUXION_CHECK_INPUT(format.coarse_classes == 0 || r[0] < format.coarse_classes, name, ": '", path,
                          "': coarse label ", int{r[0]}, " of record ", i, " is out of range; expected 0 to ",
                          format.coarse_classes - 1);
      FLUXION_CHECK_INPUT(label < format.num_classes, name, ": '", path, "': label ", int{label}, " of record ",
                          i, " is out of range; expected 0 to ", format.num_classes - 1);
      d.labels.push_back(label);
      d.pixels.insert(d.pixels.end(), r + format.label_bytes, r + record);
    }
  }
  return d;
}

}  // namespace

Dataset read_cifar10(const std::string& dir, bool train) { return read_cifar(kCifar10, dir, train); }
Dataset read_cifar100(const std::string& dir, bool train) { return read_cifar(kCifar100, dir, train); }

}  // namespace fluxion::data
