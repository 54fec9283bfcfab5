//! @file
//! A run's per-epoch log: OUT/metrics.jsonl and OUT/metrics.csv, one line per
//! epoch. Their columns are epoch_metric_columns, listed once: the JSON keys,
//! the CSV header and every other view of an epoch's figures (TensorBoard's
//! scalars) derive from it, so a new figure is one row here.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>

namespace fluxion::train {

struct EpochMetrics {
  std::int64_t epoch = 0;  ///< 1-based
  double train_loss = 0;    ///< mean cross-entropy over the epoch's training batches
  double train_error = 0;   ///< a fraction in [0, 1], as test_error
  double test_loss = 0;
  double test_error = 0;
  double lr = 0;            ///< the (first group's) lr used during the epoch
  /// The mean over the epoch's steps (skipped batches left out) of the total
  /// gradient 2-norm before clipping (optim::grad_norm, after the ranks' sum).
  double grad_norm = 0;
  double images_per_s = 0;  ///< training images per second
  std::int64_t skipped_batches = 0;  ///< batches with a NaN/inf loss or gradient, skipped (TrainConfig::skip_nonfinite)
  double seconds = 0;       ///< the epoch's wall time, evaluation included
};

/// One column of the metrics files: its key (JSON key, CSV header) and how
/// an epoch's value is read and printed.
struct MetricColumn {
  const char* key;
  double (*value)(const EpochMetrics&);
  bool whole_number;       ///< printed without a fraction (epoch, counts)
  bool digits_matter;      ///< printed to 9 significant digits (losses, rates); else 6 (timings)
};

/// The columns, in the files' order ("epoch" first).
std::span<const MetricColumn> epoch_metric_columns();

/// Appends one epoch to DIR/metrics.jsonl and DIR/metrics.csv (the CSV with
/// its header line when new); InputError naming the file when it cannot.
void append_metrics(const std::filesystem::path& dir, const EpochMetrics& m);

/// Keeps only the first `epochs` epochs in DIR's metrics files: a resumed
/// run rewrites the epochs after its checkpoint, if an interrupted run got
/// further.
void truncate_metrics(const std::filesystem::path& dir, std::int64_t epochs);

/// The names of the files above, for the folder checks.
inline constexpr const char* kMetricsFiles[] = {"metrics.jsonl", "metrics.csv"};

}  // namespace fluxion::train
