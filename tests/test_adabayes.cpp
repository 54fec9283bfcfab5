// AdaBayes and AdaBayes-FP against the paper's own limits (Section 3.1):
// the fixed point of the filter (Eq. 21), SGD in the low-data limit (Eq. 22),
// Adam's learning rate in the high-data limit (Eq. 24), and AdamW as the
// prior variance grows without bound (Eq. 27).
#include <doctest/doctest.h>

#include <cmath>

#include "fluxion.h"
#include "optim/adabayes_regimes.h"

using namespace fluxion;
using namespace fluxion::optim;

namespace {

// Eq. 21: the posterior variance the filter settles at for a constant <g^2>.
double fixed_point(double sigma2, double eta, double mean_square) {
  return 1.0 / (0.5 / sigma2 + std::sqrt(0.25 / (sigma2 * sigma2) + mean_square / (eta * eta)));
}

// Runs `steps` steps with the same mean-loss gradient every step.
void run_constant_gradient(Optimizer& opt, Tensor& p, double mean_grad, int steps) {
  for (int i = 0; i < steps; ++i) {
    p.set_grad(full(p.shape(), mean_grad, kFloat64));
    opt.step();
  }
}

}  // namespace

TEST_CASE("adabayes: the posterior variance converges to the Eq. 21 fixed point") {
  // sigma^2 = sgd_lr / batch = 1e-3, eta = 1e-3; gradients from the SGD-like
  // regime (tiny) through the crossover to the Adam-like regime (large).
  // Eq. 21 drops the eta^2 that Eq. 17b adds each step beside sigma^2_post,
  // which holds while eta |g| << 1: with x = eta |g| the exact filter settles
  // at (sqrt(1 + x^2 / 4) - x / 2) of Eq. 21's value in the Adam-like limit,
  // 0.938 at the largest gradient here (x = 0.128), 0.994 at the next.
  for (double mean_grad : {1e-5, 1e-3, 1e-2, 1e-1, 1.0}) {
    CAPTURE(mean_grad);
    Tensor p = zeros({3}, kFloat64).requires_grad_();
    AdaBayes opt({p}, AdaBayesOptions(1e-3).sgd_lr(0.128).batch_size(128).weight_decay(0.0));
    run_constant_gradient(opt, p, mean_grad, 20000);
    const double g_sum = 128 * mean_grad;  // the paper's g: the summed-loss gradient
    const double expected = fixed_point(1e-3, 1e-3, g_sum * g_sum);
    const double got = opt.posterior_variance(0).to_vector<double>()[0];
    const double x = 1e-3 * g_sum;
    const double ceiling = x > 0.1 ? std::sqrt(1 + x * x / 4) - x / 2 : 1.0;
    CHECK(got / expected == doctest::Approx(ceiling).scale(0).epsilon(0.01));
    // The bias-corrected <g^2> the inspection API reports is g_sum^2.
    CHECK(opt.mean_squared_gradient(0).to_vector<double>()[0] == doctest::Approx(g_sum * g_sum).epsilon(1e-9));
  }
}

TEST_CASE("adabayes: low-data limit - sigma2_post is sigma^2 and the step is SGD's with lr sgd_lr (Eq. 22)") {
  const double sgd_lr = 0.1, batch = 128, mean_grad = 1e-7;
  Tensor p = full({4}, 0.5, kFloat64).requires_grad_();
  AdaBayes opt({p}, AdaBayesOptions(1e-3).sgd_lr(sgd_lr).batch_size(batch).weight_decay(0.0));
  p.set_grad(full({4}, mean_grad, kFloat64));
  opt.step();
  // First step: <g> is the bias-corrected summed gradient, so the update is
  // sigma2_post * batch * mean_grad, with sigma2_post ~ sigma^2 = sgd_lr / batch.
  CHECK(opt.posterior_variance(0).to_vector<double>()[0] == doctest::Approx(sgd_lr / batch).scale(0).epsilon(1e-6));
  CHECK((0.5 - p.to_vector<double>()[0]) == doctest::Approx(sgd_lr * mean_grad).scale(0).epsilon(1e-6));
  // The gradient the user sees is left as it was (the rescaling is internal).
  CHECK(p.grad().to_vector<double>()[0] == mean_grad);
  // And it stays SGD-like: after many steps sigma2_post is still sigma^2.
  run_constant_gradient(opt, p, mean_grad, 5000);
  CHECK(opt.posterior_variance(0).to_vector<double>()[0] == doctest::Approx(sgd_lr / batch).scale(0).epsilon(1e-4));
}

