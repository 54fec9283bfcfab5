// The autograd engine: accumulation, graph lifetime, retain_graph, grad mode,
// detach, deep graphs and gradient storage.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

#include "helpers.h"

using namespace fluxion;
using test::values;

namespace {
Tensor leaf(const std::vector<double>& v) {
  return tensor(v, {static_cast<std::int64_t>(v.size())}, TensorOptions(kFloat64).requires_grad(true));
}
}  // namespace

TEST_CASE("autograd: y = x * x gives gradient 2x, and a second backward() adds to it") {
  Tensor x = leaf({1.0, -2.0, 3.0});
  CHECK(x.is_leaf());
  CHECK_FALSE(x.grad().defined());
  (x * x).sum().backward();
  CHECK(values(x.grad()) == std::vector<double>{2, -4, 6});
  // A fresh graph: gradients accumulate (+=), they are not replaced.
  (x * x).sum().backward();
  CHECK(values(x.grad()) == std::vector<double>{4, -8, 12});
  (x * 3.0).sum().backward();
  CHECK(values(x.grad()) == std::vector<double>{7, -5, 15});
  // set_grad(undefined) clears, so the next backward starts from zero.
  x.set_grad(Tensor());
  CHECK_FALSE(x.grad().defined());
  (x * 3.0).sum().backward();
  CHECK(values(x.grad()) == std::vector<double>{3, 3, 3});
  CHECK_THROWS_AS(x.set_grad(zeros({2}, kFloat64)), Error);
  CHECK(x.grad().dtype() == kFloat64);
  CHECK_FALSE(x.grad().requires_grad());
}

TEST_CASE("autograd: backward twice through a freed graph throws unless retain_graph is set") {
  Tensor x = leaf({1.0, 2.0});
  Tensor y = (x * x).sum();
  y.backward();
  CHECK(values(x.grad()) == std::vector<double>{2, 4});
  CHECK_THROWS_WITH_AS(y.backward(), doctest::Contains("retain_graph"), Error);
  CHECK(values(x.grad()) == std::vector<double>{2, 4});  // unchanged by the failed call

  Tensor x2 = leaf({1.0, 2.0});
  Tensor y2 = (x2.exp() * x2).sum();
  y2.backward(Tensor(), /*retain_graph=*/true);
  const std::vector<double> once = values(x2.grad());
  for (std::size_t i = 0; i < 2; ++i) {
    const double v = i + 1.0;
    CHECK(once[i] == doctest::Approx(std::exp(v) * (v + 1)).epsilon(1e-14));
  }
  y2.backward(Tensor(), true);
  y2.backward();  // the last one frees the graph
  const std::vector<double> thrice = values(x2.grad());
  for (std::size_t i = 0; i < 2; ++i) CHECK(thrice[i] == doctest::Approx(3 * once[i]).epsilon(1e-14));
  CHECK_THROWS_AS(y2.backward(), Error);
  // Two outputs sharing a graph: the first backward frees the shared part.
  Tensor x3 = leaf({2.0});
  Tensor h = x3 * x3;
  Tensor a = h * 3.0, b = h * 5.0;
  a.sum().backward();
  CHECK_THROWS_WITH_AS(b.sum().backward(), doctest::Contains("retain_graph"), Error);
}

TEST_CASE("autograd: backward() on a non-scalar needs a gradient of the same shape and dtype") {
  Tensor x = leaf({1.0, 2.0, 3.0});
  Tensor y = x * 2.0;
  CHECK_THROWS_WITH_AS(y.backward(), doctest::Contains("one-element"), Error);
  CHECK_THROWS_WITH_AS(y.backward(ones({2}, kFloat64)), doctest::Contains("shape"), Error);
  CHECK_THROWS_WITH_AS(y.backward(ones({3}, kFloat32)), doctest::Contains("dtype"), Error);
  // A one-element non-scalar is fine without a gradient.
  Tensor one = (x.sum() * 1.0).reshape({1, 1});
  one.backward();
  CHECK(values(x.grad()) == std::vector<double>{1, 1, 1});
  // A tensor that does not require grad cannot be backpropagated.
  CHECK_THROWS_WITH_AS(ones({1}, kFloat64).backward(), doctest::Contains("does not require grad"), Error);
}

