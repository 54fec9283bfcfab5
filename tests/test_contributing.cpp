// docs/contributing.md's recipes, followed and kept: if a step of the guide
// stops matching the code, this file stops compiling or passing.
//
// "Add an op": softplus(x) = log(1 + exp(x)), written outside the library as
// a user of Fluxion would, with the guide's steps 2-4 (the forward from
// existing kernels, the backward recorded beside it, a gradcheck). Inside
// Fluxion the only other step is its declaration in autograd/ops.h, which the
// coverage test in test_gradcheck.cpp then holds to a gradcheck case.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "helpers.h"

using namespace fluxion;

namespace {

// Step 2: no new kernel: the forward is a composition of existing ops, run
// with grad mode off so that only softplus itself is recorded. The stable
// form max(x, 0) + log(1 + exp(-|x|)) never overflows exp.
// Step 3: the backward, with ops: d softplus / dx = sigmoid(x). The input is
// captured with save(), so an in-place change before backward is caught.
Tensor softplus(const Tensor& x) {
  Tensor out;
  {
    NoGradGuard no_grad;
    out = relu(x) + log(exp(-abs(x)) + 1.0);
  }
  record(out, "softplus", {x}, [saved = save(x)](const Tensor& g) -> TensorList {
    return {g * sigmoid(saved.get())};
  });
  return out;
}

}  // namespace

TEST_CASE("contributing: the guide's toy op computes softplus, records one node and passes gradcheck") {
  const Tensor x = tensor({-800.0, -2.0, -0.5, 0.0, 0.5, 2.0, 800.0}, kFloat64);
  const std::vector<double> y = softplus(x).to_vector<double>();
  const std::vector<double> xs = x.to_vector<double>();
  for (std::size_t i = 0; i < xs.size(); ++i) {
    const double expected = xs[i] > 30 ? xs[i] : std::log1p(std::exp(xs[i]));
    CHECK(y[i] == doctest::Approx(expected).epsilon(1e-15));
  }

  // Step 4: the gradcheck, on every layout the op table uses.
  for (test::Layout layout : {test::Layout::contiguous, test::Layout::permuted, test::Layout::strided}) {
    CAPTURE(test::layout_name(layout));
    Generator gen(5);
    const Tensor leaf = test::make_leaf({3, 4}, layout, gen);
    const Tensor out = softplus(leaf);
    REQUIRE(out.grad_fn() != nullptr);
    CHECK(out.grad_fn()->name == "softplus");
    const GradcheckResult r = gradcheck([](const TensorList& in) { return softplus(in[0]); }, {leaf});
    CHECK_MESSAGE(r.ok, r.message);
    CHECK(r.max_relative_error < 1e-6);
  }

  // save() at work: changing the input in place before backward is refused.
  Tensor leaf = tensor({0.5, -0.5}, kFloat64).requires_grad_();
  Tensor input = leaf * 1.0;
  Tensor out = softplus(input);
  {
    NoGradGuard no_grad;
    input.add_(tensor({1.0, 1.0}, kFloat64));
  }
  CHECK_THROWS_WITH_AS(sum(out).backward(), doctest::Contains("modified by an in-place operation"), Error);
}
