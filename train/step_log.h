//! @file
//! A run's per-step log: OUT/steps.jsonl, one JSON line every
//! TrainConfig::log_every steps. Its columns are step_log_columns, listed
//! once: the JSON keys derive from it (and any later view of a step's
//! figures should too), so a new figure is one row here.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>

#include "optim/adabayes_regimes.h"

namespace fluxion::train {

/// One training step, as logged.
struct StepRecord {
  std::int64_t step = 0;   ///< global, 1-based: (epoch - 1) x batches per epoch + batch, the same on a resume
  std::int64_t epoch = 0;  ///< 1-based
  std::int64_t batch = 0;  ///< 1-based, within the epoch
  double loss = 0;         ///< the batch's mean loss (over the global batch when distributed)
  double lr = 0;           ///< the (first group's) lr the step used
  double grad_norm = 0;    ///< the total gradient 2-norm before clipping
  double step_seconds = 0; ///< wall time of forward, backward, checks, clipping and update (not the data wait)
  /// The AdaBayes family only: where its weights sit (Fig. 3's regimes).
  /// Their columns are written only when set.
  std::optional<optim::AdaBayesRegimes> regimes;
};

/// One column of steps.jsonl: its key and how a step's value is read.
struct StepColumn {
  const char* key;
  double (*value)(const StepRecord&);
  bool whole_number;   ///< written as an integer (step, epoch, batch)
  bool adabayes_only;  ///< present only in an AdaBayes run's lines
};

/// The columns, in each line's order ("step" first).
std::span<const StepColumn> step_log_columns();

/// The record as one JSON object on one line (no newline).
std::string step_line(const StepRecord& record);

/// Appends one line to DIR/steps.jsonl; InputError naming the file when it
/// cannot.
void append_step(const std::filesystem::path& dir, const StepRecord& record);

/// Keeps only the lines of steps up to `last_step` in DIR/steps.jsonl (and
/// none after a line that does not parse, the tail of a killed write): a
/// resumed run rewrites the steps after its checkpoint, as truncate_metrics
/// the epochs.
void truncate_steps(const std::filesystem::path& dir, std::int64_t last_step);

/// The file's name, for the folder checks.
inline constexpr const char* kStepLogFile = "steps.jsonl";

}  // namespace fluxion::train
