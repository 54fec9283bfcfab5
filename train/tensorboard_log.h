//! @file
//! A run's TensorBoard view (TrainConfig::tensorboard): per epoch, into the
//! run's folder, every column of metrics.jsonl as a scalar, and per
//! parameter histograms of the weights, of the gradients and, for AdaBayes,
//! of the regime each weight is in. The files are plot/tensorboard_events.h's.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>

#include "layers/module.h"
#include "optim/optimizer.h"
#include "plot/tensorboard_events.h"
#include "train/metrics_log.h"

namespace fluxion::train {

class TensorBoardLog {
 public:
  /// Opens a new event file in `dir`. A run resumed after `epochs_done`
  /// epochs (> 0) begins its file with a SessionLog START at step
  /// epochs_done + 1: TensorBoard then drops what it read at that step and
  /// later from the earlier files (a killed run's epochs after its last
  /// checkpoint), so each epoch is seen once.
  TensorBoardLog(const std::filesystem::path& dir, std::int64_t epochs_done);

  /// Writes epoch m (its step is m.epoch) and flushes the file: the scalars
  /// (epoch_metric_columns(columns) but "epoch", under their keys), then for each
  /// parameter NAME the histograms "weights/NAME", "gradients/NAME" (of the
  /// epoch's last batch, as the optimizer stepped with it) and, for the
  /// AdaBayes family, "adabayes_log10_ratio/NAME": log10(sigma^2_post /
  /// (lr / sqrt(<g^2>))) per weight, 0 where it sits at Adam's rate,
  /// negative towards SGD's (docs/training.md).
  void write_epoch(const EpochMetrics& m, const OptionalColumns& columns, const nn::Module& model,
                   const optim::Optimizer& optimizer);

 private:
  plot::tensorboard::EventWriter writer_;
};

/// Removes DIR's event files: a new run's folder may hold those of a start
/// of the same run killed before its first checkpoint.
void remove_event_files(const std::filesystem::path& dir);

}  // namespace fluxion::train
