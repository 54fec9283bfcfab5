//! @file
//! The learning rate of a training run over time: the curve of
//! make_schedule (warmup, then --schedule) stepped after every epoch or
//! every batch (--schedule-per), or for --schedule plateau the warmup and
//! then ReduceLROnPlateau stepped on each epoch's test metric. The trainer
//! calls after_batch and after_epoch; a checkpoint holds state() and a
//! resumed run restores it with resume().
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "optim/plateau.h"
#include "optim/schedule.h"
#include "train/config.h"

namespace fluxion::train {

class RunSchedule {
 public:
  /// Sets the lr of the run's first batch. `batches_per_epoch` converts the
  /// spec's epochs into batches with schedule_per "step".
  RunSchedule(optim::Optimizer& optimizer, const TrainConfig& config, std::int64_t batches_per_epoch);
  /// After batch `batch` (from 0) of epoch `epoch` (from 0), skipped or not
  /// (as a PyTorch loop calling scheduler.step() after every batch): per
  /// step, the next batch's lr. Nothing after the run's last batch, whose
  /// next lr would be the curve's end (0 for a cosine).
  void after_batch(std::int64_t epoch, std::int64_t batch);
  /// After epoch `epoch`'s evaluation: per epoch, the next epoch's lr (none
  /// after the last); a plateau steps on the epoch's metric, the last epoch
  /// included, so that a run resumed for more epochs continues it exactly.
  void after_epoch(std::int64_t epoch, double test_loss, double test_error);
  /// The scheduler's step count after `epochs_done` epochs.
  std::int64_t step_count(std::int64_t epochs_done) const { return epochs_done * unit_; }
  /// What a checkpoint must hold beyond the epochs done: a plateau's state
  /// and lrs as JSON text; empty for a curve, which follows from the epochs.
  std::string state() const;
  /// Continues after `epochs_done` epochs with the saved state(); throws
  /// InputError naming `source` when a plateau run's state is missing or malformed.
  void resume(std::int64_t epochs_done, const std::string& state, const std::string& source);

 private:
  optim::Optimizer& optimizer_;
  bool per_step_;               // --schedule-per step (never with a plateau)
  std::int64_t epochs_, unit_;  // the run's epochs; scheduler steps per epoch
  std::int64_t warmup_epochs_;  // a plateau's warmup, after which it acts
  std::unique_ptr<optim::LRScheduler> curve_;
  std::optional<PlateauSpec> plateau_spec_;
  std::unique_ptr<optim::ReduceLROnPlateau> plateau_;
};

}  // namespace fluxion::train
