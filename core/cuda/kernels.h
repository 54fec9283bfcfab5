// The CUDA backend's kernels, one declaration per Backend entry (core/backend.h
// documents each contract), each defined in the file named beside it. Own
// kernels (.cu) for elementwise ops, reductions, softmax, indexing and
// pooling; cuBLAS for matmul; cuDNN for convolution and batch normalisation.
// No CUDA header here: ops and tests include this without the toolkit's.
#pragma once

#include "core/backend.h"

namespace fluxion::cuda {

const Backend& backend();  // backend.cpp

void* allocate(std::size_t nbytes, int device);               // runtime.cpp
void deallocate(void* ptr, std::size_t nbytes, int device) noexcept;  // runtime.cpp

void copy_from_cpu(const Tensor& src, const Tensor& dst);  // transfer.cpp
void copy_to_cpu(const Tensor& src, const Tensor& dst);    // transfer.cpp

void fill(const Tensor& out, double value);                                                // elementwise.cu
void copy(const Tensor& src, const Tensor& dst);                                           // elementwise.cu
void binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out);             // elementwise.cu
void unary(UnaryOp op, const Tensor& a, const Tensor& out, UnaryParams params);            // elementwise.cu
void where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out);       // elementwise.cu
void sum(const Tensor& a, const Tensor& out);                                              // reduce.cu
void max(const Tensor& a, std::int64_t dim, const Tensor& values, const Tensor& indices);  // reduce.cu
void matmul(const Tensor& a, const Tensor& b, const Tensor& out);                          // matmul.cpp
void softmax(const Tensor& a, std::int64_t dim, bool log, const Tensor& out);              // softmax.cu
void gather(const Tensor& src, std::int64_t dim, const Tensor& index, const Tensor& out);  // index.cu
void scatter_add(const Tensor& dst, std::int64_t dim, const Tensor& index, const Tensor& src);  // index.cu

void conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& out, Conv2dParams p);  // conv.cpp
void conv2d_backward_input(const Tensor& grad_out, const Tensor& weight, const Tensor& grad_x,
                           Conv2dParams p);                                                  // conv.cpp
void conv2d_backward_weight(const Tensor& grad_out, const Tensor& x, const Tensor& grad_weight,
                            Conv2dParams p);                                                 // conv.cpp
void batch_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& running_mean,
                const Tensor& running_var, double momentum, double eps, const Tensor& out, const Tensor& mean,
                const Tensor& invstd);                                                       // batch_norm.cpp
void batch_norm_backward(const Tensor& grad_out, const Tensor& x, const Tensor& weight, const Tensor& mean,
                         const Tensor& invstd, const Tensor& grad_x, const Tensor& grad_weight,
                         const Tensor& grad_bias, double eps);                                           // batch_norm.cpp
void max_pool2d(const Tensor& x, const Tensor& out, const Tensor& indices, Pool2dParams p);   // pool.cu
void max_pool2d_backward(const Tensor& grad_out, const Tensor& indices, const Tensor& grad_x);  // pool.cu
void avg_pool2d(const Tensor& x, const Tensor& out, Pool2dParams p);                         // pool.cu
void avg_pool2d_backward(const Tensor& grad_out, const Tensor& grad_x, Pool2dParams p);      // pool.cu

}  // namespace fluxion::cuda
