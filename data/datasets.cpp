#include "data/datasets.h"

#include <filesystem>

#include "core/error.h"
#include "core/path_check.h"
#include "data/cifar.h"
#include "data/idx.h"

namespace fluxion::data {
namespace {

namespace fs = std::filesystem;

// `base`, or `base`.gz when only that exists; "" when neither does.
std::string idx_file(const fs::path& dir, const std::string& base) {
  if (path_exists(dir / base, "--data-dir")) return (dir / base).string();
  if (path_exists(dir / (base + ".gz"), "--data-dir")) return (dir / (base + ".gz")).string();
  return "";
}

Dataset read_idx_files(const DatasetInfo& info, const std::string& dir, bool train) {
  const std::string prefix = train ? "train" : "t10k";
  const std::string images = idx_file(dir, prefix + "-images-idx3-ubyte");
  const std::string labels = idx_file(dir, prefix + "-labels-idx1-ubyte");
  if (images.empty() || labels.empty()) {
    const std::string missing = prefix + (images.empty() ? "-images-idx3-ubyte" : "-labels-idx1-ubyte");
    const std::string how = info.name == "fashion-mnist"
                                ? "apt-get install dataset-fashion-mnist (it puts them in " + info.default_dir +
                                      "), or get them from https://github.com/zalandoresearch/fashion-mnist"
                                : "get them from http://yann.lecun.com/exdb/mnist/";
    throw InputError(detail::concat(info.name, ": missing ", missing, "[.gz] in '", dir,
                                    "'; expected train-images-idx3-ubyte, train-labels-idx1-ubyte, "
                                    "t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte, plain or .gz; ", how));
  }
  return read_idx(images, labels, info.num_classes, info.name + (train ? " train" : " test"));
}

Dataset read_cifar10_files(const DatasetInfo&, const std::string& dir, bool train) { return read_cifar10(dir, train); }
Dataset read_cifar100_files(const DatasetInfo&, const std::string& dir, bool train) {
  return read_cifar100(dir, train);
}

// The end of the message for a data folder that does not exist: how to get
// the files there, or the package that installs them at the default folder.
std::string missing_folder_hint(const DatasetInfo& info, const std::string& folder, bool default_folder) {
  const std::string& how = info.how_to_get;
  if (const std::size_t at = how.find("DIR"); at != std::string::npos)
    return "; " + std::string(how).replace(at, 3, folder);
  if (default_folder && !how.empty()) return "; " + how + ", or pass --data-dir DIR";
  return "";
}

// Every dataset, one entry each. Normalisation constants, per channel, of
// pixels scaled to [0, 1]:
// - CIFAR-10 and CIFAR-100: the values of the CIFAR training protocol the
//   paper's comparisons follow (pytorch-cifar's and AdaBound's
//   transforms.Normalize), for CIFAR-100 too, so results compare with theirs.
//   They are not the std over all CIFAR-10 training pixels, which is
//   (0.2470, 0.2435, 0.2616); the protocol's values are what was trained with.
// - MNIST: the usual (0.1307) / (0.3081), mean and std of the training pixels.
// - Fashion-MNIST: measured from Debian's training files: mean 0.286041, std
//   0.353024 over all 47,040,000 training pixels.
const std::vector<DatasetInfo>& registry() {
  static const std::string mnist_files = "a folder with the four MNIST IDX files, from http://yann.lecun.com/exdb/mnist/";
  static const std::string get_cifar = "scripts/get-cifar.sh DIR downloads it there";
  static const std::vector<DatasetInfo> infos{
      {"fashion-mnist", 10, 1, 28, 28, {0.2860f}, {0.3530f}, "/usr/share/datasets/fashion-mnist", 60000, 10000,
       read_idx_files, "apt-get install dataset-fashion-mnist"},
      {"mnist", 10, 1, 28, 28, {0.1307f}, {0.3081f}, "", 60000, 10000, read_idx_files, mnist_files},
      {"cifar10", 10, 3, 32, 32, {0.4914f, 0.4822f, 0.4465f}, {0.2023f, 0.1994f, 0.2010f}, "", 50000, 10000,
       read_cifar10_files, get_cifar, true},
      {"cifar100", 100, 3, 32, 32, {0.4914f, 0.4822f, 0.4465f}, {0.2023f, 0.1994f, 0.2010f}, "", 50000, 10000,
       read_cifar100_files, get_cifar, true},
      {"imagefolder", 0, 0, 0, 0, {}, {}, "", 0, 0, nullptr,
       "a folder DIR holding DIR/train/<class>/*.png|jpg and DIR/test/<class>/... (docs/data.md)", false, true},
  };
  return infos;
}

}  // namespace

const DatasetInfo& dataset_info(const std::string& name) {
  for (const auto& info : registry())
    if (info.name == name) return info;
  throw InputError(
      detail::concat("unknown dataset '", name, "'; known datasets: ", detail::join(dataset_names())));
}

std::vector<std::string> dataset_names() {
  std::vector<std::string> names;
  for (const auto& info : registry()) names.push_back(info.name);
  return names;
}

Dataset load_dataset(const std::string& name, const std::string& dir, bool train) {
  const DatasetInfo& info = dataset_info(name);
  FLUXION_CHECK_INPUT(!info.from_folder, "--dataset ", name,
                      ": this command reads only the built-in datasets; fluxion train, eval and predict read image "
                      "folders");
  const std::string folder = dir.empty() ? info.default_dir : dir;
  FLUXION_CHECK_INPUT(!folder.empty(), name, " has no default location: pass --data-dir DIR",
                      info.how_to_get.empty() ? "" : " (" + info.how_to_get + ")");
  FLUXION_CHECK_INPUT(is_folder(folder, "--data-dir"), name, ": the data directory '", folder,
                      "' does not exist or is not a directory", missing_folder_hint(info, folder, dir.empty()));
  const Dataset d = info.read(info, folder, train);
  FLUXION_CHECK_INPUT(d.channels == info.channels && d.height == info.height && d.width == info.width, d.name,
                      ": the images in '", folder, "' are ", d.channels, "x", d.height, "x", d.width,
                      "; expected ", info.channels, "x", info.height, "x", info.width);
  return d;
}

}  // namespace fluxion::data
