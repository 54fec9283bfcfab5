// Gradient clipping (optim/clip.h) against torch.nn.utils.clip_grad_norm_
// and clip_grad_value_ on the float64 gradient sets of
// tests/fixtures/clip.json (written by scripts/make_clip_fixtures.py in the
// comparison environment): the returned norm and every clipped element to
// 1e-12.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <fstream>

#include <nlohmann/json.hpp>

#include "fixture_file.h"
#include "autograd/ops.h"
#include "core/factory.h"
#include "optim/clip.h"


using namespace fluxion;
using json = nlohmann::json;

namespace {

constexpr double kTolerance = 1e-12;

const json& clip_fixtures() {
  static const json data = test::fixture_json("clip.json", ".venv-compare/bin/python scripts/make_clip_fixtures.py");
  return data;
}

// A case's float64 parameters (zeros) with its gradients; a null gradient
// leaves the parameter without one.
std::vector<Tensor> params_of(const json& c) {
  std::vector<Tensor> params;
  for (std::size_t i = 0; i < c.at("shapes").size(); ++i) {
    const Shape shape = c.at("shapes")[i].get<std::vector<std::int64_t>>();
    Tensor p = zeros(shape, TensorOptions().dtype(kFloat64)).requires_grad_();
    if (!c.at("grads")[i].is_null()) p.set_grad(from_vector<double>(c.at("grads")[i].get<std::vector<double>>(), shape));
    params.push_back(p);
  }
  return params;
}

// The largest |difference| between the parameters' gradients and `expected`
// (a null entry: the gradient must stay undefined).
double deviation(const std::vector<Tensor>& params, const json& expected) {
  double worst = 0;
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (expected[i].is_null()) {
      CHECK_FALSE(params[i].grad().defined());
      continue;
    }
    const std::vector<double> got = params[i].grad().to_vector<double>();
    const std::vector<double> want = expected[i].get<std::vector<double>>();
    REQUIRE(got.size() == want.size());
    for (std::size_t k = 0; k < got.size(); ++k) worst = std::max(worst, std::abs(got[k] - want[k]));
  }
  return worst;
}

}  // namespace

TEST_CASE("clip: grad_norm and clip_grad_norm_ match torch.nn.utils.clip_grad_norm_") {
  const json& cases = clip_fixtures().at("cases");
  REQUIRE(cases.size() >= 5);
  double worst_norm = 0, worst_grad = 0;
  bool some_clipped = false, some_unchanged = false;
  for (const json& c : cases) {
    CAPTURE(c.at("name").get<std::string>());
    std::vector<Tensor> params = params_of(c);
    const double expected = c.at("total_norm").get<double>();
    CHECK(std::abs(optim::grad_norm(params) - expected) <= kTolerance);
    const double returned = optim::clip_grad_norm_(params, c.at("max_norm").get<double>());
    worst_norm = std::max(worst_norm, std::abs(returned - expected));
    const double d = deviation(params, c.at("clipped_by_norm"));
    worst_grad = std::max(worst_grad, d);
    CHECK(d <= kTolerance);
    (c.at("clipped_by_norm") == c.at("grads") ? some_unchanged : some_clipped) = true;
  }
  CHECK(worst_norm <= kTolerance);
  // The cases span both sides of the maximum.
  CHECK(some_clipped);
  CHECK(some_unchanged);
  MESSAGE("clip_grad_norm_ against torch " << clip_fixtures().at("torch_version").get<std::string>()
                                           << ": max |norm difference| " << worst_norm
                                           << ", max |gradient difference| " << worst_grad);
}

TEST_CASE("clip: clip_grad_value_ matches torch.nn.utils.clip_grad_value_") {
  double worst = 0;
  for (const json& c : clip_fixtures().at("cases")) {
    CAPTURE(c.at("name").get<std::string>());
    std::vector<Tensor> params = params_of(c);
    optim::clip_grad_value_(params, c.at("clip_value").get<double>());
    const double d = deviation(params, c.at("clipped_by_value"));
    worst = std::max(worst, d);
    CHECK(d <= kTolerance);
  }
  MESSAGE("clip_grad_value_: max |gradient difference| " << worst);
}

TEST_CASE("clip: the norm of no gradients is 0, and a clipped set has the maximum norm") {
  std::vector<Tensor> none = {zeros({3}, TensorOptions().dtype(kFloat64)).requires_grad_()};
  CHECK(optim::grad_norm(none) == 0.0);
  CHECK(optim::grad_norm({}) == 0.0);
  // After clipping, the norm is max_norm scaled by norm / (norm + 1e-6).
  const json& c = clip_fixtures().at("cases")[0];
  std::vector<Tensor> params = params_of(c);
  const double before = optim::clip_grad_norm_(params, 1.0);
  REQUIRE(before > 1.0);
  CHECK(optim::grad_norm(params) == doctest::Approx(before / (before + 1e-6)).epsilon(1e-12));
  // float32 gradients (as in training) give the float64 norm to float32 rounding.
  std::vector<Tensor> single;
  for (const Tensor& p : params_of(c)) {
    Tensor q = zeros(p.shape()).requires_grad_();
    if (p.grad().defined()) q.set_grad(to_dtype(p.grad(), kFloat32));
    single.push_back(q);
  }
  CHECK(optim::grad_norm(single) == doctest::Approx(c.at("total_norm").get<double>()).epsilon(1e-6));
}
