#include "train/run_data.h"

#include <algorithm>
#include <cmath>
#include <ostream>
#include <tuple>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "data/image_folder.h"

namespace fluxion::train {
namespace {

data::ImageFolderOptions folder_options(const TrainConfig& config) {
  data::ImageFolderOptions o;
  if (!config.image_size.empty()) {
    o.resize = true;
    std::tie(o.height, o.width) = data::parse_image_size(config.image_size, "--image-size");
  }
  o.channels = config.channels;
  o.cache_bytes = static_cast<std::uint64_t>(config.image_cache_mb) << 20;
  o.skip_bad_images = config.skip_bad_images;
  return o;
}

std::string joined(const std::vector<std::string>& names, std::size_t most) {
  std::string out;
  for (std::size_t i = 0; i < names.size() && i < most; ++i) {
    if (i > 0) out += ", ";
    out += names[i];
  }
  if (names.size() > most) out += ", ...";
  return out;
}

std::string values_text(const std::vector<float>& values) {
  std::string out;
  for (float v : values) {
    if (!out.empty()) out += ",";
    out += detail::concat(std::round(v * 1e4f) / 1e4f);
  }
  return out;
}

// What the first pass over an image folder's split found, for the log.
void log_split(const TrainConfig& config, std::ostream& log, const data::ImageFolderSplit& split) {
  const data::Dataset& d = *split.dataset;
  log << "imagefolder " << split.folder << ": " << d.size() << " images, " << d.channels << "x" << d.height
           << "x" << d.width << ", "
           << (d.cached_images() == d.size()
                   ? std::string("all decoded in memory")
                   : detail::concat(d.cached_images(), " decoded in memory (--image-cache-mb ",
                                    config.image_cache_mb, "), the rest decoded again each epoch"))
           << "\n";
  if (split.ignored_files > 0)
    log << "imagefolder " << split.folder << ": ignored " << split.ignored_files << " file"
             << (split.ignored_files == 1 ? " that is" : "s that are") << " not .png, .jpg or .jpeg\n";
  if (split.bad_images > 0)
    log << "imagefolder " << split.folder << ": skipped " << split.bad_images << " image"
             << (split.bad_images == 1 ? "" : "s") << " that could not be decoded (--skip-bad-images); the first: " << split.first_bad << "\n";
}

// An image folder's two splits: the training split decides the classes,
// shape and statistics, which the test split must match.
void read_folder(const TrainConfig& config, std::ostream& log, RunData& run) {
  data::ImageFolderOptions o = folder_options(config);
  const data::ImageFolderSplit train = data::read_image_folder(config.data_dir, true, o);
  log_split(config, log, train);
  o.classes = train.classes;
  o.channels = train.dataset->channels, o.height = train.dataset->height, o.width = train.dataset->width;
  o.cache_bytes -= std::min(o.cache_bytes, train.cached_bytes());
  const data::ImageFolderSplit test = data::read_image_folder(config.data_dir, false, o);
  log_split(config, log, test);
  run.classes = train.classes;
  run.skipped_images = train.bad_images + test.bad_images;
  run.first_skipped = train.bad_images > 0 ? train.first_bad : test.first_bad;
  data::DatasetInfo& info = run.info;
  info.num_classes = static_cast<std::int64_t>(train.classes.size());
  info.channels = o.channels, info.height = o.height, info.width = o.width;
  info.mean = train.mean, info.std = train.std;
  info.train_images = train.dataset->size(), info.test_images = test.dataset->size();
  log << "imagefolder: " << info.num_classes << " classes (" << joined(train.classes, 10)
           << "); the training images' mean " << values_text(info.mean) << ", std " << values_text(info.std)
           << (config.mean.empty() && config.std.empty() ? " (normalising with them)" : "") << "\n";
  run.train = train.dataset;
  run.test = test.dataset;
}

// --mean and --std over the dataset's normalisation, one value per channel.
void apply_normalisation_flags(const TrainConfig& config, data::DatasetInfo& info) {
  for (const auto& [flag, text, values] : {std::tuple{"--mean", &config.mean, &info.mean},
                                           std::tuple{"--std", &config.std, &info.std}}) {
    if (text->empty()) continue;
    *values = data::parse_channel_values(*text, flag, std::string(flag) == "--std");
    FLUXION_CHECK_INPUT(values->size() == static_cast<std::size_t>(info.channels), flag, " ", *text, ": ",
                        values->size(), " values for images of ", info.channels, " channel",
                        info.channels == 1 ? "" : "s", "; expected one per channel");
  }
}

}  // namespace

RunData read_run_data(const TrainConfig& config, std::ostream& log) {
  RunData run;
  run.info = data::dataset_info(config.dataset);
  if (run.info.from_folder) {
    read_folder(config, log, run);
  } else {
    run.train = std::make_shared<data::Dataset>(data::load_dataset(config.dataset, config.data_dir, true));
    run.test = std::make_shared<data::Dataset>(data::load_dataset(config.dataset, config.data_dir, false));
  }
  apply_normalisation_flags(config, run.info);
  return run;
}

nlohmann::json data_record(const data::DatasetInfo& info, const std::vector<std::string>& classes) {
  nlohmann::json j = {{"channels", info.channels}, {"height", info.height}, {"width", info.width},
                      {"mean", info.mean}, {"std", info.std}};
  if (!classes.empty()) j["classes"] = classes;
  return j;
}

RecordedData recorded_data(const TrainConfig& config, const nlohmann::json& record, const std::string& source) {
  RecordedData r{data::dataset_info(config.dataset), {}};
  const bool same_dataset = record.is_object() && record.value("dataset", std::string()) == config.dataset;
  const bool has_data = same_dataset && record.contains("data");
  FLUXION_CHECK_INPUT(has_data || !r.info.from_folder, source, ": no classes, image size or normalisation of ",
                      config.dataset, " recorded (\"data\"); was the model trained on an image folder?");
  if (!has_data) {
    apply_normalisation_flags(config, r.info);
    return r;
  }
  try {
    const nlohmann::json& d = record.at("data");
    data::DatasetInfo info = r.info;
    info.channels = d.at("channels").get<std::int64_t>();
    info.height = d.at("height").get<std::int64_t>();
    info.width = d.at("width").get<std::int64_t>();
    info.mean = d.at("mean").get<std::vector<float>>();
    info.std = d.at("std").get<std::vector<float>>();
    if (d.contains("classes")) r.classes = d.at("classes").get<std::vector<std::string>>();
    if (r.info.from_folder) info.num_classes = static_cast<std::int64_t>(r.classes.size());
    const bool valid = (info.channels == 1 || info.channels == 3) && info.height >= 1 && info.height <= 4096 &&
                       info.width >= 1 && info.width <= 4096 &&
                       info.mean.size() == static_cast<std::size_t>(info.channels) &&
                       info.std.size() == info.mean.size() &&
                       std::all_of(info.std.begin(), info.std.end(), [](float v) { return v > 0; }) &&
                       (!r.info.from_folder || info.num_classes >= 1);
    FLUXION_CHECK_INPUT(valid, source, ": the recorded \"data\" is malformed (", d.dump(), ")");
    r.info = std::move(info);
  } catch (const nlohmann::json::exception& e) {
    throw InputError(detail::concat(source, ": the recorded \"data\" is malformed: ", e.what()));
  }
  // The recorded values are the ones trained with: --mean/--std as given then, or measured.
  apply_normalisation_flags(config, r.info);
  return r;
}

std::shared_ptr<const data::Dataset> load_test_split(const TrainConfig& config, const RecordedData& recorded) {
  if (!recorded.info.from_folder)
    return std::make_shared<const data::Dataset>(data::load_dataset(config.dataset, config.data_dir, false));
  FLUXION_CHECK_INPUT(!config.data_dir.empty(), "--dataset ", config.dataset, " needs --data-dir DIR");
  data::ImageFolderOptions o = folder_options(config);
  o.resize = !config.image_size.empty();
  o.classes = recorded.classes;
  o.channels = recorded.info.channels, o.height = recorded.info.height, o.width = recorded.info.width;
  data::ImageFolderSplit split = data::read_image_folder(config.data_dir, false, o);
  return split.dataset;
}

}  // namespace fluxion::train
