#include "layers/linear.h"

#include "autograd/ops.h"
#include "layers/init.h"
#include "layers/forward_trace.h"

namespace fluxion::nn {

Linear::Linear(LinearOptions opts) : options(opts) {
  FLUXION_CHECK(options.in_features() >= 1 && options.out_features() >= 1,
                "Linear: in_features and out_features must be >= 1, got ", options.in_features(), " and ",
                options.out_features());
  weight = register_parameter("weight", empty({options.out_features(), options.in_features()}));
  if (options.bias()) bias = register_parameter("bias", empty({options.out_features()}));
  init::default_linear_init(weight, bias);
}

Tensor Linear::forward(const Tensor& x) {
  ForwardScope scope(*this, x);
  return scope.output(linear(x, weight, bias));
}

std::string Linear::extra_repr() const {
  return "in_features=" + std::to_string(options.in_features()) +
         ", out_features=" + std::to_string(options.out_features()) + ", bias=" + (options.bias() ? "True" : "False");
}

std::int64_t Linear::multiply_adds(const Tensor& input, const Tensor& output) const {
  (void)input;
  return output.numel() * options.in_features();
}

}  // namespace fluxion::nn
