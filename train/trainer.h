//! @file
//! The training loop behind `fluxion train`, callable from any program:
//! builds the model, data, optimizer and schedule a TrainConfig names, trains
//! epoch by epoch, evaluates on the test split after each, and writes into
//! config.out_dir:
//!   config.json        the resolved configuration, git commit and versions
//!   metrics.jsonl/.csv one line per epoch (train/metrics_log.h)
//!   steps.jsonl        a line every TrainConfig::log_every steps (train/step_log.h)
//!   last.safetensors   everything needed to resume, after every epoch
//!   best.safetensors   the model with the lowest test error so far (PyTorch keys)
//!   events.out.tfevents.*  TensorBoard's view, with TrainConfig::tensorboard (train/tensorboard_log.h)
//!   best-ema.safetensors  with --ema: the weights' moving average with the lowest test error so far
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "core/error.h"
#include "data/datasets.h"
#include "data/loader.h"
#include "layers/module.h"
#include "optim/optimizer.h"
#include "train/config.h"
#include "train/metrics_log.h"
#include "train/run_data.h"

namespace fluxion::train {

/// A NaN or infinite loss or gradient (beyond TrainConfig::skip_nonfinite
/// such batches in an epoch): the run stops before writing anything of the
/// diverged epoch; the last checkpoint stays as it was.
struct TrainingDiverged : Error {
  using Error::Error;
};

/// A request to stop (SIGINT or SIGTERM, see core/stop_request.h) reached
/// the run: it stopped after a batch, before its update, without writing
/// anything more; the message names where, the last checkpoint, and how to
/// resume.
struct Interrupted : Error {
  Interrupted(int signal, const std::string& message) : Error(message), signal(signal) {}
  int signal;  ///< SIGINT or SIGTERM
};

/// What on_step sees after each training batch.
struct StepInfo {
  std::int64_t epoch = 0;             ///< counted from 1
  std::int64_t batch = 0;             ///< counted from 1
  std::int64_t batches_per_epoch = 0;
  double loss = 0;                    ///< the batch's mean loss
  nn::Module& model;
  const optim::Optimizer& optimizer;
  bool skipped = false;               ///< a NaN/inf loss or gradient: no step was taken (skip_nonfinite)
  double grad_norm = NAN;             ///< the total gradient 2-norm before clipping (NaN/inf when skipped for it)
  double lr = 0;                      ///< the (first group's) lr of the step
};

struct TrainOptions {
  bool resume = false;            ///< continue the run in config.out_dir from last.safetensors
  std::ostream* log = nullptr;    ///< progress and per-epoch lines; nullptr: std::cout
  /// Called after each epoch's checkpoint is written: to stop or inspect a run.
  std::function<void(const EpochMetrics&)> on_epoch;
  /// Called after each training batch, skipped or not (`fluxion reproduce
  /// fig3` samples the optimizer's state from it), before a schedule
  /// stepped per batch moves on: the optimizer's lr is the batch's.
  std::function<void(const StepInfo&)> on_step;
  /// Called after each batch's backward, before the gradients are checked
  /// and the optimizer steps: to inspect, log or change gradients. In a
  /// distributed run it sees this rank's own gradients, before the ranks'
  /// are summed (so clipping here clips per rank), and is not called on a
  /// rank whose share of the batch is empty.
  std::function<void(nn::Module&)> after_backward;
};

struct TrainResult {
  std::vector<EpochMetrics> history;  ///< the epochs this call ran
  double best_test_error = INFINITY;  ///< none yet
  double best_ema_test_error = INFINITY;  ///< with --ema: the averaged weights'; none yet
  std::string out_dir;
  std::int64_t skipped_images = 0;  ///< image folders, --skip-bad-images: images left out
  std::string first_skipped;        ///< "PATH: what is wrong" of the first of them
};

/// Throws InputError for a bad configuration or data, TrainingDiverged on a
/// NaN or infinite loss.
TrainResult run_training(TrainConfig config, const TrainOptions& options = {});

/// Model `name` built for dataset `info`'s images and classes, in train
/// mode. A model whose layers do not fit those images (DenseNet-121's 4x4
/// pool on 28x28) is refused now, with an InputError naming both, rather
/// than failing mid-step.
nn::ModulePtr make_model_for(const std::string& name, const data::DatasetInfo& info);

/// The configuration recorded in OUT/config.json, for --resume (`flag`
/// names the option in errors).
TrainConfig read_run_config(const std::string& out_dir, const std::string& flag = "--resume");

struct EvalResult {
  double loss = 0, error = 0;
  std::int64_t images = 0, wrong = 0;  ///< images evaluated, and misclassified
  std::vector<double> class_accuracy;  ///< per class, NaN for a class with no images
};
/// Mean cross-entropy, error rate and per-class accuracy over one pass of
/// `loader` in evaluation mode, without a graph.
EvalResult evaluate(nn::Module& model, data::DataLoader& loader, std::int64_t num_classes);

}  // namespace fluxion::train
