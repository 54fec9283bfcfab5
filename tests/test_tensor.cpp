// Tensor metadata, views, copies, conversions, printing and in-place ops.
#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "helpers.h"

using namespace fluxion;
using test::values;

namespace {
std::string str(const Tensor& t) {
  std::ostringstream s;
  s << t;
  return s.str();
}
Tensor iota64(std::int64_t n) { return arange(0, static_cast<double>(n), 1, kFloat64); }
}  // namespace

TEST_CASE("tensor: shape, strides, offset, numel and contiguity") {
  Tensor t = arange(0, 24, 1, kFloat32).reshape({2, 3, 4});
  CHECK(t.shape() == Shape{2, 3, 4});
  CHECK(t.strides() == Strides{12, 4, 1});
  CHECK(t.offset() == 0);
  CHECK(t.numel() == 24);
  CHECK(t.dim() == 3);
  CHECK(t.size(-1) == 4);
  CHECK(t.size(1) == 3);
  CHECK(t.stride(0) == 12);
  CHECK(t.stride(-2) == 4);
  CHECK(t.dtype() == kFloat32);
  CHECK(t.is_contiguous());
  CHECK_THROWS_AS(t.size(3), Error);
  CHECK_THROWS_AS(t.stride(-4), Error);

  Tensor s = scalar_tensor(2.0);
  CHECK(s.dim() == 0);
  CHECK(s.numel() == 1);
  CHECK(s.strides().empty());
  CHECK(s.is_contiguous());

  Tensor e = zeros({2, 0, 3});
  CHECK(e.numel() == 0);
  CHECK(e.shape() == Shape{2, 0, 3});

  // A slice at an offset, and a view that is not row-major.
  Tensor row = t.select(0, 1);
  CHECK(row.offset() == 12);
  CHECK(row.is_contiguous());
  Tensor col = t.select(2, 1);
  CHECK(col.offset() == 1);
  CHECK(col.strides() == Strides{12, 4});
  CHECK_FALSE(col.is_contiguous());
  // Size-1 dims do not affect contiguity whatever their stride.
  Tensor one = t.slice(1, 2, 3);
  CHECK(one.shape() == Shape{2, 1, 4});
  CHECK_FALSE(one.is_contiguous());  // dim 0 stride 12 != 4
  Tensor one_row = t.select(0, 0).slice(0, 1, 2);
  CHECK(one_row.shape() == Shape{1, 4});
  CHECK(one_row.is_contiguous());
}

TEST_CASE("tensor: views share storage with their base") {
  Tensor base = zeros({3, 4}, kFloat64);
  Tensor row = base.select(0, 1);
  CHECK(row.storage() == base.storage());
  row.fill_(5.0);
  CHECK(values(base) == std::vector<double>{0, 0, 0, 0, 5, 5, 5, 5, 0, 0, 0, 0});

  // Through a transposed view: column 2 of base.
  Tensor t = base.t();
  CHECK(t.storage() == base.storage());
  t.select(0, 2).fill_(7.0);
  CHECK(values(base) == std::vector<double>{0, 0, 7, 0, 5, 5, 7, 5, 0, 0, 7, 0});

  // Through a stepped slice, and a reshaped view.
  base.view({12}).slice(0, 0, 12, 5).fill_(-1.0);  // flat positions 0, 5, 10
  CHECK(values(base) == std::vector<double>{-1, 0, 7, 0, 5, -1, 7, 5, 0, 0, -1, 0});

  // Writing through the base is visible in an existing view.
  base.fill_(3.0);
  CHECK(values(row) == std::vector<double>{3, 3, 3, 3});
}

TEST_CASE("tensor: view and reshape, including -1 inference") {
  Tensor a = iota64(12);
  Tensor v = a.view({3, -1});
  CHECK(v.shape() == Shape{3, 4});
  CHECK(v.strides() == Strides{4, 1});
  CHECK(v.storage() == a.storage());
  CHECK(a.view({2, -1, 3}).shape() == Shape{2, 2, 3});
  CHECK(a.view({-1}).shape() == Shape{12});
  CHECK(values(v.select(0, 2)) == std::vector<double>{8, 9, 10, 11});

  CHECK_THROWS_WITH_AS(a.view({-1, -1}), doctest::Contains("only one dimension can be -1"), Error);
  CHECK_THROWS_WITH_AS(a.view({5, -1}), doctest::Contains("invalid for a tensor of 12 elements"), Error);
  CHECK_THROWS_AS(a.view({5, 2}), Error);
  CHECK_THROWS_AS(a.reshape({7}), Error);

  // view of a non-contiguous tensor is an error that says so.
  Tensor t = v.t();
  CHECK_THROWS_WITH_AS(t.view({12}), doctest::Contains("view"), Error);
  CHECK_THROWS_WITH_AS(t.view({12}), doctest::Contains("not contiguous"), Error);

  // reshape copies when it must ...
  Tensor r = t.reshape({12});
  CHECK(r.storage() != a.storage());
  CHECK(values(r) == std::vector<double>{0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11});
  CHECK(t.reshape({-1, 2}).shape() == Shape{6, 2});
  // ... and views when it can.
  Tensor r2 = v.reshape({6, 2});
  CHECK(r2.storage() == a.storage());
  CHECK(values(r2) == values(a));
}

