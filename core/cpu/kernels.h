// The CPU backend's kernels, one declaration per Backend entry (core/backend.h
// documents each contract). Each kernel is defined in the file named beside it.
#pragma once

#include "core/backend.h"

namespace fluxion::cpu {

const Backend& backend();  // backend.cpp

void fill(const Tensor& out, double value);                                                // elementwise.cpp
void copy(const Tensor& src, const Tensor& dst);                                           // elementwise.cpp
void binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out);             // elementwise.cpp
void unary(UnaryOp op, const Tensor& a, const Tensor& out, UnaryParams params);            // elementwise.cpp
void where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out);       // elementwise.cpp
void sum(const Tensor& a, const Tensor& out);                                              // reduce.cpp
void max(const Tensor& a, std::int64_t dim, const Tensor& values, const Tensor& indices);  // reduce.cpp
void matmul(const Tensor& a, const Tensor& b, const Tensor& out);                          // matmul.cpp
void softmax(const Tensor& a, std::int64_t dim, bool log, const Tensor& out);              // softmax.cpp
void gather(const Tensor& src, std::int64_t dim, const Tensor& index, const Tensor& out);  // index.cpp
void scatter_add(const Tensor& dst, std::int64_t dim, const Tensor& index, const Tensor& src);  // index.cpp

void conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& out, Conv2dParams p);  // conv.cpp
void conv2d_backward_input(const Tensor& grad_out, const Tensor& weight, const Tensor& grad_x,
                           Conv2dParams p);                                                          // conv.cpp
void conv2d_backward_weight(const Tensor& grad_out, const Tensor& x, const Tensor& grad_weight,
                            Conv2dParams p);                                                         // conv.cpp
// The two algorithms behind conv2d and its input gradient: im2col + GEMM
// (any conv; the reference) and Winograd F(2x2, 3x3) (3x3, stride 1, groups
// 1, padding <= 2, >= 16 channels in and out, as winograd_applies says).
// conv2d and conv2d_backward_input choose; tests call each directly. Neither
// adds a bias.
void conv2d_im2col(const Tensor& x, const Tensor& weight, const Tensor& out, Conv2dParams p);      // conv.cpp
void conv2d_backward_input_im2col(const Tensor& grad_out, const Tensor& weight, const Tensor& grad_x,
                                  Conv2dParams p);                                                 // conv.cpp
bool winograd_applies(std::int64_t channels, std::int64_t out_channels, const Tensor& weight,
                      Conv2dParams p);                                                             // winograd.cpp
void winograd_conv2d(const Tensor& x, const Tensor& weight, const Tensor& out, Conv2dParams p);    // winograd.cpp
void winograd_conv2d_backward_input(const Tensor& grad_out, const Tensor& weight, const Tensor& grad_x,
                                    Conv2dParams p);                                               // winograd.cpp
void conv2d_backward_weight_im2col(const Tensor& grad_out, const Tensor& x, const Tensor& grad_weight,
                                   Conv2dParams p);                                                // conv.cpp
void winograd_conv2d_backward_weight(const Tensor& grad_out, const Tensor& x, const Tensor& grad_weight,
                                     Conv2dParams p);                                              // winograd.cpp
void batch_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& running_mean,
                const Tensor& running_var, double momentum, double eps, const Tensor& out, const Tensor& mean,
                const Tensor& invstd);                                                               // batch_norm.cpp
void batch_norm_backward(const Tensor& grad_out, const Tensor& x, const Tensor& weight, const Tensor& mean,
                         const Tensor& invstd, const Tensor& grad_x, const Tensor& grad_weight,
                         const Tensor& grad_bias, double eps);                                                   // batch_norm.cpp
void max_pool2d(const Tensor& x, const Tensor& out, const Tensor& indices, Pool2dParams p);           // pool.cpp
void max_pool2d_backward(const Tensor& grad_out, const Tensor& indices, const Tensor& grad_x);        // pool.cpp
void avg_pool2d(const Tensor& x, const Tensor& out, Pool2dParams p);                                 // pool.cpp
void avg_pool2d_backward(const Tensor& grad_out, const Tensor& grad_x, Pool2dParams p);              // pool.cpp

}  // namespace fluxion::cpu
