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
