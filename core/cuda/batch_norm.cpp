// Training-mode batch normalisation through cuDNN (spatial mode: statistics
// per channel over N and H * W). cuDNN's semantics are PyTorch's (PyTorch
// calls the same functions): the saved inverse standard deviation is
// 1 / sqrt(biased var + eps), and the running variance moves towards the
// unbiased batch variance by `momentum`. cuDNN wants a scale and bias and
// returns both parameter gradients, so a layer without affine parameters,
// or a backward that needs only some gradients, gets scratch tensors. A
// fused ReLU runs as the elementwise kernels' relu and relu_grad passes
// around cuDNN's calls (unfused on the GPU, the same values).
// Evaluation mode with a gradient is ops (scale and shift); without one it
// is channel_affine, here the elementwise kernels' mul, add and relu over a
// broadcast view of scale and shift (three passes, the same values).
#include "core/cuda/cudnn_descriptors.h"
#include "core/cuda/kernels.h"
#include "core/factory.h"

namespace fluxion::cuda {
namespace {

// The per-channel [1, C, 1, 1] descriptor cuDNN derives for the scale,
// bias, mean and variance (its data type follows x's).
struct StatsDescriptor
    : CudnnHandle<cudnnTensorDescriptor_t, cudnnCreateTensorDescriptor, cudnnDestroyTensorDescriptor> {
  explicit StatsDescriptor(const TensorDescriptor& x) {
    FLUXION_CUDNN_CHECK(cudnnDeriveBNTensorDescriptor(desc, x.desc, CUDNN_BATCHNORM_SPATIAL));
  }
};

Tensor or_filled(const Tensor& t, std::int64_t channels, const Tensor& like, double value) {
  return t.defined() ? t : full({channels}, value, like.options());
}

// A per-channel vector [C] as a view that broadcasts against x [N, C, ...]
// (make_view: a backend builds views itself; reshape is an autograd op).
Tensor per_channel(const Tensor& t, const Tensor& x) {
  Shape shape(static_cast<std::size_t>(x.dim()), 1);
  Strides strides(static_cast<std::size_t>(x.dim()), 0);
  shape[1] = t.size(0), strides[1] = t.stride(0);
  return make_view(t, shape, strides, t.offset());
}

}  // namespace

void batch_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& running_mean,
                const Tensor& running_var, double momentum, double eps, bool with_relu, const Tensor& out,
                const Tensor& mean, const Tensor& invstd) {
  FLUXION_CHECK(x.device().is_cuda(), "batch_norm: expected a CUDA tensor, got one on ", x.device());
  FLUXION_CHECK(eps >= CUDNN_BN_MIN_EPSILON, "batch_norm: eps ", eps, " is below cuDNN's minimum ",
                CUDNN_BN_MIN_EPSILON);
  const int device = x.device().index;
  DeviceGuard guard(device);
  const std::int64_t channels = x.size(1);
  const Tensor scale = or_filled(weight, channels, x, 1.0), shift = or_filled(bias, channels, x, 0.0);
  const TensorDescriptor xd = TensorDescriptor::folded(x, "batch_norm");
  const StatsDescriptor stats(xd);
  const Scaling s(x.dtype());
  FLUXION_CUDNN_CHECK(cudnnBatchNormalizationForwardTraining(
      cudnn(device), CUDNN_BATCHNORM_SPATIAL, s.one(), s.zero(), xd.desc, x.raw_data(), xd.desc, out.raw_data(),
      stats.desc, scale.raw_data(), shift.raw_data(), momentum,
      running_mean.defined() ? running_mean.raw_data() : nullptr,
      running_var.defined() ? running_var.raw_data() : nullptr, eps, mean.raw_data(), invstd.raw_data()));
  if (with_relu) unary(UnaryOp::relu, out, out, {});
}

void batch_norm_backward(const Tensor& grad_out, const Tensor& x, const Tensor& weight, const Tensor& mean,
                         const Tensor& invstd, const Tensor& relu_out, const Tensor& grad_x,
                         const Tensor& grad_weight, const Tensor& grad_bias, double eps) {
  FLUXION_CHECK(x.device().is_cuda(), "batch_norm_backward: expected a CUDA tensor, got one on ", x.device());
  const int device = x.device().index;
  DeviceGuard guard(device);
  const std::int64_t channels = x.size(1);
  const Tensor scale = or_filled(weight, channels, x, 1.0);
  const Tensor gx = grad_x.defined() ? grad_x : empty(x.shape(), x.options());
  const Tensor gw = grad_weight.defined() ? grad_weight : empty({channels}, x.options());
  const Tensor gb = grad_bias.defined() ? grad_bias : empty({channels}, x.options());
  Tensor g = grad_out;
  if (relu_out.defined()) {
    g = empty(grad_out.shape(), grad_out.options());
    binary(BinaryOp::relu_grad, grad_out, relu_out, g);
  }
  const TensorDescriptor xd = TensorDescriptor::folded(x, "batch_norm_backward");
  const StatsDescriptor stats(xd);
  const Scaling s(x.dtype());
  FLUXION_CUDNN_CHECK(cudnnBatchNormalizationBackward(
      cudnn(device), CUDNN_BATCHNORM_SPATIAL, s.one(), s.zero(), s.one(), s.zero(), xd.desc, x.raw_data(), xd.desc,
      g.raw_data(), xd.desc, gx.raw_data(), stats.desc, scale.raw_data(), gw.raw_data(), gb.raw_data(),
      eps, mean.raw_data(), invstd.raw_data()));
}

void channel_affine(const Tensor& x, const Tensor& scale, const Tensor& shift, bool with_relu, const Tensor& out) {
  FLUXION_CHECK(x.device().is_cuda(), "channel_affine: expected a CUDA tensor, got one on ", x.device());
  DeviceGuard guard(x.device().index);
  binary(BinaryOp::mul, x, per_channel(scale, x), out);
  binary(BinaryOp::add, out, per_channel(shift, x), out);
  if (with_relu) unary(UnaryOp::relu, out, out, {});
}

}  // namespace fluxion::cuda
