// AdaBayes (Algorithm 1) and AdaBayes-FP (Algorithm 2). Equation numbers are
// the paper's (arXiv 1807.07540v5). Where the author's reference code
// (LaurenceA/adabayes) differs from the printed equations, Fluxion follows
// the code; docs/optimizers.md lists each difference.
#include "optim/adabayes.h"

#include <cmath>

#include "optim/fused.h"

namespace fluxion::optim {

AdaBayes::AdaBayes(std::vector<Tensor> params, AdaBayesOptions options)
    : AdaBayes(std::vector<Group>{{std::move(params), options}}) {}

AdaBayes::AdaBayes(std::vector<Group> groups) : OptimizerWith(std::move(groups)) {
  validate_options();
}

AdaBayesFP::AdaBayesFP(std::vector<Tensor> params, AdaBayesOptions options)
    : AdaBayesFP(std::vector<Group>{{std::move(params), options}}) {}

// AdaBayes's constructor ran AdaBayes's checks; these add AdaBayes-FP's.
AdaBayesFP::AdaBayesFP(std::vector<Group> groups) : AdaBayes(std::move(groups)) { validate_options(); }

void AdaBayes::validate_options() const {
  OptimizerWith::validate_options();
  for (std::size_t i = 0; i < state_.size(); ++i) {
    const bool rescaled = options(group_of(i)).rescale_on_lr_change();
    const char* other = rescaled ? "posterior_variance" : "posterior_ratio";
    FLUXION_CHECK(!state_[i].buffers.count(other), name(), ": option rescale_on_lr_change cannot change once the "
                  "filter has state (parameter ", i, " keeps ", other, ")");
  }
}

void AdaBayesFP::validate_options() const {
  AdaBayes::validate_options();
  for (const Group& group : groups_)
    FLUXION_CHECK(!group.options.rescale_on_lr_change(), name(),
                  ": option rescale_on_lr_change is AdaBayes's only (the fixed point follows the lr already)");
}

double AdaBayes::prior_variance(const AdaBayesOptions& o, std::size_t group) const {
  // sigma^2 = eta_SGD / batch size (Eq. 23), with eta_SGD scaled like lr by any schedule.
  return o.sgd_lr() * (o.lr() / initial_lrs_[group]) / o.batch_size();
}

namespace {

using rules::fixed_point_precision;

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
    const rules::AdaBayes rule{{o.beta1(), o.beta2(), o.batch_size()}, keep, add, shrink, correction1};
    if (o.rescale_on_lr_change()) {
      // sigma^2_post / sigma^2, starting at 1: sigma^2_post starts at this step's sigma^2.
      Tensor& posterior_ratio = buffer(s, "posterior_ratio", p, 1.0);
      for_each_element("AdaBayes-rescaled", rules::AdaBayesRescaled{rule, sigma2}, p, grad, m, v, posterior_ratio);
      return;
    }
    // Starts at the prior variance sigma^2 (at the initial lr, as the reference).
    Tensor& posterior = buffer(s, "posterior_variance", p, o.sgd_lr() / o.batch_size());
    for_each_element("AdaBayes", rule, p, grad, m, v, posterior);
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
    const rules::AdaBayesFP rule{{o.beta1(), o.beta2(), o.batch_size()}, correction1, correction2, o.eps(),
                                 sigma2, eta, shrink};
    for_each_element("AdaBayes-FP", rule, p, grad, m, v);
  });
}

std::vector<std::string> AdaBayes::state_buffers(std::size_t group) const {
  return {"exp_avg", "exp_avg_sq", options(group).rescale_on_lr_change() ? "posterior_ratio" : "posterior_variance"};
}
std::vector<std::string> AdaBayesFP::state_buffers(std::size_t) const { return {"exp_avg", "exp_avg_sq"}; }

Tensor AdaBayes::posterior_variance(std::size_t i) const {
  const ParamState& s = state(i);
  if (s.step == 0) return Tensor();
  // A copy: a history of these (for Fig. 3) must not change with later steps.
  if (auto it = s.buffers.find("posterior_variance"); it != s.buffers.end()) return it->second.clone();
  const std::size_t group = group_of(i);
  const AdaBayesOptions& o = groups_[group].options;
  NoGradGuard no_grad;
  // adabayes-rescaled keeps sigma^2_post relative to sigma^2.
  if (auto it = s.buffers.find("posterior_ratio"); it != s.buffers.end()) return it->second * prior_variance(o, group);
  // AdaBayes-FP keeps no posterior variance: it is the fixed point of <g^2>.
  return 1.0 / fixed_point_precision(mean_squared_gradient(i) + o.eps(), prior_variance(o, group), o.lr());
}

Tensor AdaBayes::mean_squared_gradient(std::size_t i) const {
  const ParamState& s = state(i);
  if (s.step == 0) return Tensor();
  NoGradGuard no_grad;
  return s.buffers.at("exp_avg_sq") / (1.0 - std::pow(groups_[group_of(i)].options.beta2(), s.step));
}

}  // namespace fluxion::optim
