// `fluxion eval --checkpoint FILE`: test loss, error and per-class accuracy
// of a model saved by `fluxion train` (best.safetensors or last.safetensors),
// on the dataset it was trained on or another with the same shape.
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "apps/commands.h"
#include "apps/flag_checks.h"
#include "core/json.h"
#include "core/parallel.h"
#include "data/datasets.h"
#include "layers/models/registry.h"
#include "train/checkpoint.h"
#include "train/trainer.h"

namespace fluxion::apps {
namespace {

struct EvalFlags {
  std::string checkpoint, dataset, data_dir, mean, std;
  std::int64_t batch_size = 256;
  int threads = 0;
};

void run(const EvalFlags& f) {
  if (f.threads > 0) set_num_threads(f.threads);
  const std::string source = f.checkpoint + " (its configuration)";
  nlohmann::json record = nlohmann::json::value_t::discarded;  // from_run_record names a malformed one
  try {
    record = parse_json_bounded(train::read_config_json(f.checkpoint));
  } catch (const nlohmann::json::exception&) {
  } catch (const JsonTooDeep& e) {
    throw InputError(detail::concat(source, ": ", e.what()));
  }
  train::TrainConfig c = train::from_run_record(record, source);
  if (!f.dataset.empty()) c.dataset = f.dataset;
  if (!f.data_dir.empty()) c.data_dir = f.data_dir;
  if (!f.mean.empty()) c.mean = f.mean;
  if (!f.std.empty()) c.std = f.std;
  // An image folder's classes, size and normalisation are the run's (--mean/--std over them).
  const train::RecordedData recorded = train::recorded_data(c, record, source);
  const data::DatasetInfo& info = recorded.info;
  nn::ModelOptions model_options;
  model_options.num_classes = info.num_classes;
  model_options.in_channels = info.channels;
  model_options.image_size = info.height;
  nn::ModulePtr model = nn::make_model(c.model, model_options);
  train::load_model_weights(f.checkpoint, *model);
  const std::shared_ptr<const data::Dataset> test_set = train::load_test_split(c, recorded);
  data::DataLoader loader(test_set,
                          data::LoaderOptions().batch_size(f.batch_size).shuffle(false).mean(info.mean).std(info.std));
  const train::EvalResult r = train::evaluate(*model, loader, info.num_classes);
  std::printf("%s: %s on %s test (%lld images)\n", f.checkpoint.c_str(), c.model.c_str(), c.dataset.c_str(),
              static_cast<long long>(test_set->size()));
  std::printf("test loss %.4f, error %.2f%%, accuracy %.2f%%\n", r.loss, 100.0 * r.error, 100.0 * (1.0 - r.error));
  std::printf("per-class accuracy:\n");
  for (std::size_t k = 0; k < r.class_accuracy.size(); ++k)
    if (k < recorded.classes.size())
      std::printf("  class %2zu (%s): %6.2f%%\n", k, recorded.classes[k].c_str(), 100.0 * r.class_accuracy[k]);
    else
      std::printf("  class %2zu: %6.2f%%\n", k, 100.0 * r.class_accuracy[k]);
}

}  // namespace

void add_eval_command(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("eval", "Test loss, error and per-class accuracy of a trained model");
  auto f = std::make_shared<EvalFlags>();
  cmd->add_option("--checkpoint", f->checkpoint, "best.safetensors or last.safetensors from fluxion train")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--dataset", f->dataset, "Dataset (default: the one it was trained on)")
      ->check(CLI::IsMember(data::dataset_names()));
  cmd->add_option("--data-dir", f->data_dir, "Folder with the dataset's files");
  cmd->add_option("--mean", f->mean, "Per-channel mean R,G,B to normalise with (default: the run's)");
  cmd->add_option("--std", f->std, "Per-channel standard deviation R,G,B (default: the run's)");
  cmd->add_option("--batch-size", f->batch_size, "Images per batch")->check(whole_number_in(1, 65536))->capture_default_str();
  cmd->add_option("--threads", f->threads, "Threads (0: default)")->check(whole_number_in(0, 4096));
  cmd->callback([f] { run(*f); });
}

}  // namespace fluxion::apps
