// Owning wrappers of the cuDNN descriptors the convolution and batchnorm
// kernels build per call (cheap host structs), and cuDNN's data type and
// scaling-factor type for a dtype. cuDNN's 4-D descriptors take int sizes
// and fewer than 2^31 elements; larger tensors are refused with a clear error.
#pragma once

#include <climits>

#include "core/cuda/common.h"
#include "core/tensor.h"

namespace fluxion::cuda {

inline cudnnDataType_t cudnn_type(DType dtype, const char* op) {
  if (dtype == kFloat32) return CUDNN_DATA_FLOAT;
  if (dtype == kFloat64) return CUDNN_DATA_DOUBLE;
  throw Error(detail::concat(op, ": expected a floating-point tensor (float32 or float64), got ", dtype));
}

inline int cudnn_size(std::int64_t size, const char* op) {
  FLUXION_CHECK(size >= 0 && size <= INT_MAX, op, ": dimension ", size, " exceeds cuDNN's 32-bit limit");
  return static_cast<int>(size);
}

// alpha = 1 and beta = 0 in the type cuDNN wants: double for double data,
// float otherwise.
struct Scaling {
  float f_one = 1.0f, f_zero = 0.0f;
  double d_one = 1.0, d_zero = 0.0;
  bool is_double = false;
  explicit Scaling(DType dtype) : is_double(dtype == kFloat64) {}
  const void* one() const { return is_double ? static_cast<const void*>(&d_one) : &f_one; }
  const void* zero() const { return is_double ? static_cast<const void*>(&d_zero) : &f_zero; }
};

// Creates with `create`, and destroys with `destroy` also when the set-up
// that follows throws (the owner's destructor would not run then).
template <class Handle, cudnnStatus_t (*Create)(Handle*), cudnnStatus_t (*Destroy)(Handle)>
struct CudnnHandle {
  Handle desc = nullptr;
  CudnnHandle() { FLUXION_CUDNN_CHECK(Create(&desc)); }
  ~CudnnHandle() { Destroy(desc); }
  CudnnHandle(const CudnnHandle&) = delete;
  CudnnHandle& operator=(const CudnnHandle&) = delete;
};

struct TensorDescriptor
    : CudnnHandle<cudnnTensorDescriptor_t, cudnnCreateTensorDescriptor, cudnnDestroyTensorDescriptor> {
  TensorDescriptor(DType dtype, std::int64_t n, std::int64_t c, std::int64_t h, std::int64_t w, const char* op) {
    FLUXION_CHECK(n * c * h * w < (std::int64_t{1} << 31), op, ": a tensor of ", n * c * h * w,
                  " elements exceeds cuDNN's limit of 2^31");
    FLUXION_CUDNN_CHECK(cudnnSetTensor4dDescriptor(desc, CUDNN_TENSOR_NCHW, cudnn_type(dtype, op),
                                                   cudnn_size(n, op), cudnn_size(c, op), cudnn_size(h, op),
                                                   cudnn_size(w, op)));
  }
  // A contiguous NCHW tensor.
  TensorDescriptor(const Tensor& t, const char* op)
      : TensorDescriptor(t.dtype(), t.size(0), t.size(1), size_of_nchw(t, 2, op), size_of_nchw(t, 3, op), op) {}
  // A contiguous [N, C, ...] tensor with every dim after C folded into one:
  // [N, C, S, 1], which is what per-channel statistics need.
  static std::int64_t size_of_nchw(const Tensor& t, int dim, const char* op) {
    FLUXION_CHECK(t.dim() == 4, op, ": expected an NCHW tensor, got shape ", to_string(t.shape()));
    return t.size(dim);
  }
  static TensorDescriptor folded(const Tensor& t, const char* op) {
    const std::int64_t n = t.size(0), c = t.size(1);
    const std::int64_t s = n * c == 0 ? 0 : t.numel() / (n * c);
    return TensorDescriptor(t.dtype(), n, c, s, 1, op);
  }
};

struct FilterDescriptor
    : CudnnHandle<cudnnFilterDescriptor_t, cudnnCreateFilterDescriptor, cudnnDestroyFilterDescriptor> {
  FilterDescriptor(const Tensor& w, const char* op) {
    FLUXION_CUDNN_CHECK(cudnnSetFilter4dDescriptor(desc, cudnn_type(w.dtype(), op), CUDNN_TENSOR_NCHW,
                                                   cudnn_size(w.size(0), op), cudnn_size(w.size(1), op),
                                                   cudnn_size(w.size(2), op), cudnn_size(w.size(3), op)));
  }
};

}  // namespace fluxion::cuda
