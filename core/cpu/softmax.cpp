// Softmax and log-softmax along one dim, numerically stable: the row maximum
// is subtracted before exponentiating, so no exp overflows.
#include <cmath>

#include "core/cpu/kernels.h"
#include "core/cpu/strided_loop.h"

namespace fluxion::cpu {

void softmax(const Tensor& a, std::int64_t dim, bool log, const Tensor& out) {
  const std::int64_t length = a.shape()[dim];
  if (a.numel() == 0) return;
  const std::int64_t sa = a.strides()[dim], so = out.strides()[dim];
  Shape outer = a.shape();
  outer[dim] = 1;
  visit_floating(a.dtype(), "softmax", [&]<class T>() {
    const T* pa = a.data<T>();
    T* po = out.data<T>();
    for_each_row<2>(outer, {a.strides(), out.strides()},
                    [&](const std::int64_t* off, std::int64_t n, const std::int64_t* st) {
                      for (std::int64_t i = 0; i < n; ++i) {
                        const T* x = pa + off[0] + i * st[0];
                        T* y = po + off[1] + i * st[1];
                        T peak = x[0];
                        for (std::int64_t j = 1; j < length; ++j) peak = std::max(peak, x[j * sa]);
                        double total = 0;
                        for (std::int64_t j = 0; j < length; ++j) total += std::exp(double(x[j * sa] - peak));
                        if (log) {
                          // (x - peak) first: subtracting peak + log(total) in one step
                          // would round at the scale of the largest logit.
                          const T log_total = static_cast<T>(std::log(total));
                          for (std::int64_t j = 0; j < length; ++j) y[j * so] = (x[j * sa] - peak) - log_total;
                        } else {
                          const double scale = 1.0 / total;
                          for (std::int64_t j = 0; j < length; ++j)
                            y[j * so] = static_cast<T>(std::exp(double(x[j * sa] - peak)) * scale);
                        }
                      }
                    },
                    std::max<std::int64_t>(1, 4096 / std::max<std::int64_t>(length, 1)));
  });
}

}  // namespace fluxion::cpu