TEST_CASE("tensor: transpose and permute change strides, not data") {
  Tensor x = arange(0, 24, 1, kFloat64).reshape({2, 3, 4});
  Tensor tr = x.transpose(0, 2);
  CHECK(tr.shape() == Shape{4, 3, 2});
  CHECK(tr.strides() == Strides{1, 4, 12});
  CHECK(tr.storage() == x.storage());
  CHECK_FALSE(tr.is_contiguous());
  CHECK(x.transpose(-1, -2).shape() == Shape{2, 4, 3});
  CHECK(x.transpose(-1, -2).strides() == Strides{12, 1, 4});

  Tensor p = x.permute({2, 0, 1});
  CHECK(p.shape() == Shape{4, 2, 3});
  CHECK(p.strides() == Strides{1, 12, 4});
  // p[k][i][j] = x[i][j][k] = 12 i + 4 j + k
  std::vector<double> expected;
  for (int k = 0; k < 4; ++k)
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < 3; ++j) expected.push_back(12 * i + 4 * j + k);
  CHECK(values(p) == expected);

  CHECK_THROWS_WITH_AS(x.permute({0, 0, 1}), doctest::Contains("more than once"), Error);
  CHECK_THROWS_AS(x.permute({0, 1}), Error);
  CHECK_THROWS_AS(x.transpose(0, 3), Error);

  Tensor m = iota64(6).reshape({2, 3});
  CHECK(m.t().shape() == Shape{3, 2});
  CHECK(values(m.t()) == std::vector<double>{0, 3, 1, 4, 2, 5});
  CHECK_THROWS_AS(x.t(), Error);
}

TEST_CASE("tensor: slice with negative bounds, clamping and step") {
  Tensor x = iota64(10);
  CHECK(values(x.slice(0, -3, 10)) == std::vector<double>{7, 8, 9});
  CHECK(values(x.slice(0, 2, -2)) == std::vector<double>{2, 3, 4, 5, 6, 7});
  CHECK(values(x.slice(0, -100, 100)).size() == 10);
  CHECK(values(x.slice(0, -4, -1)) == std::vector<double>{6, 7, 8});

  Tensor stepped = x.slice(0, 1, 9, 3);
  CHECK(values(stepped) == std::vector<double>{1, 4, 7});
  CHECK(stepped.strides() == Strides{3});
  CHECK(stepped.offset() == 1);
  CHECK(values(x.slice(0, 0, 10, 4)) == std::vector<double>{0, 4, 8});
  CHECK(values(x.slice(0, -5, 100, 2)) == std::vector<double>{5, 7, 9});

  // Empty results: start >= end, or start past the end.
  CHECK(x.slice(0, 8, 3).numel() == 0);
  CHECK(x.slice(0, 12, 20).numel() == 0);
  CHECK(x.slice(0, 12, 20).shape() == Shape{0});

  CHECK_THROWS_WITH_AS(x.slice(0, 0, 5, 0), doctest::Contains("step"), Error);
  CHECK_THROWS_AS(x.slice(0, 0, 5, -1), Error);
  CHECK_THROWS_AS(x.slice(1, 0, 5), Error);

  Tensor m = iota64(12).reshape({3, 4}).slice(1, 1, 4, 2);
  CHECK(m.shape() == Shape{3, 2});
  CHECK(m.strides() == Strides{4, 2});
  CHECK(m.offset() == 1);
  CHECK(values(m) == std::vector<double>{1, 3, 5, 7, 9, 11});
  // Slicing a slice composes offsets and steps.
  Tensor mm = m.slice(0, 1, 3);
  CHECK(mm.offset() == 5);
  CHECK(values(mm) == std::vector<double>{5, 7, 9, 11});
}

