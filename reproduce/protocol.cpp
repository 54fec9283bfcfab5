#include "reproduce/protocol.h"

#include <algorithm>
#include <filesystem>

#include "core/error.h"
#include "data/datasets.h"
#include "layers/models/registry.h"
#include "optim/make_optimizer.h"
#include "train/checkpoint.h"
#include "train/trainer.h"

namespace fluxion::reproduce {
namespace fs = std::filesystem;
namespace {

bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

}  // namespace

const std::vector<std::string>& table1_optimizers() {
  static const std::vector<std::string> names = {"sgd",      "adam",     "adagrad", "amsgrad",    "adabound",
                                                 "amsbound", "adamw",    "adabayes-fp", "adabayes"};
  return names;
}

std::string display_name(const std::string& optimizer) {
  static const std::vector<std::pair<std::string, std::string>> names = {
      {"sgd", "SGD"},           {"adam", "Adam"},         {"adagrad", "AdaGrad"},       {"amsgrad", "AMSGrad"},
      {"adabound", "AdaBound"}, {"amsbound", "AMSBound"}, {"adamw", "AdamW"},           {"rmsprop", "RMSprop"},
      {"adabayes", "AdaBayes"}, {"adabayes-fp", "AdaBayes-FP"}};
  for (const auto& [name, shown] : names)
    if (name == optimizer) return shown;
  return optimizer;
}

Protocol make_protocol(const std::string& name, std::vector<std::string> datasets,
                       const std::vector<std::string>& models) {
  FLUXION_CHECK_INPUT(name == "small" || name == "paper", "--protocol: expected small or paper, got '", name, "'");
  for (const std::string& d : datasets)
    FLUXION_CHECK_INPUT(contains(data::dataset_names(), d), "--dataset: unknown dataset '", d,
                        "'; known datasets: ", join(data::dataset_names()));
  for (const std::string& m : models)
    FLUXION_CHECK_INPUT(contains(nn::model_names(), m), "--model: unknown model '", m,
                        "'; known models: ", join(nn::model_names()));
  Protocol p;
  p.name = name;
  if (name == "paper") {
    if (datasets.empty()) datasets = {"cifar10", "cifar100"};
    // Section 4 after Luo et al. (2019), demos/cifar10/main.py: 200 epochs,
    // StepLR(150, 0.1), batch 128 (docs/reproduce.md cites each line).
    p.description = "the paper's protocol (Section 4, after Luo et al. 2019): 200 epochs of batch 128, "
                    "lr / 10 after epoch 150, random crop and flip on CIFAR";
  } else {
    if (datasets.empty()) datasets = {"fashion-mnist"};
    p.epochs = 12;
    p.schedule = "multistep:9:0.1";  // 150 of 200 epochs, scaled
    p.subset = 10000;
    p.description = "the small protocol: the first 10,000 training images, 12 epochs of batch 128, "
                    "lr / 10 after epoch 9 (the paper's 150 of 200, scaled), the full test set";
  }
  for (const std::string& dataset : datasets) {
    std::vector<std::string> chosen = models;
    if (chosen.empty() && name == "paper") chosen = {"resnet34", "densenet121"};
    if (chosen.empty()) chosen = {dataset.rfind("cifar", 0) == 0 ? "resnet20" : "small_cnn"};
    for (const std::string& model : chosen) p.experiments.push_back({model, dataset});
  }
  return p;
}

void override_length(Protocol& p, std::int64_t epochs, std::int64_t subset) {
  if (epochs > 0) {
    const std::string drop = std::to_string(std::max<std::int64_t>(1, epochs * 3 / 4));
    p.epochs = epochs;
    p.schedule = "multistep:" + drop + ":0.1";
    p.description += "; overridden: " + std::to_string(epochs) + (epochs == 1 ? " epoch" : " epochs") +
                     ", lr / 10 after epoch " + drop;
  }
  if (subset >= 0) {
    p.subset = subset;
    p.description +=
        "; overridden: " + (subset > 0 ? "the first " + std::to_string(subset) : std::string("all")) + " training images";
  }
}

std::vector<PlannedRun> plan_runs(const Protocol& protocol, const std::string& out_dir,
                                  const std::vector<std::string>& optimizers, const std::vector<std::uint64_t>& seeds) {
  FLUXION_CHECK_INPUT(!seeds.empty(), "--seeds: expected at least one seed");
  FLUXION_CHECK_INPUT(!optimizers.empty(), "--optimizers: expected at least one optimizer");
  for (const std::string& o : optimizers)
    FLUXION_CHECK_INPUT(contains(optim::optimizer_names(), o), "--optimizers: unknown optimizer '", o,
                        "'; known optimizers: ", join(optim::optimizer_names()));
  std::vector<PlannedRun> runs;
  for (const Experiment& e : protocol.experiments)
    for (std::uint64_t seed : seeds)
      for (const std::string& optimizer : optimizers) {
        PlannedRun r{e, optimizer, seed, {}};
        train::TrainConfig& c = r.config;
        c.model = e.model;
        c.dataset = e.dataset;
        c.optimizer = optimizer;
        c.epochs = protocol.epochs;
        c.batch_size = protocol.batch_size;
        c.schedule = protocol.schedule;
        c.subset = protocol.subset;
        c.seed = seed;
        c.out_dir = (fs::path(out_dir) / e.folder() / optimizer / ("seed-" + std::to_string(seed))).string();
        runs.push_back(std::move(r));
      }
  return runs;
}

RunProgress run_progress(const PlannedRun& planned) {
  const fs::path dir(planned.config.out_dir);
  const fs::path last = dir / "last.safetensors";
  if (!fs::exists(last)) return {};  // nothing to keep: a crash before the first checkpoint starts over
  const train::TrainConfig recorded = train::read_run_config(dir.string());
  // Where and how fast a run trains may change between sessions; what it is may not.
  const auto difference =
      train::first_difference(planned.config, recorded, train::run_setting_keys());
  FLUXION_CHECK_INPUT(!difference, (dir / "config.json").string(), " holds a different run: \"", difference->key,
                      "\" is ", difference->second, ", the protocol plans ", difference->first,
                      ". Remove the folder or choose another --out, so results of two protocols are not mixed");
  RunProgress progress;
  progress.epochs_done = train::read_checkpoint_info(last.string()).epochs_done;
  progress.state = progress.epochs_done >= planned.config.epochs ? RunState::done : RunState::partial;
  return progress;
}

}  // namespace fluxion::reproduce
