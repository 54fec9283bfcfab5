// core/profiler.h: exclusive times of nested scopes, only on the thread that
// started recording, and the op scopes a training step opens.
#include <chrono>
#include <thread>

#include "core/profiler.h"
#include "helpers.h"

using namespace fluxion;

namespace {

void busy_for(double seconds) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < until) {
  }
}

const profiler::Entry* find_entry(const std::vector<profiler::Entry>& entries, const std::string& name) {
  for (const auto& e : entries)
    if (e.name == name) return &e;
  return nullptr;
}

}  // namespace

TEST_CASE("profiler: nested scopes record exclusive time, and only while recording") {
  { profiler::Scope ignored("before start"); }
  profiler::start();
  CHECK(profiler::recording());
  {
    profiler::Scope outer("outer");
    busy_for(0.02);
    for (int i = 0; i < 2; ++i) {
      profiler::Scope inner("inner");
      busy_for(0.02);
    }
  }
  std::thread([] {  // another thread's scopes are not this profile's
    CHECK_FALSE(profiler::recording());
    profiler::Scope other("other thread");
  }).join();
  profiler::stop();
  { profiler::Scope ignored("after stop"); }

  const auto entries = profiler::entries();
  REQUIRE(entries.size() == 2);
  const auto* outer = find_entry(entries, "outer");
  const auto* inner = find_entry(entries, "inner");
  REQUIRE(outer);
  REQUIRE(inner);
  CHECK(outer->calls == 1);
  CHECK(inner->calls == 2);
  // inner ran twice as long as outer's own part; outer's time excludes it.
  CHECK(inner->seconds >= 0.04);
  CHECK(outer->seconds >= 0.02);
  CHECK(outer->seconds < inner->seconds);
  CHECK(entries.front().name == "inner");  // most time first

  profiler::start();  // a new start clears the old entries
  CHECK(profiler::entries().empty());
  {
    profiler::Scope open("open");
    CHECK_THROWS_WITH_AS(profiler::start(), doctest::Contains("still open"), Error);
  }
  profiler::stop();
}

TEST_CASE("profiler: a conv step opens the forward, backward-input and backward-weight scopes") {
  manual_seed(3);
  Tensor x = randn({2, 3, 6, 6}).requires_grad_();
  Tensor w = randn({4, 3, 3, 3}).requires_grad_();
  profiler::start();
  Tensor y = relu(conv2d(x, w, Tensor(), Conv2dParams{}));
  sum(y).backward();
  profiler::stop();
  const auto entries = profiler::entries();
  for (const char* name : {"conv2d forward", "conv2d backward-input", "conv2d backward-weight", "relu forward",
                           "relu backward", "conv2d backward", "allocation"}) {
    CAPTURE(name);
    const auto* e = find_entry(entries, name);
    REQUIRE(e);
    CHECK(e->calls >= 1);
  }
}

TEST_CASE("profiler: the GEMM kernels count their multiply-adds, Winograd's reduced count where it runs") {
  manual_seed(4);
  // One pass of a direct conv: every output value sums (c / groups) * k * k products.
  auto direct = [](double n, double c, double o, double ho, double wo, double k, double groups) {
    return n * o * ho * wo * c / groups * k * k;
  };
  // F(2x2, 3x3): 16 products per 2x2 output tile and channel pair, not 36.
  auto winograd = [](double n, double c, double o, double ho, double wo) {
    return 16.0 * n * std::ceil(ho / 2) * std::ceil(wo / 2) * c * o;
  };
  struct Case {
    const char* what;
    std::int64_t c, o, kernel, stride, pad, groups;
    double per_pass;  // of a [2, c, 7, 7] input
  };
  const Case cases[] = {
      {"im2col (3 input channels)", 3, 4, 3, 1, 1, 1, direct(2, 3, 4, 7, 7, 3, 1)},
      {"im2col (stride 2)", 16, 16, 3, 2, 1, 1, direct(2, 16, 16, 4, 4, 3, 1)},
      {"im2col (2 groups)", 16, 16, 3, 1, 1, 2, direct(2, 16, 16, 7, 7, 3, 2)},
      {"1x1 on the input itself", 16, 8, 1, 1, 0, 1, direct(2, 16, 8, 7, 7, 1, 1)},
      {"Winograd (16 channels, 3x3, stride 1)", 16, 16, 3, 1, 1, 1, winograd(2, 16, 16, 7, 7)},
  };
  for (const Case& c : cases) {
    CAPTURE(c.what);
    Tensor x = randn({2, c.c, 7, 7}).requires_grad_();
    Tensor w = randn({c.o, c.c / c.groups, c.kernel, c.kernel}).requires_grad_();
    Conv2dParams p;
    p.stride_h = p.stride_w = c.stride;
    p.pad_h = p.pad_w = c.pad;
    p.groups = c.groups;
    profiler::start();
    sum(conv2d(x, w, Tensor(), p)).backward();
    profiler::stop();
    const auto entries = profiler::entries();
    for (const char* scope : {"conv2d forward", "conv2d backward-input", "conv2d backward-weight"}) {
      CAPTURE(scope);
      const auto* e = find_entry(entries, scope);
      REQUIRE(e);
      CHECK(e->multiply_adds == c.per_pass);
    }
    CHECK(profiler::multiply_adds() == 3 * c.per_pass);
  }

  // A matmul counts m * n * k, in its forward's scope; outside any scope it
  // still counts in the total.
  Tensor a = randn({5, 6}), b = randn({6, 7});
  profiler::start();
  matmul(a, b);
  const auto recorded = profiler::entries();
  const auto* forward = find_entry(recorded, "matmul forward");
  REQUIRE(forward);
  CHECK(forward->multiply_adds == 5 * 6 * 7);
  profiler::add_multiply_adds(11);  // no scope open
  profiler::stop();
  CHECK(profiler::multiply_adds() == 5 * 6 * 7 + 11);
  matmul(a, b);  // not recording: nothing counted
  CHECK(profiler::multiply_adds() == 5 * 6 * 7 + 11);
}
