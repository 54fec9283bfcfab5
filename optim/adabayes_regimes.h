//! @file
//! Where AdaBayes's per-weight learning rate sigma^2_post sits, as the
//! paper's Fig. 3 reads it: the SGD-like regime (low data: Adam's rate
//! eta / sqrt(<g^2>) far above sigma^2, and sigma^2_post within 10% of
//! sigma^2, Eq. 22) and the Adam-like regime (high data: eta / sqrt(<g^2>)
//! far below sigma^2, and sigma^2_post within 10% of it). One definition,
//! used by `fluxion reproduce fig3`'s summary (reproduce/fig3.h) and by the
//! trainer's per-step log (train/step_log.h).
#pragma once

#include <cmath>
#include <cstdint>

#include "optim/adabayes.h"

namespace fluxion::optim {

/// "Far into a limit": Adam's rate more than this factor above sigma^2 (low
/// data) or below it (high data).
inline constexpr double kRegimeLimitFactor = 10.0;
/// "Within 10%": |sigma^2_post / target - 1| <= this.
inline constexpr double kRegimeTolerance = 0.1;

/// adam_lr = eta / sqrt(<g^2>) > 10 sigma^2: gradients too small to matter.
inline bool low_data_limit(double adam_lr, double prior_variance) {
  return adam_lr > kRegimeLimitFactor * prior_variance;
}
/// adam_lr < sigma^2 / 10: the gradients dominate the prior.
inline bool high_data_limit(double adam_lr, double prior_variance) {
  return adam_lr < prior_variance / kRegimeLimitFactor;
}
/// |value / target - 1| <= 10%.
inline bool within_tolerance(double value, double target) {
  return std::abs(value / target - 1.0) <= kRegimeTolerance;
}

enum class Regime { sgd_like, adam_like, neither };

/// A weight's regime from its sigma^2_post, the prior variance sigma^2 and
/// Adam's rate eta / sqrt(<g^2>). The two limits exclude each other, so a
/// weight is in at most one regime.
inline Regime regime_of(double posterior_variance, double prior_variance, double adam_lr) {
  if (low_data_limit(adam_lr, prior_variance) && within_tolerance(posterior_variance, prior_variance))
    return Regime::sgd_like;
  if (high_data_limit(adam_lr, prior_variance) && within_tolerance(posterior_variance, adam_lr))
    return Regime::adam_like;
  return Regime::neither;
}

/// The filter's state over all weights at one moment.
struct AdaBayesRegimes {
  std::int64_t weights = 0;               ///< weights counted: those of parameters that have stepped
  double median_posterior_variance = 0;   ///< torch.median's: the lower of the two middle values
  double share_low_data = 0;              ///< of all counted weights: eta / sqrt(<g^2>) > 10 sigma^2
  double share_sgd_like = 0;              ///< of all counted weights: low data and sigma^2_post within 10% of sigma^2
  double share_high_data = 0;             ///< of all counted weights: eta / sqrt(<g^2>) < sigma^2 / 10
  double share_adam_like = 0;             ///< of all counted weights: high data and sigma^2_post within 10% of it
};

/// Reads every parameter's sigma^2_post and <g^2> (AdaBayes-FP: the fixed
/// point it sets sigma^2_post to), each group with its own sigma^2 and eta.
/// All zeros (weights 0) before the first step. Copies the state to the
/// host: meant for a log every N steps, not for every step.
AdaBayesRegimes adabayes_regimes(const AdaBayes& optimizer);

}  // namespace fluxion::optim