TEST_CASE("autograd: backward with an explicit gradient") {
  Tensor x = leaf({1.0, 2.0, 3.0});
  Tensor w = tensor({4.0, 5.0, 6.0}, kFloat64);
  Tensor y = x * w;
  Tensor g = tensor({1.0, 0.5, -2.0}, kFloat64);
  y.backward(g);
  CHECK(values(x.grad()) == std::vector<double>{4.0, 2.5, -12.0});
  CHECK_FALSE(w.grad().defined());  // w does not require grad
  // The leaf's grad does not alias the gradient passed in.
  g.fill_(100.0);
  CHECK(values(x.grad()) == std::vector<double>{4.0, 2.5, -12.0});
  // backward() on a leaf accumulates the gradient itself.
  Tensor z = leaf({1.0, 1.0});
  Tensor gz = tensor({3.0, -1.0}, kFloat64);
  z.backward(gz);
  CHECK(values(z.grad()) == std::vector<double>{3.0, -1.0});
  gz.fill_(0.0);
  CHECK(values(z.grad()) == std::vector<double>{3.0, -1.0});
}

TEST_CASE("autograd: NoGradGuard stops recording and restores the mode") {
  Tensor x = leaf({1.0, 2.0});
  REQUIRE(is_grad_enabled());
  {
    NoGradGuard no_grad;
    CHECK_FALSE(is_grad_enabled());
    Tensor y = x * 2.0;
    CHECK_FALSE(y.requires_grad());
    CHECK(y.grad_fn() == nullptr);
    CHECK(y.is_leaf());
    CHECK(values(y) == std::vector<double>{2, 4});
    CHECK_FALSE(matmul(x, x).requires_grad());
    CHECK_FALSE(x.reshape({2, 1}).requires_grad());
    {
      NoGradGuard nested;
      CHECK_FALSE(is_grad_enabled());
    }
    CHECK_FALSE(is_grad_enabled());  // the nested guard restored "off"
  }
  CHECK(is_grad_enabled());
  Tensor y = x * 2.0;
  CHECK(y.requires_grad());
  CHECK(y.grad_fn() != nullptr);
  CHECK(y.grad_fn()->name == "mul");
  CHECK_FALSE(y.is_leaf());

  // The guard restores even when an exception leaves the scope.
  try {
    NoGradGuard no_grad;
    throw std::runtime_error("leave");
  } catch (const std::runtime_error&) {
  }
  CHECK(is_grad_enabled());

  // set_grad_enabled, and the mode is per thread.
  set_grad_enabled(false);
  CHECK_FALSE((x * 2.0).requires_grad());
  bool other_thread = false;
  std::thread t([&] { other_thread = is_grad_enabled(); });
  t.join();
  CHECK(other_thread);
  set_grad_enabled(true);
  CHECK((x * 2.0).requires_grad());
}

TEST_CASE("autograd: detach() cuts the graph but shares the data") {
  Tensor x = leaf({1.0, 2.0, 3.0});
  Tensor h = x * 2.0;
  Tensor d = h.detach();
  CHECK_FALSE(d.requires_grad());
  CHECK(d.grad_fn() == nullptr);
  CHECK(d.is_leaf());
  CHECK(d.storage() == h.storage());
  CHECK(values(d) == std::vector<double>{2, 4, 6});
  CHECK_FALSE((d * 3.0).requires_grad());
  // No gradient flows through the detached factor: d(x * x.detach())/dx = x.
  (x * x.detach()).sum().backward();
  CHECK(values(x.grad()) == std::vector<double>{1, 2, 3});
  // A detached tensor can become a new leaf.
  Tensor nl = h.detach().requires_grad_();
  CHECK(nl.requires_grad());
  (nl * nl).sum().backward();
  CHECK(values(nl.grad()) == std::vector<double>{4, 8, 12});
  CHECK(values(x.grad()) == std::vector<double>{1, 2, 3});  // x untouched
}

