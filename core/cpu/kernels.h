// The CPU backend's kernels: every entry of the dispatch table, declared from
// its one list (FLUXION_BACKEND_KERNELS in core/backend.h, which documents
// each contract), and the helpers behind them that tests call directly. Each
// is defined in the file of its family: elementwise.cpp, reduce.cpp,
// matmul.cpp, softmax.cpp, index.cpp, conv.cpp, winograd.cpp, batch_norm.cpp,
// pool.cpp; allocation and the copies to and from the CPU in backend.cpp.
#pragma once

#include "core/backend.h"

namespace fluxion::cpu {

const Backend& backend();  // backend.cpp

FLUXION_BACKEND_KERNELS(FLUXION_DECLARE_BACKEND_KERNEL)

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

}  // namespace fluxion::cpu
