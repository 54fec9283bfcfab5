//! @file
//! The data a run trains on, and what its record says of it: a dataset of
//! the registry, or an image folder (data/image_folder.h), whose classes,
//! image shape and normalisation come from its files at the start of the
//! run. Those are recorded (the record's "data"), so that eval and predict
//! prepare images exactly as training did.
#pragma once

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>  // the full header (it pulls in <cstring>) only where used

#include "data/dataset.h"
#include "data/datasets.h"
#include "train/config.h"

namespace fluxion::train {

/// Both splits of config.dataset, and the entry that describes them.
struct RunData {
  /// The registry's entry; an image folder's classes, shape and measured
  /// normalisation filled in; --mean and --std over it.
  data::DatasetInfo info;
  std::vector<std::string> classes;  ///< an image folder's class names, in label order; empty otherwise
  std::shared_ptr<data::Dataset> train, test;
  std::int64_t skipped_images = 0;  ///< --skip-bad-images: images left out
  std::string first_skipped;        ///< "PATH: what is wrong" of the first of them
};

/// Reads both splits of config.dataset from config.data_dir. An image
/// folder's first pass (every header, the statistics, the cache) is reported
/// on `log`. Throws InputError naming a missing or malformed file.
RunData read_run_data(const TrainConfig& config, std::ostream& log);

/// The record's "data": the shape, normalisation and class names the model
/// was trained with.
nlohmann::json data_record(const data::DatasetInfo& info, const std::vector<std::string>& classes);

/// The data a run's model expects, as its record (config.json, or a
/// checkpoint's metadata) states it.
struct RecordedData {
  /// config.dataset's entry; when the record's dataset is config.dataset, with
  /// the recorded shape and normalisation (an image folder's, measured at its
  /// start, or --mean/--std); config.mean and config.std, when set, over it.
  data::DatasetInfo info;
  std::vector<std::string> classes;  ///< an image folder's class names; empty for a built-in dataset
};
/// Throws InputError naming `source` when config.dataset is an image folder
/// and the record holds no valid "data" (classes, shape, mean, std).
RecordedData recorded_data(const TrainConfig& config, const nlohmann::json& record, const std::string& source);

/// The test split of config.dataset in config.data_dir; an image folder's is
/// read with the recorded classes, channels and size (resized when
/// config.image_size says so).
std::shared_ptr<const data::Dataset> load_test_split(const TrainConfig& config, const RecordedData& data);

}  // namespace fluxion::train
