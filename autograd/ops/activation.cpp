// Activations: relu, sigmoid, tanh. Sigmoid and tanh differentiate through
// their output, so they save it rather than the input.
#include "autograd/ops/common.h"

namespace fluxion {
using namespace ops_detail;

Tensor relu(const Tensor& a) {
  profiler::Scope scope("relu forward");
  Tensor out = unary_forward(UnaryOp::relu, a);
  record(out, "relu", {a}, [saved = save(out.detach())](const Tensor& g) -> TensorList {
    // One pass; the gradient is 0 at 0, as in PyTorch.
    return {binary_forward(BinaryOp::relu_grad, g, saved.get(), "relu backward")};
  });
  return out;
}

Tensor sigmoid(const Tensor& a) {
  check_floating(a, "sigmoid");
  Tensor out = unary_forward(UnaryOp::sigmoid, a);
  record(out, "sigmoid", {a}, [saved = save(out.detach())](const Tensor& g) -> TensorList {
    const Tensor& y = saved.get();
    return {g * y * (1.0 - y)};
  });
  return out;
}

Tensor tanh(const Tensor& a) {
  check_floating(a, "tanh");
  Tensor out = unary_forward(UnaryOp::tanh, a);
  record(out, "tanh", {a}, [saved = save(out.detach())](const Tensor& g) -> TensorList {
    const Tensor& y = saved.get();
    return {g * (1.0 - y * y)};
  });
  return out;
}

}  // namespace fluxion
