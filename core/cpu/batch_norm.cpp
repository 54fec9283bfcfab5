// Training-mode batch normalisation on the CPU. Each channel is independent,
// so threads split the channels; per channel, one pass for the mean, one for
// the variance (two passes: a one-pass E[x^2] - E[x]^2 loses digits to
// cancellation when the mean is large), and one to normalise. Sums run in
// eight independent lanes of T within a row (so they vectorise without
// reordering any one sum) and in double across rows and lanes.
//
// Evaluation mode without a gradient (channel_affine) is the same
// normalise_row with the running statistics' scale and shift.
//
// A ReLU after the normalisation can run inside both kernels (batch_norm_relu
// in autograd/ops/batch_norm.cpp): the forward clamps as it writes, and the
// backward masks the output gradient as it reads it, with the elementwise
// ops' own functors, so the values are those of the separate ops while a
// pass over the activation each way, and its buffer, are saved.
#include <algorithm>
#include <cmath>
#include <vector>

#include "core/cpu/kernels.h"
#include "core/elementwise.h"
#include "core/parallel.h"

namespace fluxion::cpu {
namespace {

struct Layout {
  std::int64_t n, c, s;  // x viewed as [N, C, S]
};

Layout layout_of(const Tensor& x) {
  Layout l{x.size(0), x.size(1), 1};
  for (std::int64_t d = 2; d < x.dim(); ++d) l.s *= x.size(d);
  return l;
}

// sum over j < n of f(j), accumulated as described above.
template <class T, class F>
double lane_sum(std::int64_t n, const F& f) {
  constexpr int kLanes = 8;
  T lanes[kLanes] = {};
  std::int64_t j = 0;
  for (; j + kLanes <= n; j += kLanes)
    for (int k = 0; k < kLanes; ++k) lanes[k] += f(j + k);
  double total = 0.0;
  for (; j < n; ++j) total += f(j);
  for (int k = 0; k < kLanes; ++k) total += lanes[k];
  return total;
}

// The gradient that reaches the normalisation in one row: the output
// gradient g itself, or with a fused ReLU g masked by its output y into
// `masked`, as relu's backward would. (Masking inside the sums instead was
// miscompiled for double by GCC 12's -O3 loop vectoriser.) The backward
// masks into grad_x's row, where the second pass reads it back in place; a
// row of scratch serves when grad_x is not wanted.
template <class T, bool kRelu>
const T* gradient_row(const T* g, const T* y, std::int64_t n, T* masked) {
  if constexpr (!kRelu) {
    return g;
  } else {
    const Binary<BinaryOp::relu_grad, T> relu_grad;
    for (std::int64_t j = 0; j < n; ++j) masked[j] = relu_grad(g[j], y[j]);
    return masked;
  }
}

// out = x * scale + shift, then relu with kRelu.
template <class T, bool kRelu>
void normalise_row(const T* x, std::int64_t n, T scale, T shift, T* out) {
  for (std::int64_t j = 0; j < n; ++j) {
    const T y = x[j] * scale + shift;
    if constexpr (kRelu) out[j] = Unary<UnaryOp::relu, T>{}(y);
    else out[j] = y;
  }
}

// With xhat = (x - mean) * invstd and y = w * xhat + b, per channel over its
// M = N * S elements:
//   dL/db = sum(g),  dL/dw = sum(g * xhat),
//   dL/dx = w * invstd * (g - dL/db / M - xhat * dL/dw / M).
// For one dtype, with or without the ReLU's mask on g.
template <class T, bool kRelu>
void backward_channels(const Layout& l, const T* px, const T* pg, const T* py, const T* pw, const T* pmean,
                       const T* pinv, T* pdx, T* pdw, T* pdb) {
  const double count = static_cast<double>(l.n * l.s);
  parallel_for(0, l.c, 1, [&](std::int64_t c0, std::int64_t c1) {
    std::vector<T> scratch(kRelu && !pdx ? static_cast<std::size_t>(l.s) : 0);
    for (std::int64_t c = c0; c < c1; ++c) {
      const double mu = pmean[c], inv = pinv[c];
      const T mu_t = static_cast<T>(mu);
      double sum_g = 0.0, sum_gx = 0.0;  // sum(g), sum(g * (x - mean))
      for (std::int64_t i = 0; i < l.n; ++i) {
        const std::int64_t row = (i * l.c + c) * l.s;
        const T* xr = px + row;
        const T* gr = gradient_row<T, kRelu>(pg + row, kRelu ? py + row : nullptr, l.s,
                                             pdx ? pdx + row : scratch.data());
        sum_g += lane_sum<T>(l.s, [gr](std::int64_t j) { return gr[j]; });
        sum_gx += lane_sum<T>(l.s, [gr, xr, mu_t](std::int64_t j) { return gr[j] * (xr[j] - mu_t); });
      }
      if (pdb) pdb[c] = static_cast<T>(sum_g);
      if (pdw) pdw[c] = static_cast<T>(sum_gx * inv);
      if (!pdx) continue;
      // dx = a * g + b * x + d, folded per channel.
      const double w = pw ? pw[c] : 1.0;
      const double a64 = w * inv;
      const double b64 = -a64 * inv * inv * sum_gx / count;
      const T a = static_cast<T>(a64), b = static_cast<T>(b64);
      const T d = static_cast<T>(-a64 * sum_g / count - b64 * mu);
      for (std::int64_t i = 0; i < l.n; ++i) {
        const std::int64_t row = (i * l.c + c) * l.s;
        const T* xr = px + row;
        const T* gr = kRelu ? pdx + row : pg + row;  // masked in the first pass
        T* dr = pdx + row;
        for (std::int64_t j = 0; j < l.s; ++j) dr[j] = a * gr[j] + b * xr[j] + d;
      }
    }
  });
}

}  // namespace

void batch_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& running_mean,
                const Tensor& running_var, double momentum, double eps, bool with_relu, const Tensor& out,
                const Tensor& mean, const Tensor& invstd) {
  const Layout l = layout_of(x);
  const std::int64_t count = l.n * l.s;
  visit_floating(x.dtype(), "batch_norm", [&]<class T>() {
    const T* px = x.data<T>();
    T* py = out.data<T>();
    const T* pw = weight.defined() ? weight.data<T>() : nullptr;
    const T* pb = bias.defined() ? bias.data<T>() : nullptr;
    T* prm = running_mean.defined() ? running_mean.data<T>() : nullptr;
    T* prv = running_var.defined() ? running_var.data<T>() : nullptr;
    T* pmean = mean.data<T>();
    T* pinv = invstd.data<T>();
    parallel_for(0, l.c, 1, [&](std::int64_t c0, std::int64_t c1) {
      for (std::int64_t c = c0; c < c1; ++c) {
        double total = 0.0;
        for (std::int64_t i = 0; i < l.n; ++i) {
          const T* row = px + (i * l.c + c) * l.s;
          total += lane_sum<T>(l.s, [row](std::int64_t j) { return row[j]; });
        }
        const double mu = total / static_cast<double>(count);
        const T mu_t = static_cast<T>(mu);
        double squares = 0.0;
        for (std::int64_t i = 0; i < l.n; ++i) {
          const T* row = px + (i * l.c + c) * l.s;
          squares += lane_sum<T>(l.s, [row, mu_t](std::int64_t j) { return (row[j] - mu_t) * (row[j] - mu_t); });
        }
        const double var = squares / static_cast<double>(count);
        const double inv = 1.0 / std::sqrt(var + eps);
        pmean[c] = static_cast<T>(mu);
        pinv[c] = static_cast<T>(inv);
        // y = x * scale + shift, with scale and shift folded per channel.
        const T scale = static_cast<T>(inv * (pw ? pw[c] : T(1)));
        const T shift = static_cast<T>((pb ? pb[c] : T(0)) - mu * inv * (pw ? pw[c] : T(1)));
        for (std::int64_t i = 0; i < l.n; ++i) {
          const std::int64_t row = (i * l.c + c) * l.s;
          if (with_relu) normalise_row<T, true>(px + row, l.s, scale, shift, py + row);
          else normalise_row<T, false>(px + row, l.s, scale, shift, py + row);
        }
        if (prm) prm[c] = static_cast<T>((1.0 - momentum) * prm[c] + momentum * mu);
        if (prv) {
          const double unbiased = count > 1 ? squares / static_cast<double>(count - 1) : INFINITY;
          prv[c] = static_cast<T>((1.0 - momentum) * prv[c] + momentum * unbiased);
        }
      }
    });
  });
}