TEST_CASE("autograd: requires_grad_ rules") {
  Tensor i = tensor({1, 2}, kInt64);
  CHECK_THROWS_WITH_AS(i.requires_grad_(), doctest::Contains("floating"), Error);
  CHECK_FALSE(i.requires_grad());
  CHECK_NOTHROW(i.requires_grad_(false));
  Tensor x = leaf({1.0});
  Tensor y = x * 2.0;
  CHECK_THROWS_WITH_AS(y.requires_grad_(), doctest::Contains("leaf"), Error);
  Tensor f = ones({2});
  f.requires_grad_();
  CHECK(f.requires_grad());
  f.requires_grad_(false);
  CHECK_FALSE(f.requires_grad());
  CHECK_FALSE((f * 2.0).requires_grad());
}

TEST_CASE("autograd: a 10,000-op chain backpropagates without recursion") {
  constexpr int n = 10000;
  {
    Tensor x0 = leaf({1.0});
    Tensor x = x0;
    for (int i = 0; i < n; ++i) x = x * 1.0001;
    x.sum().backward();
    // d/dx0 of x0 * 1.0001^n
    CHECK(x0.grad().item() == doctest::Approx(std::pow(1.0001, n)).epsilon(1e-12));
    CHECK(x.item() == doctest::Approx(std::pow(1.0001, n)).epsilon(1e-12));
  }
  {
    Tensor x0 = leaf({0.5, -0.5});
    Tensor x = x0;
    for (int i = 0; i < n; ++i) x = x + 1.0;
    CHECK(values(x) == std::vector<double>{n + 0.5, n - 0.5});
    (x * x).sum().backward();
    CHECK(values(x0.grad()) == std::vector<double>{2 * (n + 0.5), 2 * (n - 0.5)});
  }
}

TEST_CASE("autograd: dropping a 100,000-op chain without backward does not recurse") {
  std::weak_ptr<Node> first;
  std::weak_ptr<TensorImpl> first_output;
  {
    Tensor x0 = leaf({1.0});
    Tensor x = x0 * 1.0;
    first = x.grad_fn();
    first_output = x.impl_ptr();
    for (int i = 0; i < 100000; ++i) x = x * 1.0;  // mul saves its inputs: every step keeps the previous alive
    CHECK_FALSE(first.expired());
    CHECK_FALSE(first_output.expired());
  }
  CHECK(first.expired());
  CHECK(first_output.expired());
}

TEST_CASE("autograd: backward frees the graph and what it saved") {
  Generator gen(41);
  Tensor x = randn({3}, TensorOptions(kFloat64).requires_grad(true), &gen);
  std::weak_ptr<TensorImpl> saved;
  std::weak_ptr<Node> node;
  Tensor loss;
  {
    Tensor h = x * 2.0;  // an intermediate, saved by the mul below
    Tensor y = h.exp();
    loss = (y * h).sum();
    saved = h.impl_ptr();
    node = h.grad_fn();
  }
  CHECK_FALSE(saved.expired());  // only the graph holds it now
  CHECK_FALSE(node.expired());
  loss.backward();
  CHECK(saved.expired());
  CHECK(node.expired());
  // d/dx sum(exp(2x) * 2x) = exp(2x) * (4x + 2)
  const std::vector<double> xv = values(x), gv = values(x.grad());
  for (std::size_t i = 0; i < 3; ++i)
    CHECK(gv[i] == doctest::Approx(std::exp(2 * xv[i]) * (4 * xv[i] + 2)).epsilon(1e-14));
  // loss keeps its (released) grad_fn; dropping it frees the rest.
  loss = Tensor();

  // Without backward, dropping the output frees the graph too.
  std::weak_ptr<TensorImpl> saved2;
  {
    Tensor h = x * 3.0;
    Tensor out = (h * h).sum();
    saved2 = h.impl_ptr();
    h = Tensor();
    CHECK_FALSE(saved2.expired());
  }
  CHECK(saved2.expired());
  // The leaf is never kept alive by a graph that is gone.
  std::weak_ptr<TensorImpl> leaf_impl;
  {
    Tensor l = leaf({1.0});
    leaf_impl = l.impl_ptr();
    Tensor out = (l * 2.0).sum();
    l = Tensor();
    CHECK_FALSE(leaf_impl.expired());  // the graph needs it for accumulation
  }
  CHECK(leaf_impl.expired());
}