TEST_CASE("tensor: select removes a dim, with negative indices") {
  Tensor m = iota64(12).reshape({3, 4});
  Tensor r = m.select(0, 1);
  CHECK(r.shape() == Shape{4});
  CHECK(values(r) == std::vector<double>{4, 5, 6, 7});
  Tensor c = m.select(1, -1);
  CHECK(c.shape() == Shape{3});
  CHECK(c.strides() == Strides{4});
  CHECK(values(c) == std::vector<double>{3, 7, 11});
  CHECK(m.select(-2, -3).offset() == 0);
  CHECK(m.select(0, 2).select(0, 1).item() == 9.0);
  CHECK_THROWS_WITH_AS(m.select(0, 3), doctest::Contains("out of range"), Error);
  CHECK_THROWS_AS(m.select(1, -5), Error);
  CHECK_THROWS_AS(m.select(2, 0), Error);
}

TEST_CASE("tensor: size(), stride() and select() on a 0-d tensor throw instead of reading out of bounds") {
  // PyTorch: torch.tensor(2.).size(0) raises "dimension specified as 0 but
  // tensor has no dimensions"; select on a 0-d tensor raises as well.
  // Run in a child process: the bug these guard against crashes.
  const int size_status = test::run_isolated([] {
    (void)scalar_tensor(2.0).size(0);
    return 1;
  });
  CHECK_MESSAGE(size_status == 100, "scalar_tensor(2).size(0): " << test::describe_status(size_status));
  const int stride_status = test::run_isolated([] {
    (void)scalar_tensor(2.0).stride(-1);
    return 1;
  });
  CHECK_MESSAGE(stride_status == 100, "scalar_tensor(2).stride(-1): " << test::describe_status(stride_status));
  const int select_status = test::run_isolated([] {
    (void)scalar_tensor(2.0).select(0, 0);
    return 1;
  });
  CHECK_MESSAGE(select_status == 100, "scalar_tensor(2).select(0, 0): " << test::describe_status(select_status));
}

TEST_CASE("tensor: unsqueeze and squeeze") {
  Tensor x = iota64(6).reshape({2, 3});
  CHECK(x.unsqueeze(0).shape() == Shape{1, 2, 3});
  CHECK(x.unsqueeze(1).shape() == Shape{2, 1, 3});
  CHECK(x.unsqueeze(2).shape() == Shape{2, 3, 1});
  CHECK(x.unsqueeze(-1).shape() == Shape{2, 3, 1});
  CHECK(x.unsqueeze(-3).shape() == Shape{1, 2, 3});
  CHECK_THROWS_AS(x.unsqueeze(3), Error);
  CHECK_THROWS_AS(x.unsqueeze(-4), Error);
  CHECK(x.unsqueeze(1).storage() == x.storage());
  CHECK(values(x.unsqueeze(1)) == values(x));
  CHECK(scalar_tensor(1.0).unsqueeze(0).shape() == Shape{1});

  Tensor u = x.unsqueeze(0);
  CHECK(u.squeeze(0).shape() == Shape{2, 3});
  CHECK(x.unsqueeze(-1).squeeze(-1).shape() == Shape{2, 3});
  // A dim whose size is not 1 is left alone, as in PyTorch.
  CHECK(x.squeeze(1).shape() == Shape{2, 3});
  CHECK_THROWS_AS(x.squeeze(2), Error);
  // Squeezing a non-contiguous tensor keeps its strides.
  Tensor t = x.t().unsqueeze(1);
  CHECK(t.shape() == Shape{3, 1, 2});
  CHECK(t.squeeze(1).strides() == Strides{1, 3});
  CHECK(values(t.squeeze(1)) == std::vector<double>{0, 3, 1, 4, 2, 5});
}

TEST_CASE("tensor: expand repeats size-1 dims with stride 0") {
  Tensor c = tensor({1, 2, 3}, kFloat64).reshape({3, 1});
  Tensor e = c.expand({2, 3, 4});
  CHECK(e.shape() == Shape{2, 3, 4});
  CHECK(e.strides() == Strides{0, 1, 0});
  CHECK(e.storage() == c.storage());
  std::vector<double> expected;
  for (int b = 0; b < 2; ++b)
    for (int i = 1; i <= 3; ++i)
      for (int j = 0; j < 4; ++j) expected.push_back(i);
  CHECK(values(e) == expected);
  CHECK_FALSE(e.is_contiguous());

  CHECK(c.expand({-1, 5}).shape() == Shape{3, 5});
  CHECK_THROWS_WITH_AS(c.expand({4, 4}), doctest::Contains("expand"), Error);
  CHECK_THROWS_AS(c.expand({3}), Error);  // fewer dims

  // Writing through the source changes every repeated element.
  c.fill_(9.0);
  CHECK(values(e) == std::vector<double>(24, 9.0));
}

