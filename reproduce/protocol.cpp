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

}  // namespace

const std::vector<std::string>& table1_optimizers() {
  // The paper's nine, then the variant of docs/optimizers.md as a tenth row.
  static const std::vector<std::string> names = {"sgd",      "adam",  "adagrad",     "amsgrad",  "adabound",
                                                 "amsbound", "adamw", "adabayes-fp", "adabayes", "adabayes-rescaled"};
  return names;
}

std::string display_name(const std::string& optimizer) {
  static const std::vector<std::pair<std::string, std::string>> names = {
      {"sgd", "SGD"},           {"adam", "Adam"},         {"adagrad", "AdaGrad"},       {"amsgrad", "AMSGrad"},
      {"adabound", "AdaBound"}, {"amsbound", "AMSBound"}, {"adamw", "AdamW"},           {"rmsprop", "RMSprop"},
      {"adabayes", "AdaBayes"}, {"adabayes-fp", "AdaBayes-FP"}, {"adabayes-rescaled", "AdaBayes-rescaled"}};
  for (const auto& [name, shown] : names)
    if (name == optimizer) return shown;
  return optimizer;
}

namespace {

// One protocol: its lengths and the models it trains on (Fashion-)MNIST and on CIFAR.
struct ProtocolDefinition {
  const char* name;
  const char* summary;  ///< for --help: what it is and what it needs
  std::int64_t epochs;
  std::int64_t drop_after;  ///< lr / 10 after this epoch
  std::int64_t subset;      ///< 0: all training images
  std::vector<std::string> default_datasets, mnist_models, cifar_models;
  const char* description;
};

// Every protocol, written once: make_protocol, protocol_names() and the
// command line's --protocol read this list.
const std::vector<ProtocolDefinition>& protocol_definitions() {
  static const std::vector<ProtocolDefinition> list = {
      // Section 4 after Luo et al. (2019), demos/cifar10/main.py: 200 epochs,
      // StepLR(150, 0.1), batch 128 (docs/reproduce.md cites each line).
      {"paper", "Section 4: ResNet-34 and DenseNet-121, 200 epochs (a GPU)", 200, 150, 0,
       {"cifar10", "cifar100"}, {"resnet34", "densenet121"}, {"resnet34", "densenet121"},
       "the paper's protocol (Section 4, after Luo et al. 2019): 200 epochs of batch 128, "
       "lr / 10 after epoch 150, random crop and flip on CIFAR"},
      // What 2 CPU cores finish in about an hour per dataset.
      {"small", "the first 10,000 images, 12 epochs (2 CPU cores: about an hour)", 12, 9, 10000,
       {"fashion-mnist"}, {"small_cnn"}, {"resnet20"},
       "the small protocol: the first 10,000 training images, 12 epochs of batch 128, "
       "lr / 10 after epoch 9 (the paper's 150 of 200, scaled), the full test set"},
      // After the drop AdaBayes's filter state relaxes to the new sigma^2 with
      // a time constant of sigma^2 / eta^2 = 10 sgd_lr / (batch lr^2) steps at
      // the paper's hyperparameters: 7,812 steps of 128, 1e6 images, whatever
      // the batch (docs/optimizers.md). 34 epochs of 60,000 images after the
      // drop are 15,946 steps (469 a epoch, the last batch partial), two time constants; the paper's 50 of 200
      // epochs of CIFAR-10 are 2.5. Six epochs before it: 3.6 time constants
      // of the pre-drop filter (781 steps), time enough to settle.
      {"long", "all training images, 40 epochs, lr / 10 after 6 (one core: about 40 min a run)", 40, 6, 0, {"fashion-mnist"}, {"small_cnn"}, {"resnet20"},
       "the long protocol: all training images, 40 epochs of batch 128, lr / 10 after epoch 6, so that the "
       "34 epochs after the drop are two time constants of AdaBayes's filter (7,812 steps each), the full test set"},
  };
  return list;
}

}  // namespace

const std::vector<std::string>& protocol_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const ProtocolDefinition& d : protocol_definitions()) out.push_back(d.name);
    return out;
  }();
  return names;
}

std::string protocol_help() {
  std::string out;
  for (const ProtocolDefinition& d : protocol_definitions())
    out += (out.empty() ? "" : "; ") + std::string(d.name) + ": " + d.summary;
  return out;
}

Protocol make_protocol(const std::string& name, std::vector<std::string> datasets,
                       const std::vector<std::string>& models) {
  const auto& list = protocol_definitions();
  const auto definition =
      std::find_if(list.begin(), list.end(), [&](const ProtocolDefinition& d) { return name == d.name; });
  FLUXION_CHECK_INPUT(definition != list.end(), "--protocol: expected one of ", detail::join(protocol_names()),
                      ", got '", name, "'");
  for (const std::string& d : datasets)
    FLUXION_CHECK_INPUT(contains(data::dataset_names(), d), "--dataset: unknown dataset '", d,
                        "'; known datasets: ", detail::join(data::dataset_names()));
  for (const std::string& m : models)
    FLUXION_CHECK_INPUT(contains(nn::model_names(), m), "--model: unknown model '", m,
                        "'; known models: ", detail::join(nn::model_names()));
  const ProtocolDefinition& d = *definition;
  Protocol p;
  p.name = d.name;
  p.epochs = d.epochs;
  p.drop_after = d.drop_after;
  p.schedule = "multistep:" + std::to_string(d.drop_after) + ":0.1";
  p.subset = d.subset;
  p.description = d.description;
  if (datasets.empty()) datasets = d.default_datasets;
  for (const std::string& dataset : datasets) {
    const bool cifar = dataset.rfind("cifar", 0) == 0;
    const std::vector<std::string>& chosen = !models.empty() ? models : cifar ? d.cifar_models : d.mnist_models;
    for (const std::string& model : chosen) p.experiments.push_back({model, dataset});
  }
  return p;
}

void override_length(Protocol& p, std::int64_t epochs, std::int64_t subset) {
  if (epochs > 0) {
    // The protocol's drop moves with its length: after the same share of the epochs.
    p.drop_after = std::max<std::int64_t>(1, epochs * p.drop_after / p.epochs);
    p.epochs = epochs;
    const std::string drop = std::to_string(p.drop_after);
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
                        "'; known optimizers: ", detail::join(optim::optimizer_names()));
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
