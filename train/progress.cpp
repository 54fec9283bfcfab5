#include "train/progress.h"

#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <string>

#include "train/trainer.h"

namespace fluxion::train {

Progress::Progress(std::ostream& out, std::int64_t epochs, std::int64_t batches_per_epoch, bool ema)
    : out_(out),
      epochs_(epochs),
      batches_(batches_per_epoch),
      terminal_(&out == &std::cout && isatty(STDOUT_FILENO)),
      ema_(ema) {}

void Progress::batch(std::int64_t epoch, std::int64_t batch, double images_per_s, double mean_loss) {
  if (!terminal_) return;
  // Redraw at most ten times a second, and at the last batch.
  const auto now = std::chrono::steady_clock::now();
  if (epoch != current_epoch_) {
    current_epoch_ = epoch;
    epoch_start_ = now;
  }
  if (batch != batches_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  constexpr int kWidth = 30;
  const int filled = static_cast<int>(kWidth * batch / batches_);
  // Time left in the epoch at the pace so far.
  const double elapsed = std::chrono::duration<double>(now - epoch_start_).count();
  const auto left = static_cast<long long>(elapsed / static_cast<double>(batch) * static_cast<double>(batches_ - batch));
  const std::string bar = std::string(static_cast<std::size_t>(filled), '=') +
                          std::string(static_cast<std::size_t>(kWidth - filled), ' ');
  char line[256];
  std::snprintf(line, sizeof line, "\repoch %lld/%lld [%s] %lld/%lld  %.0f img/s  loss %.4f  ETA %lld:%02lld ",
                static_cast<long long>(epoch), static_cast<long long>(epochs_), bar.c_str(),
                static_cast<long long>(batch), static_cast<long long>(batches_), images_per_s, mean_loss, left / 60,
                left % 60);
  out_ << line << std::flush;
}

void Progress::epoch(const EpochMetrics& m) {
  char ema[96] = "";
  if (ema_)
    std::snprintf(ema, sizeof ema, " | ema test loss %.4f, error %.2f%%", m.ema_test_loss, 100.0 * m.ema_test_error);
  char line[420];
  std::snprintf(line, sizeof line,
                "%sepoch %lld/%lld: train loss %.4f, error %.2f%% | test loss %.4f, error %.2f%%%s | lr %.3g | "
                "%.0f img/s | %.1f s\n",
                terminal_ ? "\r\033[K" : "", static_cast<long long>(m.epoch), static_cast<long long>(epochs_),
                m.train_loss, 100.0 * m.train_error, m.test_loss, 100.0 * m.test_error, ema, m.lr, m.images_per_s,
                m.seconds);
  out_ << line << std::flush;
}

}  // namespace fluxion::train