TEST_CASE("autograd: diamond graphs sum the gradients of every path") {
  Tensor x = leaf({0.5, -1.0});
  Tensor y = x.exp();
  Tensor z = (y * 2.0 + y * y).sum();  // two paths from y, and y from x
  z.backward();
  const std::vector<double> xv = values(x), gv = values(x.grad());
  for (std::size_t i = 0; i < 2; ++i) {
    const double e = std::exp(xv[i]);
    CHECK(gv[i] == doctest::Approx((2 + 2 * e) * e).epsilon(1e-14));
  }
  // The same leaf reached through several ops of different depth.
  Tensor a = leaf({2.0});
  Tensor b = a * 3.0;
  Tensor c = (b * a + a + b.exp() * 0.0 + (a * a * a)).sum();  // 3a^2 + a + a^3
  c.backward();
  CHECK(a.grad().item() == doctest::Approx(6 * 2.0 + 1 + 3 * 4.0).epsilon(1e-14));
}

TEST_CASE("autograd: broadcast operands get gradients of their own shape") {
  Tensor x = tensor({1.0, 2.0, 3.0}, {3, 1}, TensorOptions(kFloat64).requires_grad(true));
  Tensor y = tensor({1.0, 10.0, 100.0, 1000.0}, {4}, TensorOptions(kFloat64).requires_grad(true));
  (x * y).sum().backward();
  CHECK(x.grad().shape() == Shape{3, 1});
  CHECK(values(x.grad()) == std::vector<double>(3, 1111.0));
  CHECK(y.grad().shape() == Shape{4});
  CHECK(values(y.grad()) == std::vector<double>(4, 6.0));
}

TEST_CASE("autograd: gradients of different leaves never share storage") {
  Tensor x = leaf({1.0, 2.0});
  Tensor y = leaf({3.0, 4.0});
  Tensor z = x + y;  // add's backward hands the same tensor to both inputs
  z.sum().backward();
  REQUIRE(x.grad().defined());
  REQUIRE(y.grad().defined());
  CHECK(x.grad().storage() != y.grad().storage());
  {
    NoGradGuard no_grad;
    x.grad().fill_(-7.0);
  }
  CHECK(values(y.grad()) == std::vector<double>{1, 1});
  // Also with an explicit gradient, and accumulation afterwards.
  Tensor a = leaf({1.0, 2.0}), b = leaf({3.0, 4.0});
  Tensor g = tensor({5.0, 6.0}, kFloat64);
  (a + b).backward(g);
  CHECK(a.grad().storage() != b.grad().storage());
  CHECK(a.grad().storage() != g.storage());
  (a * 1.0).sum().backward();
  CHECK(values(a.grad()) == std::vector<double>{6, 7});
  CHECK(values(b.grad()) == std::vector<double>{5, 6});
  CHECK(values(g) == std::vector<double>{5, 6});
  // A leaf used through clone() gets its own copy, too.
  Tensor c = leaf({1.0, 1.0});
  Tensor gc = tensor({2.0, 3.0}, kFloat64);
  c.clone().backward(gc);
  CHECK(c.grad().storage() != gc.storage());
}

