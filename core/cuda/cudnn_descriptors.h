// Owning wrappers of the cuDNN descriptors the convolution and batchnorm
// kernels build per call (cheap host structs), and cuDNN's data type and
// scaling-factor type for a dtype.
#pragma once

#include "core/cuda/common.h"
#include "core/tensor.h"

namespace fluxion::cuda {

inline cudnnDataType_t cudnn_type(DType dtype, const char* op) {
  if (dtype == kFloat32) return CUDNN_DATA_FLOAT;
  if (dtype == kFloat64) return CUDNN_DATA_DOUBLE;
  throw Error(detail::concat(op, ": expected a floating-point tensor (float32 or float64), got ", dtype));
}

// alpha = 1 and beta = 0 (or 1) in the type cuDNN wants: double for double
// data, float otherwise.
struct Scaling {
  float f_one = 1.0f, f_zero = 0.0f;
  double d_one = 1.0, d_zero = 0.0;
  bool is_double = false;
  explicit Scaling(DType dtype) : is_double(dtype == kFloat64) {}
  const void* one() const { return is_double ? static_cast<const void*>(&d_one) : &f_one; }
  const void* zero() const { return is_double ? static_cast<const void*>(&d_zero) : &f_zero; }
};

struct TensorDescriptor {
  cudnnTensorDescriptor_t desc = nullptr;
  TensorDescriptor(DType dtype, std::int64_t n, std::int64_t c, std::int64_t h, std::int64_t w, const char* op) {
    FLUXION_CUDNN_CHECK(cudnnCreateTensorDescriptor(&desc));
    FLUXION_CUDNN_CHECK(cudnnSetTensor4dDescriptor(desc, CUDNN_TENSOR_NCHW, cudnn_type(dtype, op), int(n), int(c),
                                                   int(h), int(w)));
  }
  // An NCHW tensor; a 3-D [N, C, S] one is read as [N, C, S, 1].
  TensorDescriptor(const Tensor& t, const char* op)
      : TensorDescriptor(t.dtype(), t.size(0), t.size(1), t.dim() > 2 ? t.size(2) : 1, t.dim() > 3 ? t.size(3) : 1,
                         op) {}
  ~TensorDescriptor() { cudnnDestroyTensorDescriptor(desc); }
  TensorDescriptor(const TensorDescriptor&) = delete;
  TensorDescriptor& operator=(const TensorDescriptor&) = delete;
};

struct FilterDescriptor {
  cudnnFilterDescriptor_t desc = nullptr;
  FilterDescriptor(const Tensor& w, const char* op) {
    FLUXION_CUDNN_CHECK(cudnnCreateFilterDescriptor(&desc));
    FLUXION_CUDNN_CHECK(cudnnSetFilter4dDescriptor(desc, cudnn_type(w.dtype(), op), CUDNN_TENSOR_NCHW, int(w.size(0)),
                                                   int(w.size(1)), int(w.size(2)), int(w.size(3))));
  }
  ~FilterDescriptor() { cudnnDestroyFilterDescriptor(desc); }
  FilterDescriptor(const FilterDescriptor&) = delete;
  FilterDescriptor& operator=(const FilterDescriptor&) = delete;
};

}  // namespace fluxion::cuda
