//! @file
//! Every differentiable op, declared once. Each op computes its forward through
//! the dispatch table (core/backend.h) and records its backward beside it, in
//! the file named in each group's heading. Shapes broadcast as in NumPy and
//! PyTorch wherever two tensors meet; mismatches throw fluxion::Error naming
//! the op and both shapes. Operands of one op share dtype and device.
#pragma once

#include <cstdint>
#include <vector>

#include "autograd/node.h"
#include "core/factory.h"
#include "core/grad_mode.h"
#include "core/random.h"
#include "core/tensor.h"
#include "core/window.h"

namespace fluxion {

// --- arithmetic (autograd/ops/arithmetic.cpp) -------------------------------
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor neg(const Tensor& a);
Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a);
/// A scalar operand becomes a 0-d tensor of the other operand's dtype.
Tensor operator+(const Tensor& a, double b);
Tensor operator-(const Tensor& a, double b);
Tensor operator*(const Tensor& a, double b);
Tensor operator/(const Tensor& a, double b);
Tensor operator+(double a, const Tensor& b);
Tensor operator-(double a, const Tensor& b);
Tensor operator*(double a, const Tensor& b);
Tensor operator/(double a, const Tensor& b);

// --- comparisons, not differentiable: 1 where true, 0 where false, in the
// operands' dtype (autograd/ops/arithmetic.cpp) -------------------------------
Tensor eq(const Tensor& a, const Tensor& b);
Tensor ne(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, const Tensor& b);
Tensor maximum(const Tensor& a, const Tensor& b);  ///< elementwise, not differentiable
Tensor minimum(const Tensor& a, const Tensor& b);  ///< elementwise, not differentiable

// --- elementwise math (autograd/ops/unary.cpp) --------------------------------
Tensor exp(const Tensor& a);
Tensor log(const Tensor& a);
Tensor sqrt(const Tensor& a);
Tensor pow(const Tensor& a, double exponent);
Tensor abs(const Tensor& a);  ///< gradient 0 at 0, as in PyTorch
Tensor sign(const Tensor& a);  ///< not differentiable (gradient 0)
/// Limits values to [min, max]; the gradient passes where min <= a <= max.
Tensor clamp(const Tensor& a, double min, double max);

// --- activations (autograd/ops/activation.cpp) -----------------------------------
Tensor relu(const Tensor& a);
/// relu(a + b) (a and b broadcast), the same values and gradients, in one
/// pass each way: what a residual block ends with.
Tensor add_relu(const Tensor& a, const Tensor& b);
Tensor sigmoid(const Tensor& a);
Tensor tanh(const Tensor& a);

// --- reductions (autograd/ops/reduction.cpp) -------------------------------------
Tensor sum(const Tensor& a);  ///< all elements, 0-d result
Tensor sum(const Tensor& a, const std::vector<std::int64_t>& dims, bool keepdim = false);
Tensor mean(const Tensor& a);
Tensor mean(const Tensor& a, const std::vector<std::int64_t>& dims, bool keepdim = false);
struct MaxResult {
  Tensor values;   ///< differentiable: the gradient goes to the (first) maximal element
  Tensor indices;  ///< int64 argmax
};
MaxResult max(const Tensor& a, std::int64_t dim, bool keepdim = false);
Tensor max(const Tensor& a);  ///< largest element, 0-d
Tensor argmax(const Tensor& a, std::int64_t dim, bool keepdim = false);
/// Sums `a` down to `shape` (the inverse of broadcasting): used by every
/// broadcasting op's backward.
Tensor sum_to(const Tensor& a, const Shape& shape);

// --- linear algebra (autograd/ops/matmul.cpp) ------------------------------------
/// torch.matmul semantics: 1-D operands are vectors, leading dims broadcast.
Tensor matmul(const Tensor& a, const Tensor& b);
/// x [..., in] @ weight[out, in]^T + bias[out] (bias may be undefined).
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor());

// --- softmax (autograd/ops/softmax.cpp) ----------------------------------------
Tensor softmax(const Tensor& a, std::int64_t dim);
Tensor log_softmax(const Tensor& a, std::int64_t dim);