TEST_CASE("adabayes: high-data limit - sigma2_post approaches eta / sqrt(<g^2>) (Eq. 24)") {
  // eta / |g| = 1.6e-5 is 50x below sigma^2 = 7.8e-4: deep in the high-data
  // regime, where Eq. 21's fixed point is Eq. 24's eta / |g| up to the finite
  // sigma^2 (a factor 0.990 here), and x = eta |g| = 0.064 keeps the exact
  // filter at (sqrt(1 + x^2 / 4) - x / 2) = 0.969 of Eq. 21 (the first test).
  const double eta = 1e-3, mean_grad = 0.5, batch = 128, sigma2 = 0.1 / batch;
  Tensor p = zeros({2}, kFloat64).requires_grad_();
  AdaBayes opt({p}, AdaBayesOptions(eta).sgd_lr(0.1).batch_size(batch).weight_decay(0.0));
  run_constant_gradient(opt, p, mean_grad, 5000);
  const double g_sum = batch * mean_grad, x = eta * g_sum;
  const double got = opt.posterior_variance(0).to_vector<double>()[0];
  const double eq21 = fixed_point(sigma2, eta, g_sum * g_sum);
  CHECK(eq21 / (eta / g_sum) == doctest::Approx(0.990).scale(0).epsilon(1e-3));  // Eq. 24's limit, nearly
  CHECK(got == doctest::Approx(eq21 * (std::sqrt(1 + x * x / 4) - x / 2)).scale(0).epsilon(0.005));
}

namespace {
// AdaBayes-FP with sigma^2 -> infinity against AdamW over 200 steps of the
// same gradients. AdaBayes-FP decays by the constant weight_decay, AdamW by
// lr x weight_decay: equal when AdamW's weight_decay is AdaBayes-FP's
// divided by lr. Both with eps 0. Returns the worst relative deviation, and
// the worst ratio of the absolute deviation to sum_t decay x |step_t|.
struct Deviation {
  double relative = 0.0;
  double of_bound = 0.0;
};
Deviation fp_vs_adamw(double decay) {
  const double lr = 1e-3;
  Generator gen(11);
  Tensor a = randn({5, 3}, kFloat64, &gen).requires_grad_();
  Tensor b = a.detach().clone().requires_grad_();
  AdaBayesFP fp({a}, AdaBayesOptions(lr).sgd_lr(1e12).batch_size(128).weight_decay(decay).eps(0.0));
  AdamW adamw({b}, AdamOptions(lr).weight_decay(decay / lr).eps(0.0));
  Deviation worst;
  std::vector<double> bound(15, 0.0);
  for (int step = 0; step < 200; ++step) {
    Tensor g = randn({5, 3}, kFloat64, &gen) * (step % 7 == 0 ? 5.0 : 0.2);
    a.set_grad(g);
    b.set_grad(g.clone());
    const auto before = b.to_vector<double>();
    fp.step();
    adamw.step();
    const auto va = a.to_vector<double>(), vb = b.to_vector<double>();
    for (std::size_t i = 0; i < va.size(); ++i) {
      // AdamW's own step: vb = before (1 - lambda) - step.
      bound[i] += decay * std::fabs(before[i] * (1.0 - decay) - vb[i]);
      const double diff = std::fabs(va[i] - vb[i]);
      worst.relative = std::max(worst.relative, diff / std::fabs(vb[i]));
      if (bound[i] > 0) worst.of_bound = std::max(worst.of_bound, diff / bound[i]);
    }
  }
  return worst;
}
}  // namespace