TEST_CASE("tensor: contiguous() copies a transposed tensor into row-major order") {
  Tensor a = iota64(6).reshape({2, 3});
  Tensor t = a.t();
  Tensor c = t.contiguous();
  CHECK(c.is_contiguous());
  CHECK(c.shape() == Shape{3, 2});
  CHECK(c.strides() == Strides{2, 1});
  CHECK(c.storage() != a.storage());
  const double* p = c.data<double>();
  CHECK(std::vector<double>(p, p + 6) == std::vector<double>{0, 3, 1, 4, 2, 5});
  // Already contiguous: no copy.
  CHECK(a.contiguous().storage() == a.storage());
  // A stepped slice with an offset.
  Tensor s = iota64(10).slice(0, 1, 10, 4).contiguous();
  CHECK(s.offset() == 0);
  CHECK(std::vector<double>(s.data<double>(), s.data<double>() + 3) == std::vector<double>{1, 5, 9});
}

TEST_CASE("tensor: flatten") {
  Tensor x = arange(0, 24, 1, kFloat64).reshape({2, 3, 4});
  CHECK(x.flatten().shape() == Shape{24});
  CHECK(x.flatten(1).shape() == Shape{2, 12});
  CHECK(x.flatten(0, 1).shape() == Shape{6, 4});
  CHECK(x.flatten(-2, -1).shape() == Shape{2, 12});
  CHECK(x.flatten(1, 1).shape() == Shape{2, 3, 4});
  CHECK_THROWS_AS(x.flatten(2, 1), Error);
  CHECK(scalar_tensor(3.0).flatten().shape() == Shape{1});
  // A non-contiguous input flattens in its logical (row-major) order.
  CHECK(values(x.transpose(0, 1).flatten(0, 1).select(1, 0)) == std::vector<double>{0, 12, 4, 16, 8, 20});
}

TEST_CASE("tensor: item()") {
  CHECK(scalar_tensor(2.5).item() == 2.5);
  CHECK(tensor({7}, kInt64).item<std::int64_t>() == 7);
  CHECK(zeros({1, 1, 1}).item() == 0.0);
  CHECK(iota64(5).select(0, 3).item() == 3.0);
  CHECK_THROWS_WITH_AS(zeros({2}).item(), doctest::Contains("item"), Error);
  CHECK_THROWS_AS(zeros({0}).item(), Error);
}

TEST_CASE("tensor: to_vector() and to() convert between dtypes") {
  Tensor f = tensor({1.5, -2.25, 3.75}, kFloat32);
  CHECK(f.to_vector<double>() == std::vector<double>{1.5, -2.25, 3.75});
  CHECK(f.to_vector<std::int64_t>() == std::vector<std::int64_t>{1, -2, 3});  // truncation toward zero
  CHECK(tensor({0.1}, kFloat32).to_vector<double>()[0] == static_cast<double>(0.1f));
  CHECK(tensor({1, 2, 3}, kInt64).to_vector<float>() == std::vector<float>{1.f, 2.f, 3.f});
  CHECK(tensor({0.1}, kFloat64).to_vector<float>()[0] == 0.1f);
  // Strided tensors come out in logical order.
  CHECK(iota64(6).reshape({2, 3}).t().to_vector<std::int64_t>() == std::vector<std::int64_t>{0, 3, 1, 4, 2, 5});
  CHECK(zeros({0}).to_vector<double>().empty());

  Tensor d = f.to(kFloat64);
  CHECK(d.dtype() == kFloat64);
  CHECK(values(d) == std::vector<double>{1.5, -2.25, 3.75});
  Tensor i = f.to(kInt64);
  CHECK(i.dtype() == kInt64);
  CHECK(i.to_vector<std::int64_t>() == std::vector<std::int64_t>{1, -2, 3});
  CHECK(f.to(kFloat32).storage() == f.storage());  // same dtype: no copy
  CHECK_THROWS_AS(f.data<double>(), Error);
}

