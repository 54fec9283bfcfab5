//! @file
//! The datasets the trainer knows by name: their shapes, normalisation
//! constants, default folder and reader, one entry each in one list
//! (data/datasets.cpp), and one call that loads a split.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace fluxion::data {

struct DatasetInfo {
  std::string name;  ///< "cifar10", as on the command line
  std::int64_t num_classes = 0, channels = 0, height = 0, width = 0;
  /// Per-channel mean of the pixels scaled to [0, 1], for normalising inputs
  /// to (x - mean) / std.
  std::vector<float> mean;
  std::vector<float> std;  ///< per-channel standard deviation, as mean
  std::string default_dir;  ///< where the files are when no --data-dir is given; "" if nowhere
  /// The images in the official training split (for time estimates; the
  /// readers take whatever count a file's header states).
  std::int64_t train_images = 0;
  std::int64_t test_images = 0;  ///< the images in the official test split, as train_images
  /// Reads the training (`train`) or test split from `folder`, which exists;
  /// throws InputError naming a missing or malformed file.
  Dataset (*read)(const DatasetInfo& info, const std::string& folder, bool train) = nullptr;
  /// How to get the files, ending error messages about a missing folder:
  /// "scripts/get-cifar.sh DIR downloads it there"; "" when there is no way
  /// beyond --data-dir.
  std::string how_to_get;
  /// Whether training crops and flips by default (`--augment auto`): the
  /// CIFAR protocol's augmentation, which the paper follows.
  bool augment_by_default = false;
  /// The files decide the classes, shape and normalisation (imagefolder,
  /// data/image_folder.h): the entry has none of them (0 and empty) and no
  /// `read`; the trainer fills a copy in from the folder, and records it.
  bool from_folder = false;
};

/// Throws InputError listing the known names for an unknown one.
const DatasetInfo& dataset_info(const std::string& name);
/// "fashion-mnist", "mnist", "cifar10", "cifar100", "imagefolder".
std::vector<std::string> dataset_names();

/// The training or test split of dataset `name`, read from `dir` (the default
/// folder if empty). MNIST-style files may be plain or .gz. Throws InputError
/// when there is no folder to read, a file is missing or wrong, or the images
/// are not the dataset's shape; also for a from_folder dataset, which
/// data/image_folder.h's read_image_folder reads.
Dataset load_dataset(const std::string& name, const std::string& dir, bool train);

}  // namespace fluxion::data
