// `fluxion eval --checkpoint FILE`: test loss, error and per-class accuracy
// of a model saved by `fluxion train` (best.safetensors or last.safetensors),
// on the dataset it was trained on or another with the same shape; or of any
// safetensors state_dict (PyTorch's, say) with --model NAME [--classes N]
// --dataset D (apps/checkpoint_model.h). An image folder's test split is
// read with the run's classes, size and normalisation, and its classes are
// printed by name.
#include <cstdio>
#include <iostream>

#include "apps/checkpoint_model.h"
#include "apps/commands.h"
#include "apps/flag_checks.h"
#include "core/parallel.h"
#include "data/datasets.h"
#include "train/trainer.h"

namespace fluxion::apps {
namespace {

struct EvalFlags {
  std::string checkpoint, data_dir;
  CheckpointModelFlags model;
  std::int64_t batch_size = 256;
  int threads = 0;
};

void print_result(const EvalFlags& f, const CheckpointModel& spec, const train::EvalResult& r, std::int64_t images) {
  std::printf("%s: %s on %s test (%lld images)\n", f.checkpoint.c_str(), spec.model.c_str(), spec.dataset.c_str(),
              static_cast<long long>(images));
  std::printf("test loss %.4f, error %.2f%%, accuracy %.2f%%\n", r.loss, 100.0 * r.error, 100.0 * (1.0 - r.error));
  std::printf("per-class accuracy:\n");
  const std::vector<std::string>& classes = spec.data.classes;
  for (std::size_t k = 0; k < r.class_accuracy.size(); ++k)
    if (k < classes.size())
      std::printf("  class %2zu (%s): %6.2f%%\n", k, classes[k].c_str(), 100.0 * r.class_accuracy[k]);
    else
      std::printf("  class %2zu: %6.2f%%\n", k, 100.0 * r.class_accuracy[k]);
}

void run(const EvalFlags& f) {
  if (f.threads > 0) set_num_threads(f.threads);
  const CheckpointModel spec = checkpoint_model(f.checkpoint, f.model);
  FLUXION_CHECK_INPUT(!spec.dataset.empty(), f.checkpoint,
                      ": no run record names its dataset; give --dataset (and --data-dir)");
  const data::DatasetInfo& info = spec.data.info;
  FLUXION_CHECK_INPUT(spec.options.num_classes == info.num_classes, "--classes ", spec.options.num_classes,
                      " differs from the ", info.num_classes, " classes of ", spec.dataset);
  // Where and how the test split is read: the run's settings (an image
  // folder's --image-size, say), with this command's --dataset and --data-dir.
  train::TrainConfig c = spec.run.value_or(train::TrainConfig());
  c.dataset = spec.dataset;
  if (!f.data_dir.empty() || !spec.run) c.data_dir = f.data_dir;
  nn::ModulePtr model = load_checkpoint_model(f.checkpoint, spec);
  const std::shared_ptr<const data::Dataset> test_set = train::load_test_split(c, spec.data);
  data::DataLoader loader(test_set,
                          data::LoaderOptions().batch_size(f.batch_size).shuffle(false).mean(info.mean).std(info.std));
  print_result(f, spec, train::evaluate(*model, loader, info.num_classes), test_set->size());
}

}  // namespace

void add_eval_command(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("eval", "Test loss, error and per-class accuracy of a trained model");
  auto f = std::make_shared<EvalFlags>();
  add_checkpoint_model_flags(cmd, f->checkpoint, f->model, "Dataset (default: the one it was trained on)");
  cmd->add_option("--data-dir", f->data_dir, "Folder with the dataset's files");
  cmd->add_option("--mean", f->model.mean, "Per-channel mean R,G,B to normalise with (default: the run's)");
  cmd->add_option("--std", f->model.std, "Per-channel standard deviation R,G,B (default: the run's)");
  cmd->add_option("--batch-size", f->batch_size, "Images per batch")->check(whole_number_in(1, 65536))->capture_default_str();
  cmd->add_option("--threads", f->threads, "Threads (0: default)")->check(whole_number_in(0, 4096));
  cmd->callback([f] { run(*f); });
}

}  // namespace fluxion::apps