// --- losses (autograd/ops/loss.cpp) -------------------------------------------
enum class Reduction { mean, sum, none };
/// logits [N, C], target int64 [N] with values in [0, C). With label_smoothing
/// e, the target distribution is (1 - e) one-hot + e / C uniform (PyTorch's).
Tensor cross_entropy(const Tensor& logits, const Tensor& target, Reduction reduction = Reduction::mean,
                     double label_smoothing = 0.0);
/// (input - target)^2, reduced; input and target have the same shape.
Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::mean);

// --- views and copies (autograd/ops/view.cpp); see the Tensor methods -------------
Tensor view(const Tensor& a, const Shape& shape);
Tensor reshape(const Tensor& a, const Shape& shape);
Tensor permute(const Tensor& a, const std::vector<std::int64_t>& dims);
Tensor transpose(const Tensor& a, std::int64_t dim0, std::int64_t dim1);
Tensor slice(const Tensor& a, std::int64_t dim, std::int64_t start, std::int64_t end, std::int64_t step = 1);
Tensor unsqueeze(const Tensor& a, std::int64_t dim);
Tensor squeeze(const Tensor& a, std::int64_t dim);
Tensor expand(const Tensor& a, const Shape& shape);
Tensor contiguous(const Tensor& a);
Tensor clone(const Tensor& a);
Tensor to_dtype(const Tensor& a, DType dtype);
Tensor to_device(const Tensor& a, Device device);

// --- joining (autograd/ops/join.cpp) ---------------------------------------------
Tensor cat(const TensorList& tensors, std::int64_t dim = 0);
Tensor stack(const TensorList& tensors, std::int64_t dim = 0);

// --- indexing (autograd/ops/index.cpp) ---------------------------------------------
/// Entries of `a` at int64 `index` (1-D) along dim.
Tensor index_select(const Tensor& a, std::int64_t dim, const Tensor& index);
/// out[i][j] = a[i][index[i][j]] for dim 1 (PyTorch's gather); index is int64
/// with a's rank.
Tensor gather(const Tensor& a, std::int64_t dim, const Tensor& index);
/// cond != 0 ? a : b, elementwise; all three broadcast. cond is any dtype and
/// gets no gradient.
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);

// --- convolution (autograd/ops/conv.cpp) ---------------------------------------------
/// x [N, C, H, W] convolved with weight [O, C / groups, kH, kW], plus bias [O]
/// (may be undefined): PyTorch's conv2d (a cross-correlation), out
/// [N, O, Ho, Wo] with Ho = (H + 2 pad - dilation (kH - 1) - 1) / stride + 1.
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(), Conv2dParams params = {});

// --- pooling (autograd/ops/pool.cpp) -------------------------------------------------
Tensor max_pool2d(const Tensor& x, Pool2dParams params);
Tensor avg_pool2d(const Tensor& x, Pool2dParams params);
/// Average over windows that give an out_h x out_w output; 1x1 (global
/// average pooling) and sizes that divide the input are supported.
Tensor adaptive_avg_pool2d(const Tensor& x, std::int64_t out_h, std::int64_t out_w);

// --- normalisation (autograd/ops/batch_norm.cpp) -----------------------------------------
/// x [N, C] or [N, C, ...] normalised per channel. Training: with the batch's
/// mean and biased variance; running_mean/var (if defined) move towards the
/// batch's mean and unbiased variance by `momentum`, in place. Evaluation:
/// with running_mean/var. weight and bias [C] may be undefined.
Tensor batch_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& running_mean,
                  const Tensor& running_var, bool training, double momentum = 0.1, double eps = 1e-5);
/// relu(batch_norm(...)), the same values and gradients, with the ReLU done
/// inside batchnorm's training kernels on the CPU (a pass over x fewer each
/// way); the CUDA backend runs it as separate passes.
Tensor batch_norm_relu(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& running_mean,
                       const Tensor& running_var, bool training, double momentum = 0.1, double eps = 1e-5);

// --- dropout (autograd/ops/dropout.cpp) ----------------------------------------------
/// In training, zeroes elements with probability p and scales the rest by
/// 1 / (1 - p); the identity otherwise. Random bits from `generator`, else the
/// default generator.
Tensor dropout(const Tensor& x, double p, bool training, Generator* generator = nullptr);

}  // namespace fluxion
