//! @file
//! A run's per-epoch log: OUT/metrics.jsonl and OUT/metrics.csv, one line per
//! epoch. Their columns are epoch_metric_columns, listed once: the JSON keys,
//! the CSV header and every other view of an epoch's figures (TensorBoard's
//! scalars) derive from it, so a new figure is one row here. Some columns
//! belong to runs with a setting only (the EMA's, with --ema): a run
//! without it has none of them.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

namespace fluxion::train {

struct EpochMetrics {
  std::int64_t epoch = 0;  ///< 1-based
  double train_loss = 0;    ///< mean cross-entropy over the epoch's training batches
  double train_error = 0;   ///< a fraction in [0, 1], as test_error
  double test_loss = 0;
  double test_error = 0;
  double ema_test_loss = 0;  ///< with --ema: the averaged weights' test loss
  double ema_test_error = 0;  ///< and test error
  double lr = 0;            ///< the (first group's) lr at the epoch's first batch (with --schedule-per step it changes each batch)
  /// The mean over the epoch's steps (skipped batches left out) of the total
  /// gradient 2-norm before clipping (optim::grad_norm, after the ranks' sum).
  double grad_norm = 0;
  double images_per_s = 0;  ///< training images per second
  std::int64_t skipped_batches = 0;  ///< batches with a NaN/inf loss or gradient, skipped (TrainConfig::skip_nonfinite)
  double seconds = 0;       ///< the epoch's wall time, evaluation included
};

/// The optional columns a run's metrics have, as its configuration decides.
struct OptionalColumns {
  bool ema = false;  ///< TrainConfig::ema > 0: ema_test_loss and ema_test_error
};

/// One column of the metrics files: its key (JSON key, CSV header) and how
/// an epoch's value is read and printed.
struct MetricColumn {
  const char* key;
  double (*value)(const EpochMetrics&);
  bool whole_number;       ///< printed without a fraction (epoch, counts)
  bool digits_matter;      ///< printed to 9 significant digits (losses, rates); else 6 (timings)
  /// Whether a run has the column; nullptr: every run has it.
  bool (*present)(const OptionalColumns&) = nullptr;
};

/// The columns of a run with `optional`, in the files' order ("epoch" first).
std::vector<MetricColumn> epoch_metric_columns(const OptionalColumns& optional);

/// Appends one epoch to DIR/metrics.jsonl and DIR/metrics.csv (the CSV with
/// its header line when new), the columns of a run with `optional`;
/// InputError naming the file when it cannot.
void append_metrics(const std::filesystem::path& dir, const EpochMetrics& m, const OptionalColumns& optional);

/// Keeps only the first `epochs` epochs in DIR's metrics files: a resumed
/// run rewrites the epochs after its checkpoint, if an interrupted run got
/// further. metrics.csv is written again from metrics.jsonl with the
/// columns of a run with `optional`, so a run started by an older version,
/// with fewer columns, goes on under one header (the older rows' new
/// cells empty). InputError naming the file and line for a damaged line.
void truncate_metrics(const std::filesystem::path& dir, std::int64_t epochs, const OptionalColumns& optional);

/// The names of the files above, for the folder checks.
inline constexpr const char* kMetricsFiles[] = {"metrics.jsonl", "metrics.csv"};

}  // namespace fluxion::train
