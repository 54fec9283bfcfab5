// The op harness, in the manner of ggml's test-backend-ops: one table lists
// every differentiable op (and the Tensor view methods) with input shapes and
// how to make inputs, and each entry is gradient-checked with contiguous,
// permuted and strided (offset, step 2) float64 leaves. Forward values must
// also agree across the three layouts.
//
// Adding an op: add a row to op_table() named after it. The coverage test reads
// autograd/ops.h and fails for a declared op with no case.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "helpers.h"

using namespace fluxion;
using test::Layout;
using test::values;

namespace {

struct OpCase {
  std::string name;
  std::vector<Shape> shapes;                         // one per float64 leaf input
  std::function<Tensor(const TensorList&)> fn;       // the op applied to the leaves
  test::ValueMaker make = test::normal_values;       // input values (away from kinks and poles)
};

// Values in [-1.5, 1.5] at least 0.1 away from the clamp bounds -0.5 and 0.5.
std::vector<double> clamp_values(std::int64_t count, Generator& gen) {
  std::vector<double> v(static_cast<std::size_t>(count));
  for (auto& x : v) {
    x = -1.5 + 3.0 * gen.uniform();
    if (std::fabs(std::fabs(x) - 0.5) < 0.1) x += x > 0 ? 0.25 : -0.25;
  }
  return v;
}

Tensor idx(const std::vector<std::int64_t>& v, const Shape& shape) { return from_vector<std::int64_t>(v, shape); }

const Tensor& targets4() {
  static const Tensor t = idx({1, 0, 4, 2}, {4});
  return t;
}

std::vector<OpCase> op_table() {
  using L = const TensorList&;
  const auto pos = test::positive_values;
  const auto nonzero = test::nonzero_values;
  const auto distinct = test::distinct_values;
  std::vector<OpCase> t;

  // --- arithmetic -----------------------------------------------------------------
  t.push_back({"add", {{3, 4}, {3, 4}}, [](L in) { return add(in[0], in[1]); }});
  t.push_back({"add broadcast [3,1]+[4]", {{3, 1}, {4}}, [](L in) { return add(in[0], in[1]); }});
  t.push_back({"add 0-d operand", {{2, 3}, {}}, [](L in) { return in[0] + in[1]; }});
  t.push_back({"sub", {{3, 4}, {3, 4}}, [](L in) { return sub(in[0], in[1]); }});
  t.push_back({"sub broadcast [3,1]-[4]", {{3, 1}, {4}}, [](L in) { return in[0] - in[1]; }});
  t.push_back({"mul", {{3, 4}, {3, 4}}, [](L in) { return mul(in[0], in[1]); }});
  t.push_back({"mul broadcast [3,1]*[4]", {{3, 1}, {4}}, [](L in) { return in[0] * in[1]; }});
  t.push_back({"mul same tensor twice", {{5}}, [](L in) { return in[0] * in[0]; }});
  t.push_back({"div", {{3, 4}, {3, 4}}, [](L in) { return div(in[0], in[1]); }, nonzero});
  t.push_back({"div broadcast [3,1]/[4]", {{3, 1}, {4}}, [](L in) { return in[0] / in[1]; }, nonzero});
  t.push_back({"div broadcast [4]/[3,1]", {{4}, {3, 1}}, [](L in) { return in[0] / in[1]; }, nonzero});
  t.push_back({"neg", {{3, 4}}, [](L in) { return neg(in[0]); }});
  t.push_back({"operator- (unary)", {{3, 4}}, [](L in) { return -in[0]; }});
  t.push_back({"scalar: x + 2.5", {{3, 4}}, [](L in) { return in[0] + 2.5; }});
  t.push_back({"scalar: 2.5 + x", {{3, 4}}, [](L in) { return 2.5 + in[0]; }});
  t.push_back({"scalar: x - 1.25", {{3, 4}}, [](L in) { return in[0] - 1.25; }});
  t.push_back({"scalar: 1.25 - x", {{3, 4}}, [](L in) { return 1.25 - in[0]; }});
  t.push_back({"scalar: x * -1.5", {{3, 4}}, [](L in) { return in[0] * -1.5; }});
  t.push_back({"scalar: -1.5 * x", {{3, 4}}, [](L in) { return -1.5 * in[0]; }});
  t.push_back({"scalar: x / 2.0", {{3, 4}}, [](L in) { return in[0] / 2.0; }});
  t.push_back({"scalar: 3.0 / x", {{3, 4}}, [](L in) { return 3.0 / in[0]; }, nonzero});

  // --- elementwise math and activations -------------------------------------------------
  t.push_back({"exp", {{3, 4}}, [](L in) { return exp(in[0]); }});
  t.push_back({"log", {{3, 4}}, [](L in) { return log(in[0]); }, pos});
  t.push_back({"sqrt", {{3, 4}}, [](L in) { return sqrt(in[0]); }, pos});
  t.push_back({"pow 2", {{3, 4}}, [](L in) { return pow(in[0], 2.0); }});
  t.push_back({"pow 3", {{3, 4}}, [](L in) { return pow(in[0], 3.0); }});
  t.push_back({"pow 0.5", {{3, 4}}, [](L in) { return pow(in[0], 0.5); }, pos});
  t.push_back({"pow -1.5", {{3, 4}}, [](L in) { return pow(in[0], -1.5); }, pos});
  t.push_back({"abs", {{3, 4}}, [](L in) { return abs(in[0]); }, nonzero});
  t.push_back({"clamp", {{3, 4}}, [](L in) { return clamp(in[0], -0.5, 0.5); }, clamp_values});
  t.push_back({"sign (zero gradient)", {{3, 4}}, [](L in) { return sign(in[0]) * 1.0; }, nonzero});
  t.push_back({"relu", {{3, 4}}, [](L in) { return relu(in[0]); }, nonzero});
  // The second input scaled down keeps every sum at least 0.12 from relu's kink.
  t.push_back({"add_relu", {{3, 4}, {3, 4}}, [](L in) { return add_relu(in[0], in[1] * 0.1); }, nonzero});
  t.push_back({"add_relu broadcast [3,1]+[4]", {{3, 1}, {4}}, [](L in) { return add_relu(in[0], in[1] * 0.1); },
               nonzero});
  t.push_back({"sigmoid", {{3, 4}}, [](L in) { return sigmoid(in[0]); }});
  t.push_back({"tanh", {{3, 4}}, [](L in) { return tanh(in[0]); }});

  // --- reductions ---------------------------------------------------------------------
  t.push_back({"sum all", {{3, 4}}, [](L in) { return sum(in[0]); }});
  t.push_back({"sum dim 1", {{3, 4}}, [](L in) { return sum(in[0], {1}); }});
  t.push_back({"sum dims {0,2} keepdim", {{2, 3, 4}}, [](L in) { return sum(in[0], {0, 2}, true); }});
  t.push_back({"sum dim -1 keepdim", {{2, 3, 4}}, [](L in) { return in[0].sum({-1}, true); }});
  t.push_back({"mean all", {{3, 4}}, [](L in) { return mean(in[0]); }});
  t.push_back({"mean dim 0", {{3, 4}}, [](L in) { return mean(in[0], {0}); }});
  t.push_back({"mean dims {1,2} keepdim", {{2, 3, 4}}, [](L in) { return in[0].mean({1, 2}, true); }});
  t.push_back({"max dim 1", {{3, 5}}, [](L in) { return max(in[0], 1).values; }, distinct});
  t.push_back({"max dim 0 keepdim", {{4, 3}}, [](L in) { return max(in[0], 0, true).values; }, distinct});
  t.push_back({"max dim 1 of 3-D", {{2, 3, 4}}, [](L in) { return max(in[0], 1).values; }, distinct});
  t.push_back({"max all", {{3, 4}}, [](L in) { return max(in[0]); }, distinct});
  t.push_back({"sum_to [2,3,4] -> [3,1]", {{2, 3, 4}}, [](L in) { return sum_to(in[0], {3, 1}); }});
  t.push_back({"sum_to [2,3,4] -> [4]", {{2, 3, 4}}, [](L in) { return sum_to(in[0], {4}); }});

  // --- linear algebra ------------------------------------------------------------------
  t.push_back({"matmul 2-D", {{3, 4}, {4, 5}}, [](L in) { return matmul(in[0], in[1]); }});
  t.push_back({"matmul vector.vector", {{4}, {4}}, [](L in) { return matmul(in[0], in[1]); }});
  t.push_back({"matmul vector.matrix", {{4}, {4, 5}}, [](L in) { return matmul(in[0], in[1]); }});
  t.push_back({"matmul matrix.vector", {{3, 4}, {4}}, [](L in) { return matmul(in[0], in[1]); }});
  t.push_back({"matmul batched", {{2, 3, 4}, {2, 4, 5}}, [](L in) { return matmul(in[0], in[1]); }});
  t.push_back({"matmul broadcast batch", {{2, 1, 3, 4}, {5, 4, 2}}, [](L in) { return matmul(in[0], in[1]); }});
  t.push_back({"matmul matrix.batch", {{3, 4}, {2, 4, 5}}, [](L in) { return matmul(in[0], in[1]); }});
  t.push_back({"matmul vector.batch", {{4}, {2, 4, 3}}, [](L in) { return in[0].matmul(in[1]); }});
  t.push_back({"linear without bias", {{4, 3}, {2, 3}}, [](L in) { return linear(in[0], in[1]); }});
  t.push_back({"linear with bias", {{4, 3}, {2, 3}, {2}}, [](L in) { return linear(in[0], in[1], in[2]); }});
  t.push_back({"linear 3-D input", {{2, 3, 3}, {2, 3}, {2}}, [](L in) { return linear(in[0], in[1], in[2]); }});

  // --- softmax and losses -------------------------------------------------------------------
  t.push_back({"softmax dim 1", {{3, 5}}, [](L in) { return softmax(in[0], 1); }});
  t.push_back({"softmax dim 0", {{3, 5}}, [](L in) { return softmax(in[0], 0); }});
  t.push_back({"softmax dim 1 of 3-D", {{2, 3, 4}}, [](L in) { return softmax(in[0], 1); }});
  t.push_back({"log_softmax dim 0", {{3, 5}}, [](L in) { return log_softmax(in[0], 0); }});
  t.push_back({"log_softmax dim 1", {{3, 5}}, [](L in) { return log_softmax(in[0], 1); }});
  t.push_back({"cross_entropy mean", {{4, 5}}, [](L in) { return cross_entropy(in[0], targets4()); }});
  t.push_back({"cross_entropy sum", {{4, 5}},
               [](L in) { return cross_entropy(in[0], targets4(), Reduction::sum); }});
  t.push_back({"cross_entropy none", {{4, 5}},
               [](L in) { return cross_entropy(in[0], targets4(), Reduction::none); }});
  t.push_back({"cross_entropy label_smoothing 0.1", {{4, 5}},
               [](L in) { return cross_entropy(in[0], targets4(), Reduction::mean, 0.1); }});
  t.push_back({"cross_entropy none label_smoothing 0.1", {{4, 5}},
               [](L in) { return cross_entropy(in[0], targets4(), Reduction::none, 0.1); }});
  t.push_back({"mse_loss mean", {{3, 4}, {3, 4}}, [](L in) { return mse_loss(in[0], in[1]); }});
  t.push_back({"mse_loss sum", {{3, 4}, {3, 4}}, [](L in) { return mse_loss(in[0], in[1], Reduction::sum); }});
  t.push_back({"mse_loss none", {{3, 4}, {3, 4}}, [](L in) { return mse_loss(in[0], in[1], Reduction::none); }});

  // --- views and copies ------------------------------------------------------------------------
  // view needs contiguous memory: on contiguous leaves contiguous() is the
  // identity, so this checks view itself; on the other layouts it checks
  // contiguous() followed by view.
  t.push_back({"view", {{3, 4}}, [](L in) { return in[0].contiguous().view({2, -1}); }});
  t.push_back({"view 3-D", {{2, 3, 4}}, [](L in) { return view(contiguous(in[0]), {4, 6}); }});
  t.push_back({"reshape", {{3, 4}}, [](L in) { return in[0].reshape({2, -1}); }});
  t.push_back({"reshape 3-D", {{2, 3, 4}}, [](L in) { return reshape(in[0], {4, 3, 2}); }});
  t.push_back({"permute", {{2, 3, 4}}, [](L in) { return in[0].permute({2, 0, 1}); }});
  t.push_back({"transpose", {{3, 4}}, [](L in) { return in[0].transpose(0, 1); }});
  t.push_back({"transpose 3-D", {{2, 3, 4}}, [](L in) { return transpose(in[0], 0, -1); }});
  t.push_back({"t", {{3, 4}}, [](L in) { return in[0].t(); }});
  t.push_back({"slice step 2, negative start", {{5, 6}}, [](L in) { return in[0].slice(1, -5, 6, 2); }});
  t.push_back({"slice dim 0", {{5, 6}}, [](L in) { return slice(in[0], 0, 1, 4); }});
  t.push_back({"slice clamped step 3", {{7}}, [](L in) { return in[0].slice(0, -100, 100, 3); }});
  t.push_back({"select", {{3, 4}}, [](L in) { return in[0].select(1, -1); }});
  t.push_back({"select dim 0", {{3, 4}}, [](L in) { return in[0].select(0, 1); }});
  t.push_back({"unsqueeze", {{3, 4}}, [](L in) { return in[0].unsqueeze(1); }});
  t.push_back({"squeeze", {{3, 1, 4}}, [](L in) { return in[0].squeeze(1); }});
  t.push_back({"expand", {{3, 1}}, [](L in) { return in[0].expand({2, 3, 4}); }});
  t.push_back({"flatten", {{2, 3, 4}}, [](L in) { return in[0].flatten(); }});
  t.push_back({"flatten from dim 1", {{2, 3, 4}}, [](L in) { return in[0].flatten(1); }});
  t.push_back({"contiguous", {{3, 4}}, [](L in) { return in[0].contiguous(); }});
  t.push_back({"contiguous of a transpose", {{3, 4}}, [](L in) { return in[0].t().contiguous(); }});
  t.push_back({"clone", {{3, 4}}, [](L in) { return in[0].clone(); }});
  t.push_back({"to(kFloat64) from float64", {{3, 4}}, [](L in) { return in[0].to(kFloat64); }});
  // Views feeding an op that reads them with their strides.
  t.push_back({"exp of a transposed slice", {{4, 6}},
               [](L in) { return exp(in[0].t().slice(0, 1, 6, 2)); }});

  // --- joining and indexing -------------------------------------------------------------------
  t.push_back({"cat dim 0", {{2, 3}, {1, 3}}, [](L in) { return cat({in[0], in[1]}, 0); }});
  t.push_back({"cat dim 1", {{2, 3}, {2, 2}, {2, 1}}, [](L in) { return cat({in[0], in[1], in[2]}, 1); }});
  t.push_back({"cat dim -1", {{2, 3}, {2, 2}}, [](L in) { return cat({in[0], in[1]}, -1); }});
  t.push_back({"cat same tensor twice", {{2, 3}}, [](L in) { return cat({in[0], in[0]}, 0); }});
  t.push_back({"stack dim 0", {{3, 2}, {3, 2}}, [](L in) { return stack({in[0], in[1]}); }});
  t.push_back({"stack dim -1", {{3, 2}, {3, 2}}, [](L in) { return stack({in[0], in[1]}, -1); }});
  t.push_back({"index_select dim 0", {{3, 4}}, [](L in) { return index_select(in[0], 0, idx({2, 0, 2}, {3})); }});
  t.push_back({"index_select dim 1", {{3, 4}}, [](L in) { return index_select(in[0], 1, idx({3, 1, 3}, {3})); }});
  t.push_back({"gather dim 1", {{2, 3}},
               [](L in) { return gather(in[0], 1, idx({2, 0, 2, 1, 1, 0}, {2, 3})); }});
  t.push_back({"gather dim 0", {{3, 2}}, [](L in) { return gather(in[0], 0, idx({2, 0, 2, 2}, {2, 2})); }});
  t.push_back({"where broadcast", {{3, 4}, {4}},
               [](L in) { return where(tensor({1, 0, 1}, {3, 1}, kFloat64), in[0], in[1]); }});
  t.push_back({"where 0-d branch", {{3}, {}},
               [](L in) { return where(tensor({0, 1, 0}, kInt64), in[0], in[1]); }});

  // --- a composite: a two-layer network with a loss --------------------------------------------
  t.push_back({"mlp: linear-tanh-linear-cross_entropy", {{4, 3}, {6, 3}, {6}, {5, 6}, {5}}, [](L in) {
                 return cross_entropy(linear(tanh(linear(in[0], in[1], in[2])), in[3], in[4]), targets4());
               }});

  // --- convolution ------------------------------------------------------------------
  auto conv = [](std::int64_t sh, std::int64_t ph, std::int64_t dh, std::int64_t groups) {
    Conv2dParams p;
    p.stride_h = sh, p.stride_w = 1, p.pad_h = ph, p.pad_w = 1, p.dilation_h = dh, p.dilation_w = 1;
    p.groups = groups;
    return p;
  };
  t.push_back({"conv2d 3x3 pad 1 with bias", {{2, 3, 5, 6}, {4, 3, 3, 3}, {4}},
               [conv](L in) { return conv2d(in[0], in[1], in[2], conv(1, 1, 1, 1)); }});
  t.push_back({"conv2d stride 2 dilation 2 no bias", {{2, 2, 7, 6}, {3, 2, 3, 2}},
               [conv](L in) { return conv2d(in[0], in[1], Tensor(), conv(2, 2, 2, 1)); }});
  t.push_back({"conv2d groups 2", {{1, 4, 4, 5}, {6, 2, 2, 3}, {6}},
               [conv](L in) { return conv2d(in[0], in[1], in[2], conv(1, 0, 1, 2)); }});
  t.push_back({"conv2d 1x1 (input used as the GEMM operand)", {{2, 3, 3, 4}, {5, 3, 1, 1}},
               [](L in) { return conv2d(in[0], in[1]); }});
  // 2x2 outputs: several samples are lowered into one GEMM (the chunked path).
  t.push_back({"conv2d small images, batch lowered in chunks", {{5, 2, 3, 3}, {3, 2, 2, 2}, {3}},
               [](L in) { return conv2d(in[0], in[1], in[2]); }});

  // --- pooling ---------------------------------------------------------------------
  auto pool = [](std::int64_t k, std::int64_t s, std::int64_t pad, bool ceil, bool include_pad) {
    Pool2dParams p;
    p.kernel_h = p.kernel_w = k, p.stride_h = p.stride_w = s, p.pad_h = p.pad_w = pad;
    p.ceil_mode = ceil, p.count_include_pad = include_pad;
    return p;
  };
  t.push_back({"max_pool2d 2x2", {{2, 3, 4, 6}}, [pool](L in) { return max_pool2d(in[0], pool(2, 2, 0, false, true)); },
               distinct});
  t.push_back({"max_pool2d 3x3 stride 2 pad 1 ceil_mode", {{1, 2, 6, 7}},
               [pool](L in) { return max_pool2d(in[0], pool(3, 2, 1, true, true)); }, distinct});
  t.push_back({"avg_pool2d 2x2", {{2, 3, 4, 6}}, [pool](L in) { return avg_pool2d(in[0], pool(2, 2, 0, false, true)); }});
  t.push_back({"avg_pool2d pad 1 count_include_pad", {{1, 2, 5, 5}},
               [pool](L in) { return avg_pool2d(in[0], pool(3, 2, 1, true, true)); }});
  t.push_back({"avg_pool2d pad 1 excluding padding", {{1, 2, 5, 5}},
               [pool](L in) { return avg_pool2d(in[0], pool(3, 2, 1, true, false)); }});
  t.push_back({"adaptive_avg_pool2d 1x1", {{2, 3, 4, 5}}, [](L in) { return adaptive_avg_pool2d(in[0], 1, 1); }});
  t.push_back({"adaptive_avg_pool2d 2x2", {{2, 3, 4, 6}}, [](L in) { return adaptive_avg_pool2d(in[0], 2, 2); }});

  // --- normalisation ------------------------------------------------------------------
  t.push_back({"batch_norm training NCHW", {{3, 2, 2, 3}, {2}, {2}}, [](L in) {
                 Tensor rm = zeros({2}, kFloat64), rv = ones({2}, kFloat64);
                 return batch_norm(in[0], in[1], in[2], rm, rv, true);
               }});
  t.push_back({"batch_norm training [N, C] without affine or running stats", {{5, 3}},
               [](L in) { return batch_norm(in[0], Tensor(), Tensor(), Tensor(), Tensor(), true); }});
  t.push_back({"batch_norm_relu training NCHW", {{3, 2, 2, 3}, {2}, {2}}, [](L in) {
                 Tensor rm = zeros({2}, kFloat64), rv = ones({2}, kFloat64);
                 return batch_norm_relu(in[0], in[1], in[2], rm, rv, true);
               }});
  t.push_back({"batch_norm_relu training [N, C] without affine or running stats", {{5, 3}},
               [](L in) { return batch_norm_relu(in[0], Tensor(), Tensor(), Tensor(), Tensor(), true); }});
  t.push_back({"batch_norm_relu evaluation", {{3, 2, 2, 2}, {2}, {2}}, [](L in) {
                 Tensor rm = tensor({0.3, -0.2}, kFloat64), rv = tensor({0.5, 2.0}, kFloat64);
                 return batch_norm_relu(in[0], in[1], in[2], rm, rv, false);
               }});
  t.push_back({"batch_norm evaluation", {{3, 2, 2, 2}, {2}, {2}}, [](L in) {
                 Tensor rm = tensor({0.3, -0.2}, kFloat64), rv = tensor({0.5, 2.0}, kFloat64);
                 return batch_norm(in[0], in[1], in[2], rm, rv, false);
               }});

  // --- dropout: the same seeded mask on every call ----------------------------------------
  t.push_back({"dropout p 0.4", {{4, 5}}, [](L in) {
                 Generator g(11);
                 return dropout(in[0], 0.4, true, &g);
               }});
  return t;
}

// The ops autograd/ops.h declares, read from the header itself so that a new
// op cannot be left out of the table: the name of every declaration that
// starts a line with `Tensor name(` or `MaxResult name(` (operators have their
// own cases, "scalar:" below).
std::set<std::string> declared(const std::string& header, const std::regex& declaration) {
  std::ifstream in(std::string(FLUXION_SOURCE_DIR) + "/" + header);
  REQUIRE_MESSAGE(in, "cannot read " << header);
  std::set<std::string> names;
  std::smatch m;
  for (std::string line; std::getline(in, line);)
    if (std::regex_search(line, m, declaration)) names.insert(m[1]);
  return names;
}

// Declared ops without a gradcheck case, each with the reason. An entry for an
// op that is no longer declared fails the coverage test, so this stays true.
const std::map<std::string, std::string> kNotGradchecked = {
    {"eq", "a comparison: not differentiable"},
    {"ne", "a comparison: not differentiable"},
    {"lt", "a comparison: not differentiable"},
    {"le", "a comparison: not differentiable"},
    {"gt", "a comparison: not differentiable"},
    {"ge", "a comparison: not differentiable"},
    {"maximum", "not differentiable (elementwise selection)"},
    {"minimum", "not differentiable (elementwise selection)"},
    {"argmax", "an int64 result"},
    {"to_device", "needs a second device: tests/cuda/test_cuda_parity.cpp checks it on a GPU"},
};

// Declared ops whose cases are named otherwise: to_dtype is tested as the
// Tensor method that calls it.
const std::map<std::string, std::string> kCaseNames = {{"to_dtype", "to(kFloat64)"}};

// Tensor methods (core/tensor.h) that are ops of their own rather than a
// call of an op of the same name, which need cases too.
const char* const kTensorMethodOps[] = {"t", "select", "flatten"};

std::string first_word(const std::string& s) { return s.substr(0, s.find(' ')); }

// Leaves for one case, all drawn from a generator seeded per case, so every
// layout sees the same values.
TensorList make_inputs(const OpCase& c, std::size_t case_index, Layout layout) {
  Generator gen(1000 + case_index);
  TensorList inputs;
  for (const Shape& s : c.shapes) inputs.push_back(test::make_leaf(s, layout, gen, c.make));
  return inputs;
}

void check_all_cases(Layout layout) {
  const std::vector<OpCase> table = op_table();
  for (std::size_t k = 0; k < table.size(); ++k) {
    const OpCase& c = table[k];
    const std::string where = c.name + " [" + test::layout_name(layout) + "]";
    CAPTURE(where);
    const TensorList inputs = make_inputs(c, k, layout);
    if (layout != Layout::contiguous) {
      // The point of this pass: leaves with more than one element really are
      // non-contiguous (0-d ones sit at a non-zero offset instead).
      for (const Tensor& x : inputs) {
        if (x.numel() > 1) CHECK_MESSAGE(!x.is_contiguous(), where << ": input is contiguous");
        else CHECK_MESSAGE(x.offset() != 0, where << ": 0-d input at offset 0");
      }
      // Same forward values as with contiguous inputs.
      Tensor expected, actual;
      {
        NoGradGuard no_grad;
        expected = c.fn(make_inputs(c, k, Layout::contiguous));
        actual = c.fn(inputs);
      }
      CHECK_MESSAGE(actual.shape() == expected.shape(), where << ": forward shape differs from contiguous inputs");
      const test::Comparison same = test::compare(actual, values(expected), 1e-13);
      CHECK_MESSAGE(same.ok, where << ": forward differs from contiguous inputs: " << same.message);
    }
    GradcheckResult r;
    try {
      r = gradcheck(c.fn, inputs);
    } catch (const std::exception& e) {
      FAIL_CHECK(where << ": threw " << e.what());
      continue;
    }
    CHECK_MESSAGE(r.ok, where << ": " << r.message);
    CHECK_MESSAGE(r.max_relative_error < 1e-6, where << ": max relative error " << r.max_relative_error);
    // gradcheck reports through grad(): every leaf got a gradient of its shape.
    for (const Tensor& x : inputs)
      if (x.grad().defined()) CHECK_MESSAGE(x.grad().shape() == x.shape(), where << ": gradient shape");
  }
}

// An identity op whose backward multiplies the gradient by `backward_scale`:
// correct for 1, wrong otherwise.
Tensor scaled_identity(const Tensor& x, double backward_scale) {
  Tensor out;
  {
    NoGradGuard no_grad;
    out = x.clone();
  }
  record(out, "scaled_identity", {x},
         [backward_scale](const Tensor& g) -> TensorList { return {g * backward_scale}; });
  return out;
}

}  // namespace

