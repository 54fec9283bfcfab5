// Bad input to optimizers is an error, never NaN or a half-applied state:
// each case here was a defect found in review.
#include <doctest/doctest.h>

#include "core/caching_allocator.h"
#include "fluxion.h"

using namespace fluxion;
using namespace fluxion::optim;

namespace {
Tensor param(double value = 1.0) { return full({3}, value, kFloat64).requires_grad_(); }

StateDict stepped_state(Optimizer& opt, Tensor& p) {
  p.set_grad(full({3}, 0.5, kFloat64));
  opt.step();
  return opt.state_dict();
}
}  // namespace

TEST_CASE("optim validation: a learning rate the optimizer cannot use is refused by set_lr and schedules") {
  Tensor w = param();
  AdaBayes opt({w});
  CHECK_THROWS_WITH_AS(opt.set_lr(0.0), doctest::Contains("lr must be > 0"), Error);
  CHECK(opt.lr() == doctest::Approx(1e-3).scale(0));  // unchanged
  // A cosine schedule that reaches 0 stops with an error instead of NaN weights.
  LRScheduler schedule(opt, cosine(2));
  schedule.step();
  CHECK_THROWS_AS(schedule.step(), Error);
  CHECK_THROWS_AS(AdaBound({param()}, AdaBoundOptions(0.0)), Error);
}

TEST_CASE("optim validation: a failed load_state_dict leaves options and state as they were") {
  Tensor w = param();
  Adam opt({w});
  StateDict dict = stepped_state(opt, w);
  dict["param_groups.0.lr"] = scalar_tensor(-5.0, kFloat64);
  CHECK_THROWS_WITH_AS(opt.load_state_dict(dict), doctest::Contains("lr"), Error);
  CHECK(opt.lr() == doctest::Approx(1e-3).scale(0));
  CHECK(opt.state(0).step == 1);

  StateDict zero_initial = opt.state_dict();
  zero_initial["param_groups.0.initial_lr"] = scalar_tensor(0.0, kFloat64);
  CHECK_THROWS_WITH_AS(opt.load_state_dict(zero_initial), doctest::Contains("initial_lr' must be > 0"), Error);
  CHECK(opt.initial_lr(0) == doctest::Approx(1e-3).scale(0));

  StateDict bad_flag = opt.state_dict();
  bad_flag["param_groups.0.amsgrad"] = scalar_tensor(0.3, kFloat64);
  CHECK_THROWS_WITH_AS(opt.load_state_dict(bad_flag), doctest::Contains("expected 0 or 1"), Error);
  CHECK_FALSE(opt.options().amsgrad());
}

TEST_CASE("optim validation: per-parameter state must be complete, known and sane") {
  Tensor w = param();
  Adam opt({w});
  const StateDict good = stepped_state(opt, w);
  StateDict dict = good;
  dict.erase("state.0.exp_avg_sq");
  dict["state.0.bogus"] = zeros({3}, kFloat64);
  dict["state.99999999999999999999999.step"] = scalar_tensor(1, kInt64);
  try {
    opt.load_state_dict(dict, "resume.safetensors");
    FAIL("expected an error");
  } catch (const Error& e) {
    const std::string message = e.what();
    CHECK(message.find("missing keys: 'state.0.exp_avg_sq'") != std::string::npos);
    CHECK(message.find("'state.0.bogus'") != std::string::npos);
    CHECK(message.find("'state.99999999999999999999999.step'") != std::string::npos);
  }
  StateDict negative = good;
  negative["state.0.step"] = scalar_tensor(-7, kInt64);
  CHECK_THROWS_WITH_AS(opt.load_state_dict(negative), doctest::Contains("must be >= 1"), Error);
  StateDict integer_buffer = good;
  integer_buffer["state.0.exp_avg"] = zeros({3}, kInt64);
  CHECK_THROWS_WITH_AS(opt.load_state_dict(integer_buffer), doctest::Contains("floating-point"), Error);
  opt.load_state_dict(good);  // and the good one still loads
}