TEST_CASE("autograd: a tensor saved for backward and then changed in place makes backward throw") {
  // As PyTorch: "one of the variables needed for gradient computation has
  // been modified by an inplace operation".
  Tensor x = leaf({1.0, 2.0});
  Tensor w = tensor({3.0, 4.0}, kFloat64);
  Tensor y = (x * w).sum();  // mul saves w
  w.fill_(0.0);
  CHECK_THROWS_WITH_AS(y.backward(), doctest::Contains("in-place"), Error);

  // The output saved by exp, changed under NoGradGuard.
  Tensor x2 = leaf({0.5});
  Tensor e = x2.exp();
  Tensor loss = (e * 1.0).sum();
  {
    NoGradGuard no_grad;
    e.mul_(2.0);
  }
  CHECK_THROWS_AS(loss.backward(), Error);

  // An input add does not save may change: backward still works.
  Tensor x3 = leaf({1.0, 2.0});
  Tensor c = tensor({5.0, 6.0}, kFloat64);
  Tensor z = (x3 + c).sum();
  c.fill_(-1.0);
  z.backward();
  CHECK(values(x3.grad()) == std::vector<double>{1, 1});

  // A leaf updated in place after backward (an optimizer step) is fine for
  // the next forward and backward.
  Tensor p = leaf({2.0});
  (p * p).sum().backward();
  {
    NoGradGuard no_grad;
    p.add_(p.grad() * -0.25);  // 2 - 0.25 * 4 = 1
    p.grad().zero_();
  }
  CHECK(p.item() == 1.0);
  (p * p).sum().backward();
  CHECK(p.grad().item() == 2.0);
}

TEST_CASE("autograd: pow's gradient at 0 is finite, as in PyTorch") {
  // d/dx x^0 = 0 everywhere (PyTorch masks the 0 * x^-1 term); d/dx x^2 = 2x.
  Tensor x = zeros({3}, TensorOptions(kFloat64).requires_grad(true));
  pow(x, 0.0).sum().backward();
  CHECK_TENSOR(x.grad(), (std::vector<double>{0, 0, 0}), 0.0);
  Tensor y = tensor({0.0, 1.5}, TensorOptions(kFloat64).requires_grad(true));
  pow(y, 2.0).sum().backward();
  CHECK(values(y.grad()) == std::vector<double>{0.0, 3.0});
  Tensor z = tensor({0.0, 2.0}, TensorOptions(kFloat64).requires_grad(true));
  pow(z, 1.0).sum().backward();
  CHECK(values(z.grad()) == std::vector<double>{1.0, 1.0});
}

TEST_CASE("autograd: to() between float dtypes sends the gradient back in the leaf's dtype") {
  Tensor x = tensor({1.0, 2.0}, TensorOptions(kFloat32).requires_grad(true));
  Tensor y = x.to(kFloat64) * tensor({3.0, 0.5}, kFloat64);
  CHECK(y.dtype() == kFloat64);
  y.sum().backward();
  REQUIRE(x.grad().defined());
  CHECK(x.grad().dtype() == kFloat32);
  CHECK(values(x.grad()) == std::vector<double>{3.0, 0.5});
  // Converting to int64 cuts the graph (integers have no gradient).
  CHECK_FALSE(x.to(kInt64).requires_grad());
}

TEST_CASE("autograd: set_grad checks shape and dtype") {
  Tensor x = leaf({1.0, 2.0});
  x.set_grad(tensor({0.5, 0.5}, kFloat64));
  (x * 2.0).sum().backward();
  CHECK(values(x.grad()) == std::vector<double>{2.5, 2.5});
  CHECK_THROWS_AS(x.set_grad(zeros({3}, kFloat64)), Error);
  // PyTorch: "assigned grad has data of a different type".
  CHECK_THROWS_AS(x.set_grad(zeros({2}, kFloat32)), Error);
}