TEST_CASE("gradcheck: the op table covers every differentiable op and view method") {
  const std::vector<OpCase> table = op_table();
  std::set<std::string> names, first_words;
  for (const OpCase& c : table) {
    CHECK_MESSAGE(names.insert(c.name).second, "duplicate case name " << c.name);
    first_words.insert(first_word(c.name));
  }
  const std::set<std::string> ops = declared("autograd/ops.h", std::regex(R"(^(?:Tensor|MaxResult) (\w+)\()"));
  REQUIRE(ops.size() >= 50);  // the header was read and the pattern still finds its declarations
  for (const std::string& op : ops) {
    if (kNotGradchecked.count(op)) continue;
    const auto renamed = kCaseNames.find(op);
    const std::string case_name = renamed == kCaseNames.end() ? op : renamed->second;
    CHECK_MESSAGE(first_words.count(case_name) == 1,
                  "autograd/ops.h declares " << op << " but op_table() has no case named '" << case_name
                                             << "' (or starting with it); add one, or list it in kNotGradchecked "
                                                "with the reason");
  }
  for (const auto& [op, reason] : kNotGradchecked)
    CHECK_MESSAGE(ops.count(op) == 1, "kNotGradchecked lists " << op << ", which autograd/ops.h no longer declares");
  const std::set<std::string> methods = declared("core/tensor.h", std::regex(R"(^\s+Tensor (\w+)\(.*\) const)"));
  for (const char* method : kTensorMethodOps) {
    CHECK_MESSAGE(methods.count(method) == 1, "core/tensor.h no longer declares Tensor::" << method);
    CHECK_MESSAGE(first_words.count(method) == 1, "no gradcheck case for Tensor::" << method);
  }
  CHECK_MESSAGE(first_words.count("scalar:") == 1, "no gradcheck case for the scalar operators");
  CHECK(table.size() >= 90);
}

