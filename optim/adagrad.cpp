#include "optim/adagrad.h"

#include <cmath>

#include "optim/fused.h"

namespace fluxion::optim {

Adagrad::Adagrad(std::vector<Tensor> params, AdagradOptions options)
    : Adagrad(std::vector<Group>{{std::move(params), options}}) {}
Adagrad::Adagrad(std::vector<Group> groups) : OptimizerWith(std::move(groups)) { validate_options(); }

std::vector<std::string> Adagrad::state_buffers(std::size_t) const { return {"sum"}; }

void Adagrad::step() {
  for_each_param([](Tensor& p, const Tensor& grad, ParamState& s, const AdagradOptions& o, std::size_t) {
    const std::int64_t t = ++s.step;
    // PyTorch creates the accumulator with the parameter, not at the first
    // step; the value is the same.
    Tensor& sum = buffer(s, "sum", p, o.initial_accumulator_value());
    // g += wd w;  sum += g^2;  w -= lr / (1 + (t - 1) lr_decay) * g / (sqrt(sum) + eps)
    const double clr = o.lr() / (1.0 + static_cast<double>(t - 1) * o.lr_decay());
    for_each_element("Adagrad", rules::Adagrad{clr, o.weight_decay(), o.eps()}, p, grad, sum);
  });
}

}  // namespace fluxion::optim
