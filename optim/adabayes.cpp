// AdaBayes (Algorithm 1) and AdaBayes-FP (Algorithm 2). Equation numbers are
// the paper's (arXiv 1807.07540v5). Where the author's reference code
// (LaurenceA/adabayes) differs from the printed equations, Fluxion follows
// the code; docs/optimizers.md lists each difference.
#include "optim/adabayes.h"

#include <cmath>

#include "core/fused.h"

namespace fluxion::optim {

void AdaBayesOptions::validate(const char* who) const {
  FLUXION_CHECK(std::isfinite(lr_) && lr_ > 0.0, who, ": option lr must be > 0, got ", lr_);
  FLUXION_CHECK(std::isfinite(sgd_lr_) && sgd_lr_ > 0.0, who, ": option sgd_lr must be > 0, got ", sgd_lr_);
  FLUXION_CHECK(batch_size_ >= 1.0 && batch_size_ == std::floor(batch_size_), who,
                ": option batch_size must be an integer >= 1, got ", batch_size_);
  check_unit_interval(who, "beta1", beta1_);
  check_unit_interval(who, "beta2", beta2_);
  check_at_least(who, "eps", eps_, 0.0);
  check_at_least(who, "weight_decay", weight_decay_, 0.0);
  FLUXION_CHECK(variance_update_ == VarianceUpdate::exact || variance_update_ == VarianceUpdate::first_order, who,
                ": option variance_update must be 0 (exact) or 1 (first_order)");
}

AdaBayes::AdaBayes(std::vector<Tensor> params, AdaBayesOptions options)
    : AdaBayes(std::vector<Group>{{std::move(params), options}}) {}

AdaBayes::AdaBayes(std::vector<Group> groups) : OptimizerWith(std::move(groups)) {
  validate_options();
}

double AdaBayes::prior_variance(const AdaBayesOptions& o, std::size_t group) const {
  // sigma^2 = eta_SGD / batch size (Eq. 23), with eta_SGD scaled like lr by any schedule.
  return o.sgd_lr() * (o.lr() / initial_lrs_[group]) / o.batch_size();
}

namespace {

// The moments of the summed-loss gradient g = batch_size x (mean-loss grad),
// which is what the paper's g is: <g> and <g^2> before bias correction.
struct Moments {
  double b1, b2, batch;
  template <class T>
  T observe(T& m, T& v, T mean_grad) const {
    const T g = T(batch) * mean_grad;
    m = T(b1) * m + T(1.0 - b1) * g;
    v = T(b2) * v + T(1.0 - b2) * g * g;
    return g;
  }
};

// The fixed point of Eqs. 17b and 18a (Eq. 21; Algorithm 2, line 11), as a
// precision: 1 / sigma2_post = 1 / (2 sigma^2) + sqrt(1 / (4 sigma^4) + <g^2> / eta^2).
// V is the element type with S = V (the fused update, in the parameter's own
// precision) or a Tensor with S = double (the inspection API).
template <class V, class S>
V fixed_point_precision(const V& mean_square, S sigma2, S eta) {
  using std::sqrt;
  return sqrt(mean_square * (S(1) / (eta * eta)) + S(0.25) / (sigma2 * sigma2)) + S(0.5) / sigma2;
}

}  // namespace

void AdaBayes::step() {
  for_each_param([this](Tensor& p, const Tensor& grad, ParamState& s, const AdaBayesOptions& o, std::size_t group) {
    const std::int64_t t = ++s.step;
    const double sigma2 = prior_variance(o, group);
    const double eta = o.lr();
    const double correction1 = 1.0 - std::pow(o.beta1(), t);
    // Between steps the prior variance relaxes toward sigma^2 (Eq. 17b).
    //   exact:       sigma2_prior = decay sigma2_post + sigma^2 (1 - decay), decay = exp(-eta^2 / sigma^2)
    //   first_order: sigma2_prior = (1 - eta^2 / (2 sigma^2))^2 sigma2_post + eta^2
    const double ratio = eta * eta / sigma2;
    const bool exact = o.variance_update() == VarianceUpdate::exact;
    const double keep = exact ? std::exp(-ratio) : (1.0 - ratio / 2.0) * (1.0 - ratio / 2.0);
    const double add = exact ? sigma2 * (1.0 - std::exp(-ratio)) : eta * eta;
    // Decoupled weight decay (Eq. 19a), following the schedule like lr. As in
    // the reference code it is applied after the step: w = (1 - lambda)(w - step).
    const double shrink = 1.0 - o.weight_decay() * (o.lr() / initial_lrs_[group]);
    Tensor& m = buffer(s, "exp_avg", p);
    Tensor& v = buffer(s, "exp_avg_sq", p);
    // Starts at the prior variance sigma^2 (at the initial lr, as the reference).
    Tensor& posterior = buffer(s, "posterior_variance", p, o.sgd_lr() / o.batch_size());
    const Moments moments{o.beta1(), o.beta2(), o.batch_size()};
    for_each_element("AdaBayes", [=](auto& w, auto& mean_grad, auto& m, auto& v, auto& post) {
      using T = std::remove_reference_t<decltype(w)>;
      const T g = moments.observe(m, v, mean_grad);
      const T prior = T(keep) * post + T(add);         // Eq. 17b
      post = T(1) / (T(1) / prior + g * g);             // Eq. 18a
      w = T(shrink) * (w - post * (m / T(correction1)));  // Eqs. 19b, 19a (descent on the loss)
    }, p, grad, m, v, posterior);
  });
}

void AdaBayesFP::step() {
  for_each_param([this](Tensor& p, const Tensor& grad, ParamState& s, const AdaBayesOptions& o, std::size_t group) {
    const std::int64_t t = ++s.step;
    const double sigma2 = prior_variance(o, group);
    const double eta = o.lr();
    const double correction1 = 1.0 - std::pow(o.beta1(), t);
    const double correction2 = 1.0 - std::pow(o.beta2(), t);
    // The reference code decays by the constant weight_decay here, not
    // scaled by the schedule, and after the step.
    const double shrink = 1.0 - o.weight_decay();
    Tensor& m = buffer(s, "exp_avg", p);
    Tensor& v = buffer(s, "exp_avg_sq", p);
    const Moments moments{o.beta1(), o.beta2(), o.batch_size()};
    for_each_element("AdaBayes-FP", [=](auto& w, auto& mean_grad, auto& m, auto& v) {
      using T = std::remove_reference_t<decltype(w)>;
      moments.observe(m, v, mean_grad);
      const T mean_square = v / T(correction2) + T(o.eps());
      const T precision = fixed_point_precision(mean_square, T(sigma2), T(eta));
      w = T(shrink) * (w - (m / T(correction1)) / precision);
    }, p, grad, m, v);
  });
}

std::vector<std::string> AdaBayes::state_buffers(std::size_t) const {
  return {"exp_avg", "exp_avg_sq", "posterior_variance"};
}
std::vector<std::string> AdaBayesFP::state_buffers(std::size_t) const { return {"exp_avg", "exp_avg_sq"}; }

Tensor AdaBayes::posterior_variance(std::size_t i) const {
  const ParamState& s = state(i);
  if (s.step == 0) return Tensor();
  // A copy: a history of these (for Fig. 3) must not change with later steps.
  if (auto it = s.buffers.find("posterior_variance"); it != s.buffers.end()) return it->second.clone();
  // AdaBayes-FP keeps no posterior variance: it is the fixed point of <g^2>.
  const std::size_t group = group_of(i);
  const AdaBayesOptions& o = groups_[group].options;
  NoGradGuard no_grad;
  return 1.0 / fixed_point_precision(mean_squared_gradient(i) + o.eps(), prior_variance(o, group), o.lr());
}

Tensor AdaBayes::mean_squared_gradient(std::size_t i) const {
  const ParamState& s = state(i);
  if (s.step == 0) return Tensor();
  NoGradGuard no_grad;
  return s.buffers.at("exp_avg_sq") / (1.0 - std::pow(groups_[group_of(i)].options.beta2(), s.step));
}

}  // namespace fluxion::optim
