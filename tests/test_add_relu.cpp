// add_relu (a residual block's sum and ReLU in one pass each way) against
// the two ops it replaces, relu(a + b): the same bits for the output and both
// gradients, float32 and float64, with broadcasting and sums of exactly 0;
// then that the residual models call it. Its finite-difference checks are in
// test_gradcheck.cpp.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <set>

#include "helpers.h"

using namespace fluxion;
using test::values;

namespace {

struct Run {
  Tensor out, grad_a, grad_b;
};

Run run(bool fused, const Tensor& a0, const Tensor& b0, const Tensor& upstream) {
  Tensor a = a0.detach().requires_grad_(true), b = b0.detach().requires_grad_(true);
  const Tensor out = fused ? add_relu(a, b) : relu(a + b);
  (out * upstream).sum().backward();
  return {out.detach(), a.grad(), b.grad()};
}

}  // namespace

TEST_CASE("add_relu equals relu(a + b) bit for bit, forward and backward") {
  manual_seed(7);
  struct Shapes {
    Shape a, b;
  };
  for (const Shapes& s : {Shapes{{4, 3, 5, 6}, {4, 3, 5, 6}}, Shapes{{4, 3, 5, 6}, {3, 1, 1}}, Shapes{{5}, {2, 5}}})
    for (const DType dtype : {kFloat32, kFloat64}) {
      INFO("shapes ", to_string(s.a), " + ", to_string(s.b), " dtype ", std::string(dtype_name(dtype)));
      const Tensor a = randn(s.a).to(dtype), b = randn(s.b).to(dtype);
      const Tensor upstream = randn(broadcast_shapes(s.a, s.b, "test")).to(dtype);
      const Run fused = run(true, a, b, upstream), apart = run(false, a, b, upstream);
      CHECK(values(fused.out) == values(apart.out));
      CHECK(values(fused.grad_a) == values(apart.grad_a));
      CHECK(values(fused.grad_b) == values(apart.grad_b));
      // The ReLU ran: some outputs are 0, none negative.
      const std::vector<double> out = values(fused.out);
      CHECK(*std::min_element(out.begin(), out.end()) == 0.0);
      CHECK(*std::max_element(out.begin(), out.end()) > 0.0);
    }
}

TEST_CASE("add_relu: a sum of exactly 0 passes no gradient, as relu's; NaN passes through") {
  Tensor a = tensor({1.0, -2.0, 3.0, NAN}, kFloat64).requires_grad_(true);
  const Tensor b = tensor({-1.0, 1.0, 1.0, 0.0}, kFloat64);
  const Tensor out = add_relu(a, b);
  const std::vector<double> y = values(out);
  CHECK(y[0] == 0.0);
  CHECK(y[1] == 0.0);
  CHECK(y[2] == 4.0);
  CHECK(std::isnan(y[3]));
  out.sum().backward();
  const std::vector<double> g = values(a.grad());
  CHECK(g[0] == 0.0);  // the sum is 0: no gradient
  CHECK(g[1] == 0.0);
  CHECK(g[2] == 1.0);
  CHECK(g[3] == 1.0);  // relu_grad passes a NaN output's gradient, as relu does
}

TEST_CASE("the residual models end their blocks with add_relu") {
  manual_seed(8);
  for (const std::string name : {"resnet18", "resnet20"}) {
    INFO(name);
    const Tensor out = nn::make_model(name, 10)->forward(randn({2, 3, 32, 32}));
    std::set<std::string> ops;
    std::vector<std::shared_ptr<Node>> todo{out.grad_fn()};
    while (!todo.empty()) {
      const std::shared_ptr<Node> node = todo.back();
      todo.pop_back();
      if (!node || !ops.insert(node->name + "@" + std::to_string(reinterpret_cast<std::uintptr_t>(node.get()))).second)
        continue;
      for (const Edge& edge : node->inputs) todo.push_back(edge.node);
    }
    const auto count = [&](const std::string& op) {
      return std::count_if(ops.begin(), ops.end(), [&](const std::string& s) { return s.rfind(op + "@", 0) == 0; });
    };
    CHECK(count("add_relu") == (name == "resnet18" ? 8 : 9));  // one per residual block
    CHECK(count("relu") == 0);  // no ReLU left apart (batchnorm's are inside batch_norm_relu)
  }
}
