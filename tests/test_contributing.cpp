// docs/contributing.md's recipes, followed and kept: if a step of the guide
// stops matching the code, this file stops compiling or passing.
//
// "Add an op": softplus(x) = log(1 + exp(x)), written outside the library as
// a user of Fluxion would, with the guide's steps 2-4 (the forward from
// existing kernels, the backward recorded beside it, a gradcheck). Inside
// Fluxion the only other step is its declaration in autograd/ops.h, which the
// coverage test in test_gradcheck.cpp then holds to a gradcheck case.
//
// "Add an optimizer": signSGD (Bernstein et al. 2018, w -= lr sign(g) with
// momentum's sign taken instead when it has one), written as the recipe's
// steps 1-3 say, outside the library: a rule, an options list, a class. Its
// rule is marked runs_on_cpu_only, since the registry (step 4) is the
// library's own; tests/test_optim_registry.cpp holds the registry to steps
// 4-6.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "helpers.h"
#include "optim/fused.h"

using namespace fluxion;

namespace {

// Step 2: no new kernel: the forward is a composition of existing ops, run
// with grad mode off so that only softplus itself is recorded. The stable
// form max(x, 0) + log(1 + exp(-|x|)) never overflows exp.
// Step 3: the backward, with ops: d softplus / dx = sigmoid(x). The input is
// captured with save(), so an in-place change before backward is caught.
// [snippet:softplus]
Tensor softplus(const Tensor& x) {
  Tensor out;
  {
    NoGradGuard no_grad;  // only softplus itself is recorded
    out = relu(x) + log(exp(-abs(x)) + 1.0);
  }
  record(out, "softplus", {x}, [saved = save(x)](const Tensor& g) -> TensorList {
    return {g * sigmoid(saved.get())};  // d softplus / dx = sigmoid(x)
  });
  return out;
}
// [end snippet]

// Step 1: the rule, one element at a time: v = mu v + g; w -= lr sign(v).
struct SignSgdRule {
  double lr, momentum;
  template <class T>
  FLUXION_HOST_DEVICE void operator()(T& w, T& g, T& v) const {
    v = T(momentum) * v + g;
    w -= T(lr) * T((v > T(0)) - (v < T(0)));
  }
};

}  // namespace

// Outside the library the rule has no GPU kernel, and says so; declared
// before the first step() that runs it, at namespace scope.
template <>
inline constexpr bool fluxion::optim::runs_on_cpu_only<SignSgdRule> = true;

namespace {

// Step 2: the options, each declared once with its default and its check.
#define TOY_SIGNSGD_OPTIONS(X)                  \
  X(double, lr, 1e-2, optim::at_least(0.0))    \
  X(double, momentum, 0.0, optim::unit_interval())

struct SignSgdOptions {
  FLUXION_OPTIONS(TOY_SIGNSGD_OPTIONS)

 public:
  SignSgdOptions() = default;
  explicit SignSgdOptions(double lr) : lr_(lr) {}
};

// Step 3: the class: constructors ending in validate_options(), step() over
// for_each_param with the fused pass, and the buffers a stepped parameter has.
class SignSgd : public optim::OptimizerWith<SignSgdOptions> {
 public:
  SignSgd(std::vector<Tensor> params, SignSgdOptions options)
      : OptimizerWith(std::vector<Group>{{std::move(params), options}}) {
    validate_options();
  }
  const char* name() const override { return "SignSGD"; }
  void step() override {
    for_each_param([](Tensor& p, const Tensor& grad, optim::ParamState& s, const SignSgdOptions& o, std::size_t) {
      ++s.step;
      optim::for_each_element("SignSGD", SignSgdRule{o.lr(), o.momentum()}, p, grad,
                              optim::buffer(s, "momentum_buffer", p));
    });
  }

 protected:
  std::vector<std::string> state_buffers(std::size_t) const override { return {"momentum_buffer"}; }
};

}  // namespace

TEST_CASE("contributing: the guide's toy optimizer steps as its equations say, checks its options and resumes") {
  Tensor w = tensor({0.5, -1.0, 2.0, 0.0}).requires_grad_();
  SignSgd opt({w}, SignSgdOptions(0.1).momentum(0.5));
  // Two steps by hand: v1 = g1; v2 = 0.5 v1 + g2; w -= 0.1 sign(v) each step.
  const std::vector<double> g1 = {1.0, -2.0, 0.5, -0.25}, g2 = {-3.0, 0.5, -0.1, 1.0};
  std::vector<double> expected = {0.5, -1.0, 2.0, 0.0}, v(4, 0.0);
  for (const auto& g : {g1, g2}) {
    w.set_grad(tensor(g, {4}));
    opt.step();
    for (std::size_t i = 0; i < 4; ++i) {
      v[i] = 0.5 * v[i] + g[i];
      expected[i] -= 0.1 * ((v[i] > 0) - (v[i] < 0));
    }
  }
  CHECK(test::compare(w, expected, 1e-6).ok);

  // The options list checks what it declares; the state round-trips.
  CHECK_THROWS_WITH_AS(SignSgd({w}, SignSgdOptions(0.1).momentum(1.5)), doctest::Contains("momentum"), Error);
  Tensor w2 = tensor({0.5, -1.0, 2.0, 0.0}).requires_grad_();
  SignSgd resumed({w2}, SignSgdOptions(0.1).momentum(0.5));
  resumed.load_state_dict(opt.state_dict());
  CHECK(resumed.state_dict().at("state.0.momentum_buffer").to_vector<float>() ==
        opt.state_dict().at("state.0.momentum_buffer").to_vector<float>());
}

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