TEST_CASE("adabayes-fp: as sigma^2 grows without bound, the trajectory is AdamW's (Eq. 27)") {
  const Deviation without_decay = fp_vs_adamw(0.0);
  MESSAGE("worst relative deviation from AdamW, no weight decay: " << without_decay.relative);
  CHECK(without_decay.relative < 1e-6);
  // With decay, the reference code shrinks after the step and AdamW before
  // it: (w - step)(1 - lambda) vs w(1 - lambda) - step, which differ by
  // lambda x step. So the trajectories may drift apart by at most
  // sum_t lambda |step_t| (to first order in lambda), and no more.
  const Deviation with_decay = fp_vs_adamw(5e-5);
  MESSAGE("weight decay 5e-5: worst relative deviation " << with_decay.relative
          << ", worst share of the sum_t lambda |step_t| bound " << with_decay.of_bound);
  CHECK(with_decay.of_bound <= 1.0 + 1e-6);
  CHECK(with_decay.of_bound > 0.5);  // and the order difference is really there
}

TEST_CASE("adabayes: AdaBayes-FP's posterior variance is AdaBayes' fixed point") {
  Tensor a = zeros({2}, kFloat64).requires_grad_();
  Tensor b = zeros({2}, kFloat64).requires_grad_();
  AdaBayes full_filter({a}, AdaBayesOptions().weight_decay(0.0).eps(0.0));
  AdaBayesFP fixed({b}, AdaBayesOptions().weight_decay(0.0).eps(0.0));
  run_constant_gradient(full_filter, a, 0.05, 20000);
  run_constant_gradient(fixed, b, 0.05, 20000);
  CHECK(fixed.posterior_variance(0).to_vector<double>()[0] ==
        doctest::Approx(full_filter.posterior_variance(0).to_vector<double>()[0]).scale(0).epsilon(0.01));
}

TEST_CASE("adabayes: the first_order variance update is Eq. 17b as printed") {
  // One step by hand: sigma2_prior = (1 - eta^2/(2 sigma^2))^2 sigma^2 + eta^2,
  // sigma2_post = 1 / (1 / sigma2_prior + g^2), w -= sigma2_post <g>.
  const double eta = 0.01, sigma2 = 0.1 / 16, g_mean = 0.3, batch = 16;
  Tensor p = full({1}, 1.0, kFloat64).requires_grad_();
  AdaBayes opt({p}, AdaBayesOptions(eta).sgd_lr(0.1).batch_size(batch).weight_decay(0.0).variance_update(
                        VarianceUpdate::first_order));
  p.set_grad(full({1}, g_mean, kFloat64));
  opt.step();
  const double keep = 1.0 - eta * eta / (2 * sigma2);
  const double prior = keep * keep * sigma2 + eta * eta;
  const double g = batch * g_mean;
  const double post = 1.0 / (1.0 / prior + g * g);
  CHECK(opt.posterior_variance(0).to_vector<double>()[0] == doctest::Approx(post).epsilon(1e-12));
  CHECK(p.to_vector<double>()[0] == doctest::Approx(1.0 - post * g).epsilon(1e-12));
}

