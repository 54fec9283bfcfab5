//! @file
//! The optimizers' per-element update rules, shared line for line by the CPU
//! and the GPU: each is a plain struct of the step's scalars with an
//! operator() over one element of each state tensor. The CPU runs it through
//! for_each_element (optim/fused.h) on OpenMP threads; the CUDA backend runs
//! the same code as one fused kernel per rule (optim/fused_rules.cu), so
//! each parameter's state is read and written exactly once per step on
//! either device. The scalars (bias corrections, clipped bounds, decays) are
//! computed once per step on the host by each optimizer's step() in
//! optim/*.cpp, which also says where each comes from. A rule runs once its
//! optimizer lists it in `Rules` and is registered (optim/registry.h).
#pragma once

#include <algorithm>
#include <cmath>

#include "core/host_device.h"

namespace fluxion::optim::rules {

/// SGD without momentum: g += wd w;  w -= lr g.
struct Sgd {
  double lr, wd;
  template <class T>
  FLUXION_HOST_DEVICE void operator()(T& w, T& g) const {
    const T d = g + T(wd) * w;
    w -= T(lr) * d;
  }
};

/// SGD with momentum (PyTorch's form): the buffer starts as the first step's
/// gradient, undamped; Nesterov looks ahead along it.
struct SgdMomentum {
  double lr, wd, mu, dampening;
  bool nesterov, first;
  template <class T>
  FLUXION_HOST_DEVICE void operator()(T& w, T& g, T& v) const {
    const T d = g + T(wd) * w;
    v = first ? d : T(mu) * v + T(1.0 - dampening) * d;
    w -= T(lr) * (nesterov ? d + T(mu) * v : v);
  }
};

/// Adam and AdamW. l2 is added to the gradient (Adam); shrink = 1 - lr
/// decoupled decays the weight before the step (AdamW). With AMSGrad the
/// denominator uses the running maximum of v (a fifth tensor).
///   g += l2 w;  w *= shrink;  m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
///   w -= step_size m / (sqrt(v or v_max) / correction2_sqrt + eps)
template <bool AmsGrad>
struct Adam {
  double l2, shrink, b1, b2, step_size, correction2_sqrt, eps;
  template <class T>
  FLUXION_HOST_DEVICE void update(T& w, T& g_in, T& m, T& v, T& v_max) const {
    const T g = g_in + T(l2) * w;
    w *= T(shrink);
    m = T(b1) * m + T(1.0 - b1) * g;
    v = T(b2) * v + T(1.0 - b2) * g * g;
    v_max = std::max(v_max, v);
    w -= T(step_size) * m / (std::sqrt(v_max) / T(correction2_sqrt) + T(eps));
  }
  template <class T>
  FLUXION_HOST_DEVICE void operator()(T& w, T& g, T& m, T& v, T& v_max) const requires AmsGrad {
    update(w, g, m, v, v_max);
  }
  /// Without AMSGrad the "maximum" is v itself.
  template <class T>
  FLUXION_HOST_DEVICE void operator()(T& w, T& g, T& m, T& v) const requires(!AmsGrad) {
    update(w, g, m, v, v);
  }
};

/// Adagrad: g += wd w;  sum += g^2;  w -= clr g / (sqrt(sum) + eps), with
/// clr = lr / (1 + (t - 1) lr_decay).
struct Adagrad {
  double clr, wd, eps;
  template <class T>
  FLUXION_HOST_DEVICE void operator()(T& w, T& g_in, T& sum) const {
    const T g = g_in + T(wd) * w;
    sum += g * g;
    w -= T(clr) * g / (std::sqrt(sum) + T(eps));
  }
};

/// RMSprop: g += wd w;  sq = alpha sq + (1 - alpha) g^2;  (centered) avg_g =
/// alpha avg_g + (1 - alpha) g;  denom = sqrt(sq - avg_g^2) + eps;
/// momentum: buf = mu buf + g / denom, w -= lr buf;  else w -= lr g / denom.
/// The flags are compile-time, so each variant passes only the buffers it uses.
template <bool Centered, bool Momentum>
struct RMSprop {
  double lr, alpha, eps, wd, mu;
  template <class T>
  FLUXION_HOST_DEVICE void update(T& w, T& g_in, T& sq, T& avg_g, T& buf) const {
    const T g = g_in + T(wd) * w;
    sq = T(alpha) * sq + T(1.0 - alpha) * g * g;
    T variance = sq;
    if constexpr (Centered) {
      avg_g = T(alpha) * avg_g + T(1.0 - alpha) * g;
      variance = sq - avg_g * avg_g;
    }
    const T denom = std::sqrt(variance) + T(eps);
    if constexpr (Momentum) {
      buf = T(mu) * buf + g / denom;
      w -= T(lr) * buf;
    } else {
      w -= T(lr) * g / denom;
    }
  }
  template <class T>
  FLUXION_HOST_DEVICE void operator()(T& w, T& g, T& sq) const requires(!Centered && !Momentum) {
    T unused{};
    update(w, g, sq, unused, unused);
  }
  template <class T>
  FLUXION_HOST_DEVICE void operator()(T& w, T& g, T& sq, T& extra) const requires(Centered != Momentum) {
    T unused{};
    if constexpr (Centered) update(w, g, sq, extra, unused);
    else update(w, g, sq, unused, extra);
  }
  template <class T>
  FLUXION_HOST_DEVICE void operator()(T& w, T& g, T& sq, T& avg_g, T& buf) const requires(Centered && Momentum) {
    update(w, g, sq, avg_g, buf);
  }
};

/// AdaBound / AMSBound: Adam's bias-corrected step size, clipped per element
/// into [lower, upper] (both closing in on final_lr as t grows).
template <bool AmsBound>
struct AdaBound {
  double wd, b1, b2, eps, step_size, lower, upper;
  template <class T>
  FLUXION_HOST_DEVICE void update(T& w, T& g_in, T& m, T& v, T& v_max) const {
    const T g = g_in + T(wd) * w;
    m = T(b1) * m + T(1.0 - b1) * g;
    v = T(b2) * v + T(1.0 - b2) * g * g;
    v_max = std::max(v_max, v);
    const T rate = std::clamp(T(step_size) / (std::sqrt(v_max) + T(eps)), T(lower), T(upper));
    w -= rate * m;
  }
  template <class T>
  FLUXION_HOST_DEVICE void operator()(T& w, T& g, T& m, T& v, T& v_max) const requires AmsBound {
    update(w, g, m, v, v_max);
  }
  template <class T>
  FLUXION_HOST_DEVICE void operator()(T& w, T& g, T& m, T& v) const requires(!AmsBound) {
    update(w, g, m, v, v);
  }
};

/// The moments of the summed-loss gradient g = batch_size x (mean-loss grad),
/// which is what the paper's g is: `<g>` and `<g^2>` before bias correction.
struct Moments {
  double b1, b2, batch;
  template <class T>
  FLUXION_HOST_DEVICE T observe(T& m, T& v, T mean_grad) const {
    const T g = T(batch) * mean_grad;
    m = T(b1) * m + T(1.0 - b1) * g;
    v = T(b2) * v + T(1.0 - b2) * g * g;
    return g;
  }
};

/// The fixed point of Eqs. 17b and 18a (Eq. 21; Algorithm 2, line 11), as a
/// precision: 1 / sigma2_post = 1 / (2 sigma^2) + sqrt(1 / (4 sigma^4) + <g^2> / eta^2).
/// V is the element type with S = V (the fused update, in the parameter's own
/// precision) or a Tensor with S = double (the inspection API).
template <class V, class S>
FLUXION_HOST_DEVICE V fixed_point_precision(const V& mean_square, S sigma2, S eta) {
  using std::sqrt;
  return sqrt(mean_square * (S(1) / (eta * eta)) + S(0.25) / (sigma2 * sigma2)) + S(0.5) / sigma2;
}

/// AdaBayes (Algorithm 1): the Kalman filter of each weight.
///   prior = keep post + add                          (Eq. 17b)
///   post = 1 / (1 / prior + g^2)                     (Eq. 18a)
///   w = shrink (w - post m / correction1)            (Eqs. 19b, 19a)
struct AdaBayes {
  Moments moments;
  double keep, add, shrink, correction1;
  template <class T>
  FLUXION_HOST_DEVICE void operator()(T& w, T& mean_grad, T& m, T& v, T& post) const {
    const T g = moments.observe(m, v, mean_grad);
    const T prior = T(keep) * post + T(add);           // Eq. 17b
    post = T(1) / (T(1) / prior + g * g);               // Eq. 18a
    w = T(shrink) * (w - post * (m / T(correction1)));  // Eqs. 19b, 19a (descent on the loss)
  }
};

/// The adabayes-rescaled variant: AdaBayes's filter with its state kept
/// relative to the prior variance, ratio = sigma2_post / sigma^2. A schedule
/// that multiplies the lr by c multiplies sigma^2 by c (Eq. 23 with eta_SGD
/// scaled like lr), so sigma2_post = ratio sigma^2 is rescaled by c at once,
/// instead of relaxing to it at eta^2 / sigma^2 a step (docs/optimizers.md).
struct AdaBayesRescaled {
  AdaBayes filter;
  double sigma2;  ///< this step's prior variance
  template <class T>
  FLUXION_HOST_DEVICE void operator()(T& w, T& mean_grad, T& m, T& v, T& ratio) const {
    T post = ratio * T(sigma2);
    filter(w, mean_grad, m, v, post);
    ratio = post / T(sigma2);
  }
};

/// AdaBayes-FP (Algorithm 2): the posterior variance set to its fixed point.
struct AdaBayesFP {
  Moments moments;
  double correction1, correction2, eps, sigma2, eta, shrink;
  template <class T>
  FLUXION_HOST_DEVICE void operator()(T& w, T& mean_grad, T& m, T& v) const {
    moments.observe(m, v, mean_grad);
    const T mean_square = v / T(correction2) + T(eps);
    const T precision = fixed_point_precision(mean_square, T(sigma2), T(eta));
    w = T(shrink) * (w - (m / T(correction1)) / precision);
  }
};

}  // namespace fluxion::optim::rules