void channel_affine(const Tensor& x, const Tensor& scale, const Tensor& shift, bool with_relu, const Tensor& out) {
  const Layout l = layout_of(x);
  visit_floating(x.dtype(), "channel_affine", [&]<class T>() {
    const T* px = x.data<T>();
    const T* pscale = scale.data<T>();
    const T* pshift = shift.data<T>();
    T* py = out.data<T>();
    // Rows of S elements, N * C of them; a thread takes whole rows.
    const std::int64_t grain = std::max<std::int64_t>(1, (1 << 14) / std::max<std::int64_t>(l.s, 1));
    parallel_for(0, l.n * l.c, grain, [&](std::int64_t r0, std::int64_t r1) {
      for (std::int64_t r = r0; r < r1; ++r) {
        const std::int64_t c = r % l.c;
        if (with_relu) normalise_row<T, true>(px + r * l.s, l.s, pscale[c], pshift[c], py + r * l.s);
        else normalise_row<T, false>(px + r * l.s, l.s, pscale[c], pshift[c], py + r * l.s);
      }
    });
  });
}

void batch_norm_backward(const Tensor& grad_out, const Tensor& x, const Tensor& weight, const Tensor& mean,
                         const Tensor& invstd, const Tensor& relu_out, const Tensor& grad_x, const Tensor& grad_weight,
                         const Tensor& grad_bias, double /*eps: invstd already holds it*/) {
  const Layout l = layout_of(x);
  visit_floating(x.dtype(), "batch_norm_backward", [&]<class T>() {
    const T* py = relu_out.defined() ? relu_out.data<T>() : nullptr;
    const T* pw = weight.defined() ? weight.data<T>() : nullptr;
    T* pdx = grad_x.defined() ? grad_x.data<T>() : nullptr;
    T* pdw = grad_weight.defined() ? grad_weight.data<T>() : nullptr;
    T* pdb = grad_bias.defined() ? grad_bias.data<T>() : nullptr;
    if (py)
      backward_channels<T, true>(l, x.data<T>(), grad_out.data<T>(), py, pw, mean.data<T>(), invstd.data<T>(), pdx,
                                 pdw, pdb);
    else
      backward_channels<T, false>(l, x.data<T>(), grad_out.data<T>(), py, pw, mean.data<T>(), invstd.data<T>(), pdx,
                                  pdw, pdb);
  });
}

}  // namespace fluxion::cpu
