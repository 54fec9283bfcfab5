//! @file
//! The dispatch table: one Backend per device type, each a struct of kernel
//! function pointers. Ops compute output shapes, allocate outputs and call
//! backend(device).kernel(...); a kernel only fills memory. Adding a device
//! (CUDA) means filling in one more Backend, never touching ops or layers.
//!
//! Contract shared by every kernel: inputs and outputs may be non-contiguous
//! (any strides, stride 0 for broadcast dims) unless a kernel says otherwise;
//! every tensor passed to one call lives on the same device; dtypes are the
//! same across operands unless a kernel says otherwise. Kernels switch on dtype
//! internally (visit_dtype in core/dtype.h).
//!
//! The entries are listed once, in FLUXION_BACKEND_KERNELS; a backend that
//! lacks a kernel says so by name with unsupported_kernel().
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/caching_allocator.h"
#include "core/elementwise.h"
#include "core/tensor.h"
#include "core/window.h"

namespace fluxion {

// The table's entries, listed once: X(result type, name, (parameters)), each
// with its contract. From this list come Backend's fields, each backend's
// declarations (core/cpu/kernels.h, core/cuda/kernels.h) and its table
// (core/cpu/backend.cpp, core/cuda/backend.cpp), as ggml builds its op table.
// The contracts are block comments because a // comment would swallow the
// line continuation; Doxygen reads them on the fields (docs/Doxyfile expands
// this macro).
// clang-format off
#define FLUXION_BACKEND_KERNELS(X)                                                                                     \
  /** Memory for tensors on device `index` of this type. deallocate gets the size and index that allocate was          \
      given; it must not throw (Storage's destructor calls it). */                                                     \
  X(void*, allocate, (std::size_t nbytes, int index))                                                                  \
  X(void, deallocate, (void* ptr, std::size_t nbytes, int index) noexcept)                                             \
  /** Returns memory the backend caches for reuse to the system (every device). */                                     \
  X(void, empty_cache, ())                                                                                             \
  /** The caching allocator's figures for device `index` (on the CPU, blocks of 1 MiB and more; on a GPU, every        \
      block), and a reset of its peak. */                                                                              \
  X(CachingAllocator::Stats, memory_stats, (int index))                                                                \
  X(void, reset_peak_memory_stats, (int index))                                                                        \
                                                                                                                       \
  /** Copies between CPU memory and this device's: src and dst contiguous, the same dtype and element count            \
      (copy_between_devices arranges that). On the CPU backend both are plain memcpy. Both return when the copy        \
      is done: dst holds the values, src may be changed or freed. */                                                   \
  X(void, copy_from_cpu, (const Tensor& src, const Tensor& dst))                                                       \
  X(void, copy_to_cpu, (const Tensor& src, const Tensor& dst))                                                         \
                                                                                                                       \
  /** out[...] = value, converted to out's dtype. */                                                                   \
  X(void, fill, (const Tensor& out, double value))                                                                     \
  /** dst = src; src broadcasts to dst's shape and converts to dst's dtype. */                                         \
  X(void, copy, (const Tensor& src, const Tensor& dst))                                                                \
  /** out = a op b (core/elementwise.h); a and b broadcast to out's shape. Comparisons write 1 or 0. out may           \
      alias a or b element for element (in-place ops). */                                                              \
  X(void, binary, (BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out))                                  \
  /** out = op(a) (core/elementwise.h), a has out's shape. out may alias a (in place). */                             \
  X(void, unary, (UnaryOp op, const Tensor& a, const Tensor& out, UnaryParams params))                                 \
  /** out = cond != 0 ? a : b; all three broadcast to out's shape. */                                                  \
  X(void, where, (const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out))                            \
  /** Sums a into out, which has a's rank: every dim where out has size 1 and a does not is summed over.               \
      Floating sums accumulate in double. */                                                                           \
  X(void, sum, (const Tensor& a, const Tensor& out))                                                                   \
  /** Maximum of a along dim: values and int64 indices have a's rank with size 1 at dim. NaN wins (as in               \
      PyTorch); ties pick the first index. */                                                                          \
  X(void, max, (const Tensor& a, std::int64_t dim, const Tensor& values, const Tensor& indices))                       \
  /** Batched matrix product: a [B, M, K] @ b [B, K, N] -> out [B, M, N]. a and b may have any strides (stride 0       \
      on B broadcasts); out is contiguous. */                                                                          \
  X(void, matmul, (const Tensor& a, const Tensor& b, const Tensor& out))                                               \
  /** Softmax (or log-softmax) of a along dim; out has a's shape. */                                                   \
  X(void, softmax, (const Tensor& a, std::int64_t dim, bool log, const Tensor& out))                                   \
  /** out[i][j][k] = src[i][index[i][j][k]][k] for dim 1 (PyTorch's gather); index is int64 with out's shape.          \
      Throws on an index outside src. */                                                                               \
  X(void, gather, (const Tensor& src, std::int64_t dim, const Tensor& index, const Tensor& out))                       \
  /** dst[i][index[i][j][k]][k] += src[i][j][k] for dim 1 (PyTorch's scatter_add_); index is int64 with src's          \
      shape. Throws on an index outside dst. */                                                                        \
  X(void, scatter_add, (const Tensor& dst, std::int64_t dim, const Tensor& index, const Tensor& src))                  \
                                                                                                                       \
  /* --- convolution, normalisation, pooling: x, weights and outputs are contiguous NCHW (the ops make them            \
     so); floating dtypes only. --- */                                                                                 \
                                                                                                                       \
  /** out [N, O, Ho, Wo] = conv2d(x [N, C, H, W], weight [O, C / groups, kh, kw]) + bias [O] (bias may be              \
      undefined). */                                                                                                   \
  X(void, conv2d, (const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& out, Conv2dParams p))      \
  /** Gradient of conv2d with respect to its input (overwritten). x's shape is grad_x's. */                            \
  X(void, conv2d_backward_input, (const Tensor& grad_out, const Tensor& weight, const Tensor& grad_x,                  \
                                  Conv2dParams p))                                                                     \
  /** Gradient of conv2d with respect to its weight (overwritten). */                                                  \
  X(void, conv2d_backward_weight, (const Tensor& grad_out, const Tensor& x, const Tensor& grad_weight,                 \
                                   Conv2dParams p))                                                                    \
                                                                                                                       \
  /** Training-mode batch normalisation of x [N, C, S] (S = H * W, or 1) over N and S per channel: writes out,         \
      the batch mean and 1 / sqrt(var + eps) (biased variance) per channel into mean and invstd [C]. When              \
      running_mean and running_var are defined they move towards the batch statistics by `momentum`, the               \
      variance unbiased (N * S / (N * S - 1)), as in PyTorch. weight and bias [C] may be undefined                     \
      (affine = false). With with_relu, out is then relu(out), UnaryOp::relu's values. */                                   \
  X(void, batch_norm, (const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& running_mean,          \
                       const Tensor& running_var, double momentum, double eps, bool with_relu, const Tensor& out,           \
                       const Tensor& mean, const Tensor& invstd))                                                      \
  /** Backward of training-mode batch_norm given the saved mean and invstd. grad_x, grad_weight and grad_bias          \
      may be undefined (not needed / not affine). eps is the forward's (cuDNN wants it; the CPU needs only             \
      invstd). relu_out, when defined, is the output of a forward with relu: grad_out then first becomes               \
      BinaryOp::relu_grad(grad_out, relu_out), 0 where relu_out <= 0. */                                               \
  X(void, batch_norm_backward, (const Tensor& grad_out, const Tensor& x, const Tensor& weight, const Tensor& mean,     \
                                const Tensor& invstd, const Tensor& relu_out, const Tensor& grad_x,                    \
                                const Tensor& grad_weight, const Tensor& grad_bias, double eps))                       \
  /** Evaluation-mode batch normalisation, for a forward that needs no gradient: out = x * scale + shift per           \
      channel of x [N, C, S], scale and shift [C] already folded from the running statistics. Each product is          \
      rounded before its sum, as BinaryOp::mul then add would round them; with with_relu, then UnaryOp::relu. */       \
  X(void, channel_affine, (const Tensor& x, const Tensor& scale, const Tensor& shift, bool with_relu,                  \
                           const Tensor& out))                                                                         \
                                                                                                                       \
  /** Max pooling: out [N, C, Ho, Wo] and the flat index (h * W + w) of each window's maximum into int64               \
      indices (the first of equal maxima; a NaN wins, the last one, as in PyTorch's CPU kernel). */                    \
  X(void, max_pool2d, (const Tensor& x, const Tensor& out, const Tensor& indices, Pool2dParams p))                     \
  /** grad_x (zeroed first) [ indices ] += grad_out. */                                                                \
  X(void, max_pool2d_backward, (const Tensor& grad_out, const Tensor& indices, const Tensor& grad_x))                  \
  /** Average pooling: out [N, C, Ho, Wo], each window's sum over its divisor (Pool2dParams). */                       \
  X(void, avg_pool2d, (const Tensor& x, const Tensor& out, Pool2dParams p))                                            \
  /** grad_x is overwritten. */                                                                                        \
  X(void, avg_pool2d_backward, (const Tensor& grad_out, const Tensor& grad_x, Pool2dParams p))
// clang-format on

/// A pointer field of Backend per entry of the list.
#define FLUXION_BACKEND_FIELD(result, kernel, params) result(*kernel) params;
/// One device type's kernels: a pointer per entry of FLUXION_BACKEND_KERNELS.
struct Backend {
  const char* name;  ///< "cpu", "cuda": the backend's name in errors
  FLUXION_BACKEND_KERNELS(FLUXION_BACKEND_FIELD)
};
#undef FLUXION_BACKEND_FIELD

/// In a backend's kernels.h, inside its namespace: declares every entry of
/// the list as a function of that namespace, so a backend that forgets to
/// define one fails to link, naming it (undefined reference to
/// `fluxion::cuda::gather(...)`).
#define FLUXION_DECLARE_BACKEND_KERNEL(result, kernel, params) result kernel params;
/// In a backend's table, `Backend{.name = "cpu", FLUXION_BACKEND_KERNELS(FLUXION_BACKEND_ENTRY)}`:
/// each field points at the namespace's function of the same name.
#define FLUXION_BACKEND_ENTRY(result, kernel, params) .kernel = kernel,

/// The body of a kernel a backend does not have (it must still define it, so
/// the choice is written down): throws an Error naming the backend and the
/// kernel, e.g. `void gather(...) { unsupported_kernel("metal", "gather"); }`.
[[noreturn]] void unsupported_kernel(const char* backend, const char* kernel);

/// How Backend::sum sees its operands: a's dims split into those kept (an
/// output per index) and those summed over (out has size 1 there), with a's
/// and out's strides for each. Both backends iterate over these.
struct SumGeometry {
  Shape kept_shape, reduced_shape;
  Strides kept_a, kept_out, reduced_a;
};
SumGeometry sum_geometry(const Tensor& a, const Tensor& out);

/// The backend for a device; throws if that device type has none compiled in.
const Backend& backend(Device device);

/// dst = src where the two may live on different devices: src broadcasts to
/// dst's shape and converts to its dtype, as Backend::copy. Goes through a
/// contiguous staging copy on whichever side needs one.
void copy_between_devices(const Tensor& src, const Tensor& dst);

}  // namespace fluxion