TEST_CASE("tensor: printing") {
  CHECK(str(tensor({1, -2.5, 3, 4}, {2, 2})) ==
        "tensor([[ 1.0000, -2.5000],\n"
        "        [ 3.0000,  4.0000]])");
  CHECK(str(tensor({1, 2, 3}, kFloat64)) == "tensor([1., 2., 3.], dtype=float64)");
  CHECK(str(tensor({0.5, -1.25}, kFloat64)) == "tensor([ 0.5000, -1.2500], dtype=float64)");
  CHECK(str(tensor({1, 2, 3})) == "tensor([1., 2., 3.])");
  // Fluxion's default dtype is float32, so int64 tensors show their dtype.
  CHECK(str(tensor({1, -2, 30}, kInt64)) == "tensor([ 1, -2, 30], dtype=int64)");
  CHECK(str(scalar_tensor(3.5)) == "tensor(3.5000)");
  CHECK(str(scalar_tensor(4, kInt64)) == "tensor(4, dtype=int64)");
  CHECK(str(tensor({1e-5, 1.0})) == "tensor([1.0000e-05, 1.0000e+00])");
  CHECK(str(tensor({1, 2}, TensorOptions().requires_grad(true))) == "tensor([1., 2.], requires_grad=true)");
  CHECK(str(Tensor()) == "tensor(undefined)");
  // 3-D: a blank line between matrices, as in PyTorch.
  CHECK(str(arange(0, 8, 1, kFloat32).reshape({2, 2, 2})) ==
        "tensor([[[0., 1.],\n"
        "         [2., 3.]],\n"
        "\n"
        "        [[4., 5.],\n"
        "         [6., 7.]]])");
  // A transposed view prints its logical values.
  CHECK(str(arange(0, 4, 1, kFloat32).reshape({2, 2}).t()) ==
        "tensor([[0., 2.],\n"
        "        [1., 3.]])");

  // More than 1000 elements: the first and last three entries per dim.
  const std::string big = str(arange(0, 2000, 1, kFloat32));
  CHECK(big == "tensor([   0.,    1.,    2., ..., 1997., 1998., 1999.])");
  CHECK(big.find("...") != std::string::npos);
  CHECK(big.find("1000.") == std::string::npos);
  const std::string big2 = str(arange(0, 2000, 1, kFloat32).reshape({40, 50}));
  CHECK(big2.find("...") != std::string::npos);
  CHECK(big2.find("1950.") != std::string::npos);   // first entry of the last row
  CHECK(big2.find("1000.") == std::string::npos);  // a middle row
  // Exactly 1000 elements are printed in full.
  const std::string full1000 = str(arange(0, 1000, 1, kFloat32));
  CHECK(full1000.find("...") == std::string::npos);
  CHECK(full1000.find("500.") != std::string::npos);
}

TEST_CASE("tensor: printing int64 values beyond 2^53 is exact") {
  const std::int64_t big = (std::int64_t{1} << 60) + 1;
  CHECK(from_vector<std::int64_t>({big}, {1}).item<std::int64_t>() == big);
  CHECK(str(from_vector<std::int64_t>({big, -1}, {2})) == "tensor([1152921504606846977,                  -1], dtype=int64)");
}

TEST_CASE("tensor: in-place copy_, fill_, add_, sub_, mul_, div_") {
  Tensor x = zeros({2, 3}, kFloat64);
  x.fill_(2.0);
  CHECK(values(x) == std::vector<double>(6, 2.0));
  x.add_(tensor({1, 2, 3}, kFloat64));  // broadcast over rows
  CHECK(values(x) == std::vector<double>{3, 4, 5, 3, 4, 5});
  x.mul_(2.0);
  CHECK(values(x) == std::vector<double>{6, 8, 10, 6, 8, 10});
  x.add_(-1.0);
  CHECK(values(x) == std::vector<double>{5, 7, 9, 5, 7, 9});
  x.sub_(tensor({1, 2}, kFloat64).reshape({2, 1}));
  CHECK(values(x) == std::vector<double>{4, 6, 8, 3, 5, 7});
  x.div_(full({2, 3}, 2.0, kFloat64));
  CHECK(values(x) == std::vector<double>{2, 3, 4, 1.5, 2.5, 3.5});
  x.mul_(tensor({1, 0, -1}, kFloat64));
  CHECK(values(x) == std::vector<double>{2, 0, -4, 1.5, 0, -3.5});
  x.zero_();
  CHECK(values(x) == std::vector<double>(6, 0.0));

  // copy_ converts dtype and broadcasts.
  x.copy_(tensor({1.5, 2.5, 3.5, 4.5, 5.5, 6.5}, {2, 3}, kFloat32));
  CHECK(values(x) == std::vector<double>{1.5, 2.5, 3.5, 4.5, 5.5, 6.5});
  x.copy_(tensor({7, 8, 9}, kInt64));
  CHECK(values(x) == std::vector<double>{7, 8, 9, 7, 8, 9});
  CHECK_THROWS_AS(x.copy_(zeros({4})), Error);
  CHECK_THROWS_AS(x.copy_(zeros({3, 3})), Error);

  // Other operand must match dtype and broadcast to the destination.
  CHECK_THROWS_WITH_AS(x.add_(ones({3})), doctest::Contains("dtype"), Error);
  Tensor small = zeros({3}, kFloat64);
  CHECK_THROWS_AS(small.add_(ones({2, 3}, kFloat64)), Error);

  // In place through a non-contiguous view: only the viewed elements change.
  Tensor base = zeros({3, 3}, kFloat64);
  Tensor view = base.t().slice(0, 0, 3, 2);  // columns 0 and 2 of base, as rows
  view.add_(tensor({1, 2, 3}, kFloat64));
  CHECK(values(base) == std::vector<double>{1, 0, 1, 2, 0, 2, 3, 0, 3});
}