TEST_CASE("optim validation: enum and flag options must be whole numbers in range") {
  Tensor w = param();
  CHECK_THROWS_WITH_AS(make_optimizer("adabayes", {w}, {{"variance_update", 1.7}}),
                       doctest::Contains("whole number"), Error);
  CHECK_THROWS_WITH_AS(make_optimizer("adabayes", {w}, {{"variance_update", 2}}),
                       doctest::Contains("variance_update"), Error);
  CHECK_THROWS_AS(make_optimizer("adabayes", {w}, {{"variance_update", 1e300}}), Error);
}

TEST_CASE("optim validation: a parameter listed twice, or a non-contiguous one, is refused") {
  Tensor w = param();
  CHECK_THROWS_WITH_AS(SGD(std::vector<SGD::Group>{{{w}, SGDOptions(0.1)}, {{w}, SGDOptions(0.1)}}),
                       doctest::Contains("more than once"), Error);
  CHECK_THROWS_WITH_AS(SGD({w, w}), doctest::Contains("more than once"), Error);
  Tensor transposed = randn({2, 3}).t().detach().requires_grad_();
  CHECK_THROWS_WITH_AS(SGD({transposed}), doctest::Contains("contiguous"), Error);
  // A non-contiguous gradient is fine: it is made contiguous for the update.
  Tensor v = zeros({3, 2}).requires_grad_();
  SGD opt({v}, SGDOptions(1.0));
  v.set_grad(tensor({1, 2, 3, 4, 5, 6}, {2, 3}).t());
  opt.step();
  CHECK(v.to_vector<float>() == std::vector<float>{-1, -4, -2, -5, -3, -6});
}

TEST_CASE("optim validation: posterior_variance is a snapshot, not the live buffer") {
  Tensor w = param();
  AdaBayes opt({w});
  w.set_grad(full({3}, 0.5, kFloat64));
  opt.step();
  Tensor first = opt.posterior_variance(0);
  const double before = first.to_vector<double>()[0];
  opt.step();
  CHECK(first.to_vector<double>()[0] == before);
  CHECK(opt.posterior_variance(0).to_vector<double>()[0] != before);
}

TEST_CASE("optim validation: a scheduler built after a resume starts from the initial lr") {
  Tensor w = param();
  SGD opt({w}, SGDOptions(0.1));
  LRScheduler schedule(opt, multistep({2}, 0.1));
  for (int epoch = 0; epoch < 3; ++epoch) schedule.step();
  CHECK(opt.lr() == doctest::Approx(0.01));
  const StateDict dict = stepped_state(opt, w);

  Tensor w2 = param();
  SGD resumed({w2}, SGDOptions(0.1));
  resumed.load_state_dict(dict);
  LRScheduler resumed_schedule(resumed, multistep({2}, 0.1));
  resumed_schedule.set_last_epoch(3);
  CHECK(resumed.lr() == doctest::Approx(0.01));  // not 0.001
}

TEST_CASE("optim validation: huge allocations fail cleanly") {
  CHECK_THROWS_WITH_AS(zeros({(std::int64_t{1} << 61) - 1}, kFloat64), doctest::Contains("too many elements"), Error);
  CachingAllocator cache([](std::size_t n) { return std::malloc(n); }, std::free, {});
  CHECK_THROWS_AS(cache.allocate(SIZE_MAX - 100), std::bad_alloc);
  // A block above the cap is freed without flushing what is cached.
  CachingAllocator::Options small;
  small.min_cached_bytes = small.granularity = 1024;
  small.max_cached_bytes = 4096;
  CachingAllocator capped([](std::size_t n) { return std::malloc(n); }, std::free, small);
  void* large = capped.allocate(8192);
  capped.deallocate(capped.allocate(2048), 2048);
  capped.deallocate(large, 8192);
  CHECK(capped.stats().cached_bytes == 2048);
}
