#include "layers/init.h"

#include <cmath>

#include "autograd/ops.h"
#include "core/factory.h"
#include "core/grad_mode.h"

namespace fluxion::nn::init {
namespace {
std::int64_t receptive_field(const Tensor& weight) {
  std::int64_t r = 1;
  for (std::int64_t d = 2; d < weight.dim(); ++d) r *= weight.size(d);
  return r;
}
}  // namespace

std::int64_t fan_in(const Tensor& weight) {
  FLUXION_CHECK(weight.dim() >= 2, "init: fan_in needs a weight with at least 2 dims, got shape ",
                to_string(weight.shape()));
  return weight.size(1) * receptive_field(weight);
}

void uniform_(const Tensor& t, double low, double high, Generator* generator) {
  NoGradGuard no_grad;
  Tensor(t).copy_(uniform(t.shape(), low, high, t.options().requires_grad(false), generator));
}

void kaiming_uniform_(const Tensor& weight, double a, Generator* generator) {
  const double gain = std::sqrt(2.0 / (1.0 + a * a));
  const double bound = gain * std::sqrt(3.0 / static_cast<double>(fan_in(weight)));
  uniform_(weight, -bound, bound, generator);
}

void kaiming_normal_(const Tensor& weight, bool fan_out_mode, Generator* generator) {
  FLUXION_CHECK(weight.dim() >= 2, "init: kaiming_normal_ needs a weight with at least 2 dims, got shape ",
                to_string(weight.shape()));
  const std::int64_t fan = fan_out_mode ? weight.size(0) * receptive_field(weight) : fan_in(weight);
  const double std = std::sqrt(2.0) / std::sqrt(static_cast<double>(fan));
  NoGradGuard no_grad;
  Tensor(weight).copy_(randn(weight.shape(), weight.options().requires_grad(false), generator) * std);
}

void default_linear_init(const Tensor& weight, const Tensor& bias, Generator* generator) {
  kaiming_uniform_(weight, std::sqrt(5.0), generator);
  if (!bias.defined()) return;
  const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in(weight)));
  uniform_(bias, -bound, bound, generator);
}

}  // namespace fluxion::nn::init
