// Activations: relu, add_relu (a residual block's relu(a + b) in one pass
// each way), sigmoid, tanh. Sigmoid and tanh differentiate through their
// output, so they save it rather than the input.
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

Tensor add_relu(const Tensor& a, const Tensor& b) {
  profiler::Scope scope("add_relu forward");
  Tensor out = binary_forward(BinaryOp::add_relu, a, b, "add_relu");
  record(out, "add_relu", {a, b},
         [saved = save(out.detach()), sa = a.shape(), sb = b.shape()](const Tensor& g) -> TensorList {
           // relu's backward, then add's: the same gradient to both inputs.
           const Tensor masked = binary_forward(BinaryOp::relu_grad, g, saved.get(), "add_relu backward");
           return {sum_to(masked, sa), sum_to(masked, sb)};
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
