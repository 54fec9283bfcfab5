//! @file
//! Reading a training run's directory: its per-epoch metrics (metrics.jsonl,
//! written by the trainer) and the label that names the run in plots.
#pragma once

#include <string>
#include <vector>

namespace fluxion::plot {

/// One line of metrics.jsonl. Errors are fractions in [0, 1].
struct EpochMetrics {
  int epoch = 0;  ///< 1-based
  double train_loss = 0, train_error = 0;
  double test_loss = 0, test_error = 0;
  double lr = 0, images_per_s = 0, seconds = 0;
};

/// Reads RUN_DIR/metrics.jsonl: one JSON object per line with the keys
/// "epoch" (integer >= 1, increasing from line to line), "train_loss",
/// "train_error", "test_loss", "test_error", "lr", "images_per_s" and
/// "seconds" (numbers; errors in [0, 1]); other keys are ignored, blank lines
/// skipped.
///
/// A metric written as null is read as NaN (nlohmann::json, which the trainer
/// writes with, writes NaN and infinities as null: a run that diverged); each
/// key with such values adds one line to `warnings`, when given, and plots
/// leave those points out. (A number too large for a double, like 1e999, is a
/// malformed line: nlohmann::json does not parse it.) A last line without
/// its newline that does not parse is a line the trainer is still writing: it
/// is skipped with a warning.
///
/// Throws fluxion::InputError naming the file, and the line for problems on
/// one ("dir/metrics.jsonl:7: ..."): RUN_DIR or metrics.jsonl missing or
/// unreadable, no epochs in the file, a line that is not JSON ("malformed
/// line"), not an object, lacking a key, or holding a value of the wrong type
/// or out of range.
std::vector<EpochMetrics> read_metrics(const std::string& run_dir, std::vector<std::string>* warnings = nullptr);

/// The run's name in a legend: the directory's name, followed by
/// " (optimizer, model)" when RUN_DIR/config.json has those keys (strings, or
/// objects with a string "name"), for example "run3 (adabayes, resnet20)". Without a
/// config.json, just the name. Throws fluxion::InputError for a missing
/// RUN_DIR, or a config.json that is unreadable or not a JSON object.
std::string run_label(const std::string& run_dir);

}  // namespace fluxion::plot
