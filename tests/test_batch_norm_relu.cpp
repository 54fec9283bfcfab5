// batch_norm_relu (the ReLU inside batchnorm's kernels) against the two ops
// it replaces, relu(batch_norm(...)): the same bits for the output, the
// running statistics and every gradient, in training and evaluation, float32
// and float64, with and without affine parameters; outputs that land exactly
// on 0 get relu's gradient there (none). Then BatchNorm::forward_relu, which
// the models call, and the forward trace that must still see batchnorm's
// own output. Evaluation without a gradient, one backend pass
// (channel_affine), against the ops it stands for. The finite-difference
// checks are in test_gradcheck.cpp.
#include <algorithm>

#include "helpers.h"

using namespace fluxion;
using test::values;

namespace {

struct Run {
  Tensor out, running_mean, running_var, grad_x, grad_w, grad_b;
};

// One forward and backward, fused or as two ops, from the same inputs.
Run run(bool fused, bool training, bool affine, DType dtype, const Tensor& x0, const Tensor& upstream) {
  Tensor x = x0.to(dtype).detach().requires_grad_(true);
  const std::int64_t c = x0.size(1);
  Tensor w = affine ? (arange(0, c, 1, TensorOptions(dtype)) * 0.3 + 0.7).requires_grad_(true) : Tensor();
  Tensor b = affine ? (arange(0, c, 1, TensorOptions(dtype)) * -0.2 + 0.1).requires_grad_(true) : Tensor();
  Tensor rm = full({c}, 0.25, TensorOptions(dtype)), rv = full({c}, 1.5, TensorOptions(dtype));
  const Tensor out = fused ? batch_norm_relu(x, w, b, rm, rv, training, 0.1, 1e-5)
                           : relu(batch_norm(x, w, b, rm, rv, training, 0.1, 1e-5));
  (out * upstream.to(dtype)).sum().backward();
  return {out.detach(), rm, rv, x.grad(), affine ? w.grad() : Tensor(), affine ? b.grad() : Tensor()};
}

void check_same(const Tensor& a, const Tensor& b, const std::string& what) {
  INFO(what);
  REQUIRE(a.defined() == b.defined());
  if (a.defined()) CHECK(values(a) == values(b));
}

}  // namespace

TEST_CASE("batch_norm_relu equals relu(batch_norm) bit for bit, forward and backward") {
  manual_seed(3);
  Tensor x = randn({4, 3, 5, 6});
  Tensor upstream = randn({4, 3, 5, 6});
  for (const DType dtype : {kFloat32, kFloat64})
    for (const bool training : {true, false})
      for (const bool affine : {true, false}) {
        INFO("dtype ", std::string(dtype_name(dtype)), " training ", training, " affine ", affine);
        const Run fused = run(true, training, affine, dtype, x, upstream);
        const Run apart = run(false, training, affine, dtype, x, upstream);
        check_same(fused.out, apart.out, "output");
        check_same(fused.running_mean, apart.running_mean, "running_mean");
        check_same(fused.running_var, apart.running_var, "running_var");
        check_same(fused.grad_x, apart.grad_x, "grad x");
        check_same(fused.grad_w, apart.grad_w, "grad weight");
        check_same(fused.grad_b, apart.grad_b, "grad bias");
        // The ReLU really ran: about half the outputs are 0, none negative.
        const std::vector<double> out = values(fused.out);
        const auto zeros = std::count(out.begin(), out.end(), 0.0);
        CHECK(zeros > static_cast<long>(out.size()) / 4);
        CHECK(*std::min_element(out.begin(), out.end()) == 0.0);
      }
}

TEST_CASE("evaluation without a gradient (one channel_affine pass) gives the bits of the recorded ops") {
  // With a gradient wanted, evaluation mode is mul, add and relu ops; without
  // one, the backend's channel_affine. Inputs of rank 2 and 4, and one that
  // is not contiguous; float32 and float64; with and without affine.
  manual_seed(6);
  const Tensor inputs[] = {randn({5, 3}), randn({4, 3, 5, 6}), randn({3, 4, 5, 6})};
  for (const DType dtype : {kFloat32, kFloat64})
    for (const bool affine : {true, false})
      for (const Tensor& input : inputs)
        for (const bool with_relu : {true, false}) {
          // The third input is transposed after the conversion (which copies), so it stays strided.
          const bool strided = &input == &inputs[2];
          const Tensor x0 = strided ? input.to(dtype).transpose(0, 1) : input.to(dtype);
          REQUIRE(x0.is_contiguous() != strided);
          INFO("dtype ", std::string(dtype_name(dtype)), " affine ", affine, " shape ", to_string(x0.shape()),
               " relu ", with_relu);
          const std::int64_t c = x0.size(1);
          const TensorOptions options(dtype);
          const Tensor w = affine ? arange(0, c, 1, options) * 0.3 + 0.7 : Tensor();
          const Tensor b = affine ? arange(0, c, 1, options) * -0.2 + 0.1 : Tensor();
          const Tensor rm = arange(0, c, 1, options) * 0.1 - 0.05, rv = arange(0, c, 1, options) * 0.4 + 0.6;
          const auto normalise = [&](const Tensor& x) {
            return with_relu ? batch_norm_relu(x, w, b, rm, rv, false, 0.1, 1e-5)
                             : batch_norm(x, w, b, rm, rv, false, 0.1, 1e-5);
          };
          const Tensor recorded = normalise(x0.detach().requires_grad_(true));
          REQUIRE(recorded.grad_fn() != nullptr);  // the ops path
          Tensor inferred;
          {
            NoGradGuard no_grad;
            inferred = normalise(x0.detach().requires_grad_(true));
          }
          CHECK(inferred.grad_fn() == nullptr);
          CHECK(values(inferred) == values(recorded.detach()));
          // The same without grad mode off: nothing requires a gradient.
          CHECK(values(normalise(x0)) == values(recorded.detach()));
        }
}