TEST_CASE("tensor: an in-place write through an expanded (overlapping) view throws") {
  // PyTorch: "unsupported operation: more than one element of the
  // written-to tensor refers to a single memory location".
  Tensor base = zeros({1}, kFloat64);
  Tensor e = base.expand({3});
  CHECK_THROWS_AS(e.add_(tensor({1, 2, 3}, kFloat64)), Error);
  CHECK_THROWS_AS(e.copy_(tensor({1, 2, 3}, kFloat64)), Error);
  CHECK(values(base) == std::vector<double>{0});
}

TEST_CASE("tensor: in-place ops refuse a tensor that requires grad while grad mode is on") {
  Tensor w = ones({3}, TensorOptions(kFloat64).requires_grad(true));
  Tensor other = full({3}, 2.0, kFloat64);
  REQUIRE(is_grad_enabled());
  CHECK_THROWS_WITH_AS(w.fill_(0.0), doctest::Contains("fill_"), Error);
  CHECK_THROWS_WITH_AS(w.copy_(other), doctest::Contains("copy_"), Error);
  CHECK_THROWS_WITH_AS(w.add_(other), doctest::Contains("add_"), Error);
  CHECK_THROWS_AS(w.sub_(other), Error);
  CHECK_THROWS_WITH_AS(w.mul_(other), doctest::Contains("mul_"), Error);
  CHECK_THROWS_AS(w.div_(other), Error);
  CHECK_THROWS_AS(w.add_(1.0), Error);
  CHECK_THROWS_AS(w.mul_(3.0), Error);
  CHECK_THROWS_WITH_AS(w.zero_(), doctest::Contains("NoGradGuard"), Error);
  CHECK(values(w) == std::vector<double>{1, 1, 1});

  {
    NoGradGuard no_grad;
    w.mul_(other);
    w.add_(1.0);
    CHECK(values(w) == std::vector<double>{3, 3, 3});
    w.copy_(tensor({1, 2, 3}, kFloat64));
    w.fill_(4.0);
  }
  CHECK(values(w) == std::vector<double>{4, 4, 4});
  CHECK(w.requires_grad());
  CHECK(is_grad_enabled());
  // A detached alias is not tracked, so it may be written.
  w.detach().fill_(5.0);
  CHECK(values(w) == std::vector<double>{5, 5, 5});
}

TEST_CASE("tensor: operations on an undefined tensor throw fluxion::Error") {
  Tensor u;
  CHECK_FALSE(u.defined());
  CHECK(u.impl() == nullptr);
  CHECK_THROWS_WITH_AS(u.shape(), doctest::Contains("undefined"), Error);
  CHECK_THROWS_AS(u.numel(), Error);
  CHECK_THROWS_AS(u.dtype(), Error);
  CHECK_THROWS_AS(u.item(), Error);
  CHECK_THROWS_AS(u.requires_grad(), Error);
  CHECK_THROWS_AS(u.sum(), Error);
  CHECK_THROWS_AS(u.reshape({1}), Error);
  CHECK_THROWS_AS(add(u, ones({1})), Error);
  CHECK_THROWS_AS(add(ones({1}), u), Error);
  CHECK_THROWS_AS(u.backward(), Error);
  CHECK_THROWS_AS(u.fill_(1.0), Error);
  Tensor x = ones({2});
  CHECK_THROWS_AS(x.copy_(u), Error);
}