TEST_CASE("gradcheck: every op with contiguous inputs") { check_all_cases(Layout::contiguous); }

TEST_CASE("gradcheck: every op with permuted (transposed) inputs") { check_all_cases(Layout::permuted); }

TEST_CASE("gradcheck: every op with strided inputs (offset, step 2)") { check_all_cases(Layout::strided); }

TEST_CASE("gradcheck: detects a wrong gradient") {
  for (Layout layout : {Layout::contiguous, Layout::strided}) {
    CAPTURE(test::layout_name(layout));
    Generator gen(77);
    TensorList inputs = {test::make_leaf({3, 4}, layout, gen)};
    GradcheckResult right = gradcheck([](const TensorList& in) { return scaled_identity(in[0], 1.0); }, inputs);
    CHECK_MESSAGE(right.ok, right.message);
    CHECK(right.max_relative_error < 1e-9);

    GradcheckResult wrong = gradcheck([](const TensorList& in) { return scaled_identity(in[0], 2.0); }, inputs);
    CHECK_FALSE(wrong.ok);
    CHECK_FALSE(static_cast<bool>(wrong));
    CHECK(wrong.max_relative_error > 0.5);  // |2g - g| / |g| = 1
    CHECK(wrong.message.find("input 0") != std::string::npos);

    // Small errors are caught too: 1e-5 relative is above rtol = 1e-6.
    GradcheckResult slightly = gradcheck([](const TensorList& in) { return scaled_identity(in[0], 1.0 + 1e-5); }, inputs);
    CHECK_FALSE(slightly.ok);
    CHECK(slightly.max_relative_error > 1e-6);
    CHECK(slightly.max_relative_error < 1e-4);
  }
  // A gradient that is wrong for one input only names that input.
  Generator gen(78);
  TensorList two = {test::make_leaf({3}, Layout::contiguous, gen), test::make_leaf({3}, Layout::contiguous, gen)};
  GradcheckResult r = gradcheck([](const TensorList& in) { return in[0] * scaled_identity(in[1], 3.0); }, two);
  CHECK_FALSE(r.ok);
  CHECK(r.message.find("input 1") != std::string::npos);
}

TEST_CASE("gradcheck: rejects float32 inputs and non-leaf inputs") {
  Tensor f = randn({3}, TensorOptions(kFloat32).requires_grad(true));
  auto fn = [](const TensorList& in) { return in[0] * 2.0; };
  CHECK_THROWS_WITH_AS(gradcheck(fn, {f}), doctest::Contains("float64"), Error);
  Tensor x = randn({3}, TensorOptions(kFloat64).requires_grad(true));
  CHECK_THROWS_WITH_AS(gradcheck(fn, {x * 1.0}), doctest::Contains("leaf"), Error);
  CHECK_THROWS_WITH_AS(gradcheck([](const TensorList& in) { return in[0].to(kFloat32); }, {x}),
                       doctest::Contains("float64"), Error);
  // Inputs that do not require grad are not checked (and need not be leaves).
  Tensor c = randn({3}, kFloat64);
  GradcheckResult r = gradcheck([](const TensorList& in) { return in[0] * in[1]; }, {x, c});
  CHECK(r.ok);
  CHECK_FALSE(c.grad().defined());
}
