// Convolution through cuDNN: forward, backward-data and backward-filter.
// The algorithm for each (direction, shapes, geometry, dtype, math) is
// chosen once by cuDNN's heuristics (cudnnGet*Algorithm_v7, as PyTorch does
// when benchmark mode is off: the best-ranked one whose workspace fits) and
// cached with its math type and workspace size (with cuda::deterministic(),
// the best-ranked one that cuDNN marks deterministic); workspaces come from the caching
// allocator, so steady-state training allocates nothing from the driver.
// float32 convolutions may use TF32 tensor cores unless
// cuda::set_allow_tf32(false), which asks cuDNN for FMA math only.
#include <map>
#include <mutex>
#include <tuple>

#include "core/cuda.h"
#include "core/cuda/cudnn_descriptors.h"
#include "core/cuda/kernels.h"

namespace fluxion::cuda {
namespace {

enum class Direction { forward, backward_data, backward_filter };

struct ConvDescriptor : CudnnHandle<cudnnConvolutionDescriptor_t, cudnnCreateConvolutionDescriptor,
                                    cudnnDestroyConvolutionDescriptor> {
  cudnnMathType_t math = CUDNN_DEFAULT_MATH;
  ConvDescriptor(const Conv2dParams& p, DType dtype) {
    const char* op = "conv2d";
    FLUXION_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(
        desc, cudnn_size(p.pad_h, op), cudnn_size(p.pad_w, op), cudnn_size(p.stride_h, op),
        cudnn_size(p.stride_w, op), cudnn_size(p.dilation_h, op), cudnn_size(p.dilation_w, op),
        CUDNN_CROSS_CORRELATION, cudnn_type(dtype, op)));
    FLUXION_CUDNN_CHECK(cudnnSetConvolutionGroupCount(desc, cudnn_size(p.groups, op)));
    // As PyTorch: default math lets cuDNN use TF32 tensor cores for float32;
    // FMA math forbids them.
    if (dtype == kFloat32 && !allow_tf32()) math = CUDNN_FMA_MATH;
    set_math(math);
  }
  void set_math(cudnnMathType_t m) { FLUXION_CUDNN_CHECK(cudnnSetConvolutionMathType(desc, m)); }
};

// Everything the algorithm choice depends on.
using Key = std::tuple<int, Direction, DType, int, Shape, Shape, Shape, std::int64_t, std::int64_t, std::int64_t,
                       std::int64_t, std::int64_t, std::int64_t, std::int64_t, bool>;

Key key_of(int device, Direction d, const Tensor& x, const Tensor& w, const Tensor& y, const Conv2dParams& p,
           cudnnMathType_t math) {
  return {device, d, x.dtype(), int(math), x.shape(), w.shape(), y.shape(), p.stride_h, p.stride_w, p.pad_h,
          p.pad_w, p.dilation_h, p.dilation_w, p.groups, deterministic()};
}

// An algorithm as cuDNN reported it: which, the math it uses (set on the
// descriptor before running, as PyTorch does) and its workspace.
struct Choice {
  int algo;
  cudnnMathType_t math;
  std::size_t workspace;
};

std::mutex cache_mutex;
std::map<Key, Choice>& algorithm_cache() {
  static auto* cache = new std::map<Key, Choice>();
  return *cache;
}

// cuDNN's heuristics list algorithms best first; take the first that
// reports success and whose workspace fits in what the device has free
// (plus what the caching allocator could release). `query` fills perf
// results and returns how many.
template <class Perf, class Query>
Choice choose(const Key& key, int device, const char* what, Query query) {
  {
    std::lock_guard<std::mutex> lock(cache_mutex);
    if (auto it = algorithm_cache().find(key); it != algorithm_cache().end()) return it->second;
  }
  Perf results[16];
  int count = 0;
  query(results, 16, &count);
  std::size_t free_bytes = 0, total_bytes = 0;
  FLUXION_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
  const std::size_t budget = free_bytes + memory_stats(device).cached_bytes;
  for (int i = 0; i < count; ++i) {
    if (results[i].status != CUDNN_STATUS_SUCCESS || results[i].memory > budget) continue;
    // With TF32 off (FMA math asked for) only full-float32 algorithms do.
    if (std::get<3>(key) == int(CUDNN_FMA_MATH) && results[i].mathType != CUDNN_FMA_MATH) continue;
    // Some algorithms (backward-filter's CUDNN_..._ALGO_0, _3) add with atomics.
    if (std::get<14>(key) && results[i].determinism != CUDNN_DETERMINISTIC) continue;
    const Choice chosen{static_cast<int>(results[i].algo), results[i].mathType, results[i].memory};
    std::lock_guard<std::mutex> lock(cache_mutex);
    algorithm_cache().emplace(key, chosen);
    return chosen;
  }
  throw Error(detail::concat(what, ": cuDNN offers no ", std::get<14>(key) ? "deterministic " : "",
                             "algorithm for this convolution that fits in the ", budget >> 20,
                             " MiB of free device memory",
                             std::get<14>(key) ? " (cuda::set_deterministic(true), --deterministic, asks for one)" : ""));
}

// The pieces every direction needs: descriptors of x, w, y and the conv.
struct Problem {
  TensorDescriptor x, y;
  FilterDescriptor w;
  ConvDescriptor conv;
  Scaling scale;
  int device;
  Problem(const Tensor& x_t, const Tensor& w_t, const Tensor& y_t, const Conv2dParams& p, const char* op)
      : x(x_t, op), y(y_t, op), w(w_t, op), conv(p, x_t.dtype()), scale(x_t.dtype()), device(x_t.device().index) {
    FLUXION_CHECK(x_t.device().is_cuda() && w_t.device() == x_t.device() && y_t.device() == x_t.device(), op,
                  ": expected every tensor on one CUDA device");
    FLUXION_CHECK(x_t.is_contiguous() && w_t.is_contiguous() && y_t.is_contiguous(), op,
                  ": expected contiguous NCHW tensors");
  }
};

}  // namespace

void conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& out, Conv2dParams p) {
  if (out.numel() == 0) return;
  Problem pr(x, weight, out, p, "conv2d");
  DeviceGuard guard(pr.device);
  cudnnHandle_t h = cudnn(pr.device);
  const Choice c = choose<cudnnConvolutionFwdAlgoPerf_t>(
      key_of(pr.device, Direction::forward, x, weight, out, p, pr.conv.math), pr.device, "conv2d",
      [&](auto* r, int n, int* got) {
        FLUXION_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(h, pr.x.desc, pr.w.desc, pr.conv.desc, pr.y.desc,
                                                                   n, got, r));
      });
  pr.conv.set_math(c.math);
  Scratch workspace(c.workspace, pr.device);
  FLUXION_CUDNN_CHECK(cudnnConvolutionForward(h, pr.scale.one(), pr.x.desc, x.raw_data(), pr.w.desc,
                                              weight.raw_data(), pr.conv.desc,
                                              static_cast<cudnnConvolutionFwdAlgo_t>(c.algo), workspace.get(),
                                              c.workspace, pr.scale.zero(), pr.y.desc, out.raw_data()));
  if (bias.defined()) {
    TensorDescriptor b(bias.dtype(), 1, bias.numel(), 1, 1, "conv2d");
    FLUXION_CUDNN_CHECK(cudnnAddTensor(h, pr.scale.one(), b.desc, bias.raw_data(), pr.scale.one(), pr.y.desc,
                                       out.raw_data()));
  }
}

void conv2d_backward_input(const Tensor& grad_out, const Tensor& weight, const Tensor& grad_x, Conv2dParams p) {
  if (grad_x.numel() == 0) return;
  if (grad_out.numel() == 0) return fill(grad_x, 0.0);
  Problem pr(grad_x, weight, grad_out, p, "conv2d_backward_input");
  DeviceGuard guard(pr.device);
  cudnnHandle_t h = cudnn(pr.device);
  const Choice c = choose<cudnnConvolutionBwdDataAlgoPerf_t>(
      key_of(pr.device, Direction::backward_data, grad_x, weight, grad_out, p, pr.conv.math), pr.device,
      "conv2d_backward_input", [&](auto* r, int n, int* got) {
        FLUXION_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7(h, pr.w.desc, pr.y.desc, pr.conv.desc,
                                                                        pr.x.desc, n, got, r));
      });
  pr.conv.set_math(c.math);
  Scratch workspace(c.workspace, pr.device);
  FLUXION_CUDNN_CHECK(cudnnConvolutionBackwardData(h, pr.scale.one(), pr.w.desc, weight.raw_data(), pr.y.desc,
                                                   grad_out.raw_data(), pr.conv.desc,
                                                   static_cast<cudnnConvolutionBwdDataAlgo_t>(c.algo),
                                                   workspace.get(), c.workspace, pr.scale.zero(), pr.x.desc,
                                                   grad_x.raw_data()));
}

void conv2d_backward_weight(const Tensor& grad_out, const Tensor& x, const Tensor& grad_weight, Conv2dParams p) {
  if (grad_weight.numel() == 0) return;
  if (grad_out.numel() == 0) return fill(grad_weight, 0.0);
  Problem pr(x, grad_weight, grad_out, p, "conv2d_backward_weight");
  DeviceGuard guard(pr.device);
  cudnnHandle_t h = cudnn(pr.device);
  const Choice c = choose<cudnnConvolutionBwdFilterAlgoPerf_t>(
      key_of(pr.device, Direction::backward_filter, x, grad_weight, grad_out, p, pr.conv.math), pr.device,
      "conv2d_backward_weight", [&](auto* r, int n, int* got) {
        FLUXION_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithm_v7(h, pr.x.desc, pr.y.desc, pr.conv.desc,
                                                                          pr.w.desc, n, got, r));
      });
  pr.conv.set_math(c.math);
  Scratch workspace(c.workspace, pr.device);
  FLUXION_CUDNN_CHECK(cudnnConvolutionBackwardFilter(h, pr.scale.one(), pr.x.desc, x.raw_data(), pr.y.desc,
                                                     grad_out.raw_data(), pr.conv.desc,
                                                     static_cast<cudnnConvolutionBwdFilterAlgo_t>(c.algo),
                                                     workspace.get(), c.workspace, pr.scale.zero(), pr.w.desc,
                                                     grad_weight.raw_data()));
}

}  // namespace fluxion::cuda
