//! @file
//! AdaBayes and AdaBayes-FP (Aitchison, "Bayesian filtering unifies adaptive
//! and non-adaptive neural network optimization methods", arXiv 1807.07540).
//!
//! Each weight is Kalman-filtered: a Gaussian posterior (mean = the weight,
//! variance sigma^2_post) that drifts toward the prior between steps and is
//! sharpened by each gradient. The posterior variance is the per-weight
//! learning rate: it sits near sigma^2 (SGD with lr sgd_lr) while gradients
//! are small, and near lr / sqrt(<g^2>) (Adam with lr lr) once they are large.
//! AdaBayes-FP sets sigma^2_post straight to the fixed point of that filter.
//! docs/optimizers.md derives the updates and lists where the author's code,
//! which Fluxion follows by default, differs from the printed equations.
#pragma once

#include "optim/optimizer.h"
#include "optim/rule_list.h"

namespace fluxion::optim {

// The update rules of step(), declared here and defined in optim/rules.h, so
// that editing a rule recompiles optim/ only, not every program.
namespace rules {
struct AdaBayes;
struct AdaBayesRescaled;
struct AdaBayesFP;
}  // namespace rules

/// How the prior variance moves between steps (Eq. 17b).
enum class VarianceUpdate {
  exact,        ///< decay exp(-eta^2 / sigma^2), plus sigma^2 (1 - decay): the reference code
  first_order,  ///< (1 - eta^2 / (2 sigma^2))^2 sigma^2_post + eta^2: Eq. 17b as printed
};

/// variance_update's allowed values: the enum's two.
inline auto exact_or_first_order() {
  return [](const char* who, const char* option, VarianceUpdate value) {
    FLUXION_CHECK(value == VarianceUpdate::exact || value == VarianceUpdate::first_order, who, ": option ", option,
                  " must be 0 (exact) or 1 (first_order)");
  };
}

/// AdaBayes's and AdaBayes-FP's options: type, name, default, allowed values
/// (FLUXION_OPTIONS, core/options.h).
#define FLUXION_ADABAYES_OPTIONS(X)                                                                                   \
  X(double, lr, 1e-3, positive())                           /* eta = eta_Adam (Eq. 25) */                             \
  X(double, sgd_lr, 0.1, positive())                        /* eta_SGD: sigma^2 = sgd_lr / batch_size (Eq. 23) */     \
  X(double, batch_size, 128.0, whole_number_at_least(1.0))  /* the minibatch size the gradients were averaged over */ \
  X(double, beta1, 0.9, unit_interval())                                                                              \
  X(double, beta2, 0.999, unit_interval())                                                                            \
  X(double, eps, 1e-8, at_least(0.0))                       /* AdaBayes-FP only: added to <g^2> */                    \
  X(double, weight_decay, 5e-5, at_least(0.0))              /* lambda of Eq. 19a, decoupled */                        \
  X(VarianceUpdate, variance_update, VarianceUpdate::exact, exact_or_first_order())                                  \
  X(bool, rescale_on_lr_change, false, any_value()) /* AdaBayes only: sigma^2_post follows the lr (adabayes-rescaled) */

struct AdaBayesOptions {
  FLUXION_OPTIONS(FLUXION_ADABAYES_OPTIONS)

 public:
  AdaBayesOptions() = default;
  explicit AdaBayesOptions(double lr) : lr_(lr) {}
  AdaBayesOptions& betas(double b1, double b2) { return beta1(b1).beta2(b2); }
};

/// The per-parameter state both keep: "exp_avg" and "exp_avg_sq" (moments of
/// the summed-loss gradient) and, for AdaBayes, "posterior_variance", or with
/// rescale_on_lr_change "posterior_ratio" (sigma^2_post / sigma^2).
///
/// rescale_on_lr_change (the optimizer `adabayes-rescaled`) is a variant, not
/// the author's algorithm: when the schedule multiplies the lr by c,
/// sigma^2_post is multiplied by c too, so an lr drop reaches the step size at
/// once. The reference lets sigma^2_post relax to the new sigma^2 with a time
/// constant of sigma^2 / eta^2 steps (7,812 after a drop by 10 at the paper's
/// settings). docs/optimizers.md derives both.
class AdaBayes : public OptimizerWith<AdaBayesOptions> {
 public:
  /// The update rule step() runs (optim/rules.h).
  using Rules = RuleList<rules::AdaBayes, rules::AdaBayesRescaled>;

  AdaBayes(std::vector<Tensor> params, AdaBayesOptions options = AdaBayesOptions());
  explicit AdaBayes(std::vector<Group> groups);
  const char* name() const override { return options().rescale_on_lr_change() ? "AdaBayes-rescaled" : "AdaBayes"; }
  void step() override;

  /// For the paper's Fig. 3: parameter i's current sigma^2_post and
  /// bias-corrected <g^2> (of the summed-loss gradient), as new tensors (one
  /// parameter's worth; later steps do not change them). Undefined before the
  /// parameter's first step.
  Tensor posterior_variance(std::size_t param_index) const;
  Tensor mean_squared_gradient(std::size_t param_index) const;
  /// The group's prior variance sigma^2 now (Eq. 23).
  double prior_variance(std::size_t group) const { return prior_variance(options(group), group); }

 protected:
  std::vector<std::string> state_buffers(std::size_t group) const override;
  /// rescale_on_lr_change: checkpoints from before it are of the reference filter.
  std::vector<std::string> options_added_later() const override { return {"rescale_on_lr_change"}; }
  /// Also refuses to switch rescale_on_lr_change once a parameter has filter
  /// state: the state is sigma^2_post with it off, sigma^2_post / sigma^2 with it on.
  void validate_options() const override;
  /// sigma^2 follows the schedule: sgd_lr x (lr / initial lr) / batch_size.
  double prior_variance(const AdaBayesOptions& o, std::size_t group) const;
};

class AdaBayesFP : public AdaBayes {
 public:
  /// The update rule step() runs (optim/rules.h), in place of AdaBayes's.
  using Rules = RuleList<rules::AdaBayesFP>;

  /// Throws if rescale_on_lr_change is set: the fixed point follows the lr already.
  AdaBayesFP(std::vector<Tensor> params, AdaBayesOptions options = AdaBayesOptions());
  explicit AdaBayesFP(std::vector<Group> groups);
  const char* name() const override { return "AdaBayes-FP"; }
  void step() override;
 protected:
  std::vector<std::string> state_buffers(std::size_t group) const override;
  void validate_options() const override;
};

}  // namespace fluxion::optim
