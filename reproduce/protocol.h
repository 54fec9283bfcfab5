//! @file
//! The experiments of the paper's Table 1 as a list of training runs: which
//! models on which datasets, for how long, with which optimizers and seeds,
//! and where each run's folder is. `fluxion reproduce table1` runs the list
//! (apps/reproduce.cpp); reproduce/table1.h reads the finished runs back.
//!
//!   Protocol p = make_protocol("small", {"fashion-mnist"});
//!   for (const PlannedRun& run : plan_runs(p, "results", table1_optimizers(), {0, 1, 2})) ...
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "train/config.h"

namespace fluxion::reproduce {

/// The optimizers of Table 1 in its row order, by optim::make_optimizer name:
/// sgd adam adagrad amsgrad adabound amsbound adamw adabayes-fp adabayes, and
/// a tenth row the paper lacks, adabayes-rescaled (docs/optimizers.md).
const std::vector<std::string>& table1_optimizers();
/// The name the paper's table prints: "SGD", "AMSGrad", "AdaBayes-FP", ...
std::string display_name(const std::string& optimizer);

/// One column group of the table: a model trained on a dataset.
struct Experiment {
  std::string model, dataset;
  std::string folder() const { return dataset + "-" + model; }
};

/// Everything the runs of a protocol share. Each run is a plain
/// train::TrainConfig with the optimizer's paper hyperparameters
/// (train::paper_hyperparameters), so `fluxion train` can repeat any one.
struct Protocol {
  std::string name;  ///< "paper", "small" or "long" (protocol_names())
  std::vector<Experiment> experiments;
  std::int64_t epochs = 200, batch_size = 128;
  std::int64_t drop_after = 150;               ///< the epoch after which lr / 10
  std::string schedule = "multistep:150:0.1";  ///< the training schedule: lr / 10 after drop_after
  std::int64_t subset = 0;                     ///< > 0: the first N training images only
  std::string description;                     ///< one sentence, stated with the results
};

/// The protocols, in the order --help lists them: paper, small, long.
const std::vector<std::string>& protocol_names();
/// Each protocol's name and one-line summary, for --help.
std::string protocol_help();

/// "paper": Section 4's protocol (after Luo et al. 2019): ResNet-34 and
/// DenseNet-121 on each dataset, 200 epochs of batch 128, lr / 10 at epoch
/// 150, CIFAR augmentation. Datasets default to cifar10 and cifar100.
/// "small": what 2 CPU cores finish in about an hour per dataset: the first
/// 10,000 training images, 12 epochs of batch 128, lr / 10 after epoch 9
/// (the paper's 150 of 200, scaled), the small CNN on (Fashion-)MNIST and
/// ResNet-20 on CIFAR. Datasets default to fashion-mnist.
/// "long": the small protocol's models on all training images for 40 epochs,
/// lr / 10 after epoch 6, so that the 34 epochs after the drop are two time
/// constants of AdaBayes's filter (docs/optimizers.md). About 40 minutes a
/// run on one core.
/// `models`, when not empty, replaces the protocol's models (every model on
/// every dataset). Throws InputError naming the flag for an unknown protocol,
/// dataset or model.
Protocol make_protocol(const std::string& name, std::vector<std::string> datasets = {},
                       const std::vector<std::string>& models = {});

/// Shorter (or longer) runs than the protocol's, for example to try the command
/// out: epochs > 0 replaces the epochs (lr / 10 after the same share of them
/// as the protocol's: three quarters, or 6 / 40 for long), subset >= 0 the
/// training images (0: all). Each change is added to
/// the description, which the table states.
void override_length(Protocol& protocol, std::int64_t epochs, std::int64_t subset);

struct PlannedRun {
  Experiment experiment;
  std::string optimizer;
  std::uint64_t seed = 0;
  train::TrainConfig config;  ///< config.out_dir: OUT/DATASET-MODEL/OPTIMIZER/seed-S
};

/// Every run, experiment by experiment, then seed by seed, then in the
/// table's optimizer order (so a sweep cut short has whole seeds of each
/// experiment). Throws InputError for an unknown optimizer or no seeds.
std::vector<PlannedRun> plan_runs(const Protocol& protocol, const std::string& out_dir,
                                  const std::vector<std::string>& optimizers, const std::vector<std::uint64_t>& seeds);

enum class RunState { fresh, partial, done };
struct RunProgress {
  RunState state = RunState::fresh;
  std::int64_t epochs_done = 0;
};

/// How far the run in planned.config.out_dir got: fresh (no checkpoint),
/// partial (a checkpoint, fewer epochs than planned: resume it) or done.
/// Throws InputError when the folder holds a different run (its config.json
/// differs from the plan in anything but threads, workers, data folder or
/// device), naming the file and the first field that differs, so results of
/// two protocols are never mixed.
RunProgress run_progress(const PlannedRun& planned);

}  // namespace fluxion::reproduce
