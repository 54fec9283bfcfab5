//! @file
//! What `fluxion train` prints while it works. On a terminal: a progress bar
//! redrawn in place (epoch, batch, images/s, loss, time left in the epoch);
//! otherwise (a log file, CI) nothing per batch. Either way, one plain line
//! per epoch.
#pragma once

#include <chrono>
#include <cstdint>
#include <ostream>

namespace fluxion::train {

struct EpochMetrics;

class Progress {
 public:
  /// The bar is drawn only when `out` is std::cout and standard output is a
  /// terminal. `ema`: the epoch lines show the weight EMA's test figures too.
  Progress(std::ostream& out, std::int64_t epochs, std::int64_t batches_per_epoch, bool ema = false);
  void batch(std::int64_t epoch, std::int64_t batch, double images_per_s, double mean_loss);
  void epoch(const EpochMetrics& m);

 private:
  std::ostream& out_;
  std::int64_t epochs_, batches_;
  bool terminal_, ema_;
  std::chrono::steady_clock::time_point last_draw_{}, epoch_start_{};
  std::int64_t current_epoch_ = -1;
};

}  // namespace fluxion::train
