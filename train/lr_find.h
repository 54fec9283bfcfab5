//! @file
//! Smith's learning-rate range test ("Cyclical Learning Rates for Training
//! Neural Networks", 2017, Section 3.3), as fastai's `lr_find` and
//! torch-lr-finder run it: from the weights a run would start from, one
//! optimizer step per training batch while the lr grows exponentially from
//! start_lr to end_lr; the loss of each batch (taken before its step) is
//! smoothed, and the sweep stops once the smoothed loss exceeds `diverge`
//! times the best so far, or the loss is NaN or infinite. Nothing is written:
//! `fluxion lr-find` (apps/lr_find.cpp) writes the curve and the plot.
//!
//!   train::LrFindResult r = train::lr_find(config, {.start_lr = 1e-6, .end_lr = 1});
//!   if (r.steepest) std::cout << r.steepest->lr;
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "layers/module.h"
#include "optim/optimizer.h"
#include "train/config.h"

namespace fluxion::train {

struct LrFindOptions {
  double start_lr = 1e-7;     ///< the swept value at the first step, > 0
  double end_lr = 10;         ///< at step `steps` - 1, > start_lr
  std::int64_t steps = 100;   ///< optimizer steps at most, >= 2
  double smooth = 0.98;       ///< beta of the bias-corrected exponential average of the loss, in [0, 1)
  double diverge = 4;         ///< stop once smoothed loss > diverge x the best smoothed loss, > 1
  /// The option swept: "lr", or "sgd_lr" (the AdaBayes family: the
  /// SGD lr of sigma^2 = sgd_lr / batch size, with lr held).
  std::string param = "lr";
  std::ostream* log = nullptr;  ///< the data's report and progress; nullptr: std::cout
};

struct LrFindPoint {
  std::int64_t step = 0;     ///< from 0
  double lr = 0;             ///< the swept value this step used
  double loss = 0;           ///< the batch's mean loss before the step
  double smoothed_loss = 0;  ///< bias-corrected exponential average of the losses so far
};

/// A suggested value and the step it was found at.
struct LrSuggestion {
  double lr = 0;
  std::int64_t step = 0;
  double slope = 0;  ///< steepest: d smoothed loss / d log10 lr there; minimum: 0
};

/// The rules that suggest a value, named in fluxion lr-find's text and JSON.
inline constexpr const char* kSteepestRule =
    "steepest descent: the lr where the smoothed loss falls fastest against log lr (the most negative "
    "d loss / d log10 lr, by central differences as numpy.gradient, over the points up to the minimum, the first "
    "tenth of the steps left out)";
inline constexpr const char* kMinimumRule =
    "minimum / 10: the lr of the lowest smoothed loss (the first tenth of the steps left out), divided by 10";

struct LrFindResult {
  std::vector<LrFindPoint> points;  ///< every step taken, the one that stopped the sweep included
  /// "completed" (all steps), "diverged" (smoothed loss > diverge x best)
  /// or "nan" (the loss was NaN or infinite).
  std::string stopped = "completed";
  std::optional<LrSuggestion> steepest;   ///< none when the smoothed loss never fell
  std::optional<LrSuggestion> minimum;    ///< the lowest smoothed loss's lr / 10 (none without a finite point)
  std::map<std::string, double> held;     ///< the optimizer's options, the swept one at start_lr
  double seconds = 0;
};

/// What the sweep calls, for tests and tools: with the model before the
/// first step, and after each step with its point and the optimizer.
struct LrFindHooks {
  std::function<void(nn::Module&)> on_start{};
  std::function<void(const LrFindPoint&, const optim::Optimizer&)> on_step{};
};

/// lr_i = start x (end / start)^(i / (steps - 1)), i = 0 .. steps - 1:
/// torch-lr-finder's ExponentialLR, ending exactly at `end`.
std::vector<double> lr_sequence(double start, double end, std::int64_t steps);

/// fastai's smoothing: avg_i = beta avg_{i-1} + (1 - beta) loss_i (avg_-1 = 0),
/// smoothed_i = avg_i / (1 - beta^(i+1)).
class LossSmoother {
 public:
  explicit LossSmoother(double beta) : beta_(beta) {}
  double add(double loss);  ///< the smoothed value after `loss`
 private:
  double beta_, average_ = 0, correction_ = 1;  // correction_: beta^(i+1) once `add` has run i+1 times
};

/// The stop rule, fastai's: true once a smoothed loss exceeds `factor` x
/// the lowest one so far, this one included (so never the first).
class DivergenceCheck {
 public:
  explicit DivergenceCheck(double factor) : factor_(factor) {}
  bool diverged(double smoothed_loss);
 private:
  double factor_, best_ = INFINITY;
};

/// Both suggestions for a curve (lr > 0, in increasing order), from its
/// points `skip_start` on (lr_find skips steps / 10, as fastai does: the
/// first smoothed values average only a few noisy losses), up to the first
/// non-finite smoothed loss.
void suggest(LrFindResult& result, std::int64_t skip_start = 0);

/// InputError naming the flag for options lr_find cannot run with
/// `config` (the sweep's own flags, and --param sgd_lr for an optimizer
/// without an sgd_lr).
void validate(const LrFindOptions& options, const TrainConfig& config);

/// The range test for `config`'s model, data and optimizer: the model is
/// built as run_training builds it (seeded with config.seed), the batches
/// come in the order its first epochs would have them (as many epochs as
/// `steps` needs), the optimizer has config's options with the swept one
/// set each step. Nothing is saved. Throws InputError for a bad
/// configuration or options.
LrFindResult lr_find(const TrainConfig& config, const LrFindOptions& options, const LrFindHooks& hooks = {});

}  // namespace fluxion::train