TEST_CASE("batch_norm_relu: weight and bias gradients alone (x needs none) equal the two ops'") {
  // Without grad_x the kernel masks into a row of scratch instead.
  manual_seed(4);
  const Tensor x = randn({3, 2, 4, 5}), upstream = randn({3, 2, 4, 5});
  Tensor grads[2][2];
  for (const bool fused : {true, false}) {
    Tensor w = tensor({0.8, 1.3}).requires_grad_(true), b = tensor({0.1, -0.2}).requires_grad_(true);
    const Tensor out = fused ? batch_norm_relu(x, w, b, Tensor(), Tensor(), true)
                             : relu(batch_norm(x, w, b, Tensor(), Tensor(), true));
    (out * upstream).sum().backward();
    grads[fused][0] = w.grad();
    grads[fused][1] = b.grad();
  }
  CHECK(values(grads[1][0]) == values(grads[0][0]));
  CHECK(values(grads[1][1]) == values(grads[0][1]));
  CHECK(values(grads[1][1])[0] != 0.0);
}

TEST_CASE("batch_norm_relu: an output of exactly 0 passes no gradient, as relu's") {
  // Without affine parameters, a channel of two values {-1, 1} normalises to
  // {-a, a}; with a third value equal to its mean the output there is 0.
  Tensor x = tensor({-1.0, 0.0, 1.0}, kFloat64).reshape({3, 1}).requires_grad_(true);
  Tensor out = batch_norm_relu(x, Tensor(), Tensor(), Tensor(), Tensor(), true);
  CHECK(values(out)[1] == 0.0);
  out.sum().backward();
  Tensor x2 = tensor({-1.0, 0.0, 1.0}, kFloat64).reshape({3, 1}).requires_grad_(true);
  relu(batch_norm(x2, Tensor(), Tensor(), Tensor(), Tensor(), true)).sum().backward();
  CHECK(values(x.grad()) == values(x2.grad()));
  // Only the positive output passes gradient: the result is not all zero.
  CHECK(values(x.grad())[2] != 0.0);
}

TEST_CASE("BatchNorm2d::forward_relu equals relu(forward), and a trace still sees batchnorm's output") {
  manual_seed(5);
  const Tensor x = randn({3, 4, 3, 3});
  nn::BatchNorm2d fused(4), apart(4);
  for (const bool training : {true, false}) {
    INFO("training ", training);
    fused.train(training);
    apart.train(training);
    const Tensor out = fused.forward_relu(x);
    CHECK(values(out) == values(relu(apart.forward(x))));
    // Fused, not quietly the two ops (the training kernel; ops in evaluation).
    REQUIRE(out.grad_fn() != nullptr);
    CHECK(out.grad_fn()->name == (training ? "batch_norm_relu" : "relu"));
    CHECK(values(fused.running_mean) == values(apart.running_mean));
    CHECK(values(fused.running_var) == values(apart.running_var));
    CHECK(values(fused.num_batches_tracked) == values(apart.num_batches_tracked));
  }

  struct Outputs : nn::ForwardObserver {
    std::vector<double> seen;
    void exit(const nn::ForwardCall&, const Tensor& output) override { seen = values(output); }
  } outputs;
  fused.train(true);
  Tensor traced;
  {
    nn::TraceForward trace(fused, outputs);
    traced = fused.forward_relu(x);
  }
  CHECK(*std::min_element(outputs.seen.begin(), outputs.seen.end()) < 0.0);  // before the ReLU
  REQUIRE(traced.grad_fn() != nullptr);
  CHECK(traced.grad_fn()->name == "relu");  // the two ops, apart
  const std::vector<double> after = values(traced);
  CHECK(*std::min_element(after.begin(), after.end()) == 0.0);
}
