#include "layers/activation.h"

#include <sstream>

#include "autograd/ops.h"
#include "layers/forward_trace.h"

namespace fluxion::nn {

Tensor ReLU::forward(const Tensor& x) {
  ForwardScope scope(*this, x);
  return scope.output(relu(x));
}

Dropout::Dropout(double p_, Generator* generator_) : p(p_), generator(generator_) {
  FLUXION_CHECK(p >= 0.0 && p <= 1.0, "Dropout: p must be in [0, 1], got ", p);
}

Tensor Dropout::forward(const Tensor& x) {
  ForwardScope scope(*this, x);
  return scope.output(dropout(x, p, is_training(), generator));
}

std::string Dropout::extra_repr() const {
  std::ostringstream s;
  s << "p=" << p << ", inplace=False";
  return s.str();
}

Tensor Flatten::forward(const Tensor& x) {
  ForwardScope scope(*this, x);
  return scope.output(x.flatten(start_dim, end_dim));
}

std::string Flatten::extra_repr() const {
  return "start_dim=" + std::to_string(start_dim) + ", end_dim=" + std::to_string(end_dim);
}

}  // namespace fluxion::nn