TEST_CASE("adabayes: sigma^2 and the weight decay follow a learning-rate schedule") {
  // Dividing lr by 10 divides sigma^2 (sgd_lr is held as a ratio to lr) and
  // the decoupled decay at once. The step length does not follow yet: it is
  // sigma2_post, which relaxes to the new sigma^2 over sigma^2 / eta^2 steps
  // (tests/test_adabayes_lr_drop.cpp), so the first step after the drop is
  // still sgd_lr x grad, less 1.3e-4 of the gap to the new one.
  const double wd = 1e-3, grad = 1e-8;
  Tensor p = full({1}, 1.0, kFloat64).requires_grad_();
  AdaBayes opt({p}, AdaBayesOptions(1e-3).sgd_lr(0.1).batch_size(128).weight_decay(wd));
  LRScheduler scheduler(opt, multistep({1}, 0.1));
  p.set_grad(full({1}, grad, kFloat64));
  opt.step();
  scheduler.step();
  CHECK(opt.lr() == doctest::Approx(1e-4).scale(0).epsilon(1e-15));
  CHECK(opt.prior_variance(0) == doctest::Approx(0.1 * 0.1 / 128).scale(0).epsilon(1e-15));
  const double before = p.to_vector<double>()[0];
  const double post = opt.posterior_variance(0).to_vector<double>()[0];
  p.set_grad(full({1}, grad, kFloat64));
  opt.step();
  // Eqs. 19b and 19a: w = (1 - wd lr / initial lr)(w - sigma2_post <g>), with
  // the bias-corrected <g> of a constant gradient = 128 grad.
  const double prior = std::exp(-1e-8 / opt.prior_variance(0)) * post +
                       opt.prior_variance(0) * (1 - std::exp(-1e-8 / opt.prior_variance(0)));
  const double expected = (1 - wd * 0.1) * (before - prior * 128 * grad);
  CHECK(p.to_vector<double>()[0] == doctest::Approx(expected).scale(0).epsilon(1e-14));
  CHECK(prior / (0.1 / 128) == doctest::Approx(1.0).scale(0).epsilon(2e-4));
}

TEST_CASE("adabayes: options are range-checked with the option's name") {
  Tensor p = zeros({1}, kFloat64).requires_grad_();
  CHECK_THROWS_WITH_AS(AdaBayes({p}, AdaBayesOptions().batch_size(0)), doctest::Contains("batch_size"), Error);
  CHECK_THROWS_WITH_AS(AdaBayes({p}, AdaBayesOptions().beta2(1.0)), doctest::Contains("beta2"), Error);
  CHECK_THROWS_WITH_AS(AdaBayes({p}, AdaBayesOptions(-1.0)), doctest::Contains("lr"), Error);
  CHECK_THROWS_WITH_AS(AdaBayesFP({p}, AdaBayesOptions().sgd_lr(0.0)), doctest::Contains("sgd_lr"), Error);
}

TEST_CASE("adabayes: adabayes_regimes counts the weights in each limit of Fig. 3 and in each regime") {
  // sigma^2 = eta = 1e-3. Constant summed gradients: 1e-6 and 1e-7 (eta/|g|
  // >> sigma^2: low data), 1 (eta/|g| = sigma^2: neither limit), 100 (eta/|g| =
  // 1e-5 << sigma^2: high data); after 20,000 steps each sits at its fixed
  // point. (The filter reaches Adam's rate only while eta/|g| >> eta^2, i.e.
  // |g| << 1 / eta: for larger gradients the eta^2 that Eq. 17b adds each
  // step is all the prior has, and sigma^2_post -> 1 / g^2, as the last
  // weight, at |g| = 1e4, shows.)
  Tensor p = zeros({5}, kFloat64).requires_grad_();
  AdaBayes opt({p}, AdaBayesOptions(1e-3).sgd_lr(0.128).batch_size(128).weight_decay(0.0));
  for (int i = 0; i < 20000; ++i) {
    p.set_grad(tensor({1e-6 / 128, 1e-7 / 128, 1.0 / 128, 100.0 / 128, 1e4 / 128}, kFloat64));
    opt.step();
  }
  const AdaBayesRegimes r = adabayes_regimes(opt);
  CHECK(r.weights == 5);
  CHECK(r.share_low_data == 0.4);
  CHECK(r.share_sgd_like == 0.4);
  CHECK(r.share_high_data == 0.4);
  CHECK(r.share_adam_like == 0.2);  // not the last weight:
  const double post = opt.posterior_variance(0).to_vector<double>()[4];
  CHECK(post * 1e8 == doctest::Approx(1.0).scale(0).epsilon(0.02));  // 1 / g^2, a tenth of eta / |g|
  // The median is the middle weight's, at the bend of Eq. 21.
  CHECK(r.median_posterior_variance == doctest::Approx(fixed_point(1e-3, 1e-3, 1.0)).scale(0).epsilon(1e-3));
  CHECK(r.median_posterior_variance == doctest::Approx(1e-3 / 1.618034).scale(0).epsilon(1e-3));
}
