// `fluxion predict --checkpoint FILE [--top K] [--json] IMAGE...`: the K most
// probable classes of each PNG or JPEG image under a model saved by `fluxion
// train`. The image is prepared as the run's test images were: converted to
// the run's channels, resized to its image size (bilinear, antialiased), and
// normalised with its mean and std, through the same data loader; the class
// names are an image folder's (a built-in dataset's classes are numbers).
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <memory>
#include <numeric>

#include <nlohmann/json.hpp>

#include "apps/checkpoint_model.h"
#include "apps/commands.h"
#include "apps/flag_checks.h"
#include "autograd/ops.h"
#include "core/parallel.h"
#include "data/datasets.h"
#include "data/image_folder.h"
#include "data/loader.h"
#include "layers/models/registry.h"
#include "train/checkpoint.h"
#include "train/trainer.h"

namespace fluxion::apps {
namespace {

struct PredictFlags {
  std::string checkpoint;
  CheckpointModelFlags model;
  std::vector<std::string> images;
  std::int64_t top = 5;
  bool json = false;
  int threads = 0;
};

// The images as one in-memory dataset of the run's shape (labels unused).
std::shared_ptr<data::Dataset> read_images(const std::vector<std::string>& paths, const data::DatasetInfo& info) {
  auto d = std::make_shared<data::Dataset>();
  d->name = "predict";
  d->channels = info.channels, d->height = info.height, d->width = info.width;
  d->num_classes = info.num_classes;
  for (const std::string& path : paths) {
    const std::vector<std::uint8_t> planes = data::read_image_file(path, info.channels, info.height, info.width);
    d->pixels.insert(d->pixels.end(), planes.begin(), planes.end());
    d->labels.push_back(0);
  }
  return d;
}

std::string class_name(const train::RecordedData& data, std::int64_t k) {
  return k < static_cast<std::int64_t>(data.classes.size()) ? data.classes[static_cast<std::size_t>(k)]
                                                             : std::to_string(k);
}

void print_prediction(const PredictFlags& f, const train::RecordedData& data, const std::string& path,
                      const std::vector<float>& probabilities) {
  std::vector<std::int64_t> order(probabilities.size());
  std::iota(order.begin(), order.end(), 0);
  const auto k = static_cast<std::size_t>(std::min<std::int64_t>(f.top, static_cast<std::int64_t>(order.size())));
  // Most probable first; equal probabilities in class order.
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k), order.end(),
                    [&](std::int64_t a, std::int64_t b) {
                      const float pa = probabilities[static_cast<std::size_t>(a)];
                      const float pb = probabilities[static_cast<std::size_t>(b)];
                      return pa > pb || (pa == pb && a < b);
                    });
  if (f.json) {
    nlohmann::ordered_json top = nlohmann::ordered_json::array();  // keys in the documented order
    for (std::size_t i = 0; i < k; ++i)
      top.push_back({{"index", order[i]},
                     {"class", class_name(data, order[i])},
                     {"probability", probabilities[static_cast<std::size_t>(order[i])]}});
    std::cout << nlohmann::ordered_json{{"image", path}, {"top", top}}.dump() << "\n";
    return;
  }
  std::cout << path << ":";
  for (std::size_t i = 0; i < k; ++i) {
    char p[32];
    std::snprintf(p, sizeof p, "%.2f%%", 100.0 * probabilities[static_cast<std::size_t>(order[i])]);
    std::cout << (i == 0 ? " " : ", ") << class_name(data, order[i]) << " " << p;
  }
  std::cout << "\n";
}

void run(const PredictFlags& f) {
  if (f.threads > 0) set_num_threads(f.threads);
  const CheckpointModel spec = checkpoint_model(f.checkpoint, f.model);
  FLUXION_CHECK_INPUT(!spec.dataset.empty(), f.checkpoint,
                      ": no run record names its dataset; give --dataset, whose image shape and normalisation the "
                      "images are prepared with");
  const data::DatasetInfo& info = spec.data.info;
  nn::ModulePtr model = load_checkpoint_model(f.checkpoint, spec);
  NoGradGuard no_grad;
  // The run's test-time preparation: the loader without shuffling or augmentation.
  data::DataLoader loader(read_images(f.images, info),
                          data::LoaderOptions().batch_size(64).shuffle(false).mean(info.mean).std(info.std).workers(1));
  loader.start_epoch(0);
  std::size_t next = 0;
  while (auto batch = loader.next()) {
    const Tensor probabilities = softmax(model->forward(batch->images), 1);  // [B, classes]
    const std::vector<float> p = probabilities.to_vector<float>();
    const auto classes = static_cast<std::size_t>(probabilities.size(1));
    for (std::size_t i = 0; i < p.size() / classes; ++i, ++next)
      print_prediction(f, spec.data, f.images[next],
                       std::vector<float>(p.begin() + static_cast<std::ptrdiff_t>(i * classes),
                                          p.begin() + static_cast<std::ptrdiff_t>((i + 1) * classes)));
  }
}

}  // namespace

void add_predict_command(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("predict", "The most probable classes of images under a trained model");
  auto f = std::make_shared<PredictFlags>();
  add_checkpoint_model_flags(cmd, f->checkpoint, f->model,
                             "Dataset whose images' shape and normalisation to use (default: the run's)");
  cmd->add_option("--top", f->top, "Classes to show per image")->check(whole_number_in(1, 100000))->capture_default_str();
  cmd->add_flag("--json", f->json,
                "One JSON object per image and line: {\"image\": PATH, \"top\": [{\"index\": I, \"class\": NAME, "
                "\"probability\": P}, ...]}");
  cmd->add_option("--threads", f->threads, "Threads (0: default)")->check(whole_number_in(0, 4096));
  cmd->add_option("images", f->images, "PNG or JPEG files")->required();
  cmd->callback([f] { run(*f); });
}

}  // namespace fluxion::apps
