// The learning-rate schedules of `fluxion train` (optim/schedule.h,
// optim/plateau.h, train/config.h make_schedule and parse_plateau) against
// PyTorch's own schedulers: tests/fixtures/schedules.json, written by
// scripts/make_schedule_fixtures.py in the comparison environment, holds the
// lr each of SequentialLR(LinearLR, CosineAnnealingLR / MultiStepLR /
// StepLR), OneCycleLR and ReduceLROnPlateau set at every step on a float64
// optimizer, with the Fluxion settings that should reproduce it. Each lr must
// agree to 1e-12 relative; the deviations measured are printed.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "fixture_file.h"
#include "helpers.h"
#include "optim/make_optimizer.h"
#include "optim/plateau.h"
#include "optim/schedule.h"
#include "train/config.h"


using namespace fluxion;
using json = nlohmann::json;

namespace {

constexpr double kRelTol = 1e-12;

const json& fixtures() {
  static const json data =
      test::fixture_json("schedules.json", ".venv-compare/bin/python scripts/make_schedule_fixtures.py");
  return data;
}

// A one-parameter float64 SGD, as the fixture's dummy optimizer.
std::unique_ptr<optim::Optimizer> dummy_optimizer(double lr) {
  Tensor p = zeros({1}, kFloat64).requires_grad_();
  return optim::make_optimizer("sgd", {p}, {{"lr", lr}});
}

// The case's Fluxion settings as a run's configuration.
train::TrainConfig config_of(const json& f) {
  train::TrainConfig c;
  c.optimizer = "sgd";
  c.schedule = f.at("schedule").get<std::string>();
  c.epochs = f.value("epochs", std::int64_t{1});
  c.schedule_per = f.value("schedule_per", std::string("epoch"));
  c.warmup_epochs = f.value("warmup_epochs", std::int64_t{0});
  c.warmup_steps = f.value("warmup_steps", std::int64_t{0});
  c.warmup_start_factor = f.value("warmup_start_factor", 1.0 / 3.0);
  return c;
}

// Largest deviations over the cases, for the report.
struct Deviation {
  double abs = 0, rel = 0;
  void add(double got, double want) {
    const double d = std::abs(got - want);
    abs = std::max(abs, d);
    if (want != 0) rel = std::max(rel, d / std::abs(want));
  }
};

void check_lr(double got, double want, Deviation& deviation) {
  deviation.add(got, want);
  if (want == 0) CHECK(got == 0);
  else CHECK(std::abs(got - want) <= kRelTol * std::abs(want));
}

}  // namespace

TEST_CASE("schedules: warmup, cosine, multistep, step and one-cycle curves equal PyTorch's, per epoch and per batch") {
  const json& data = fixtures();
  MESSAGE("fixtures from torch " << data.at("torch_version").get<std::string>());
  Deviation deviation;
  int cases = 0;
  for (const json& c : data.at("cases")) {
    if (c.at("kind") != "curve") continue;
    const std::string name = c.at("name");
    CAPTURE(name);
    const json& f = c.at("fluxion");
    const train::TrainConfig config = config_of(f);
    train::validate(config);  // a valid run's settings
    auto opt = dummy_optimizer(f.at("lr").get<double>());
    // The trainer's path: LRScheduler over make_schedule, set to each step in turn.
    optim::LRScheduler scheduler(*opt, train::make_schedule(config, f.value("steps_per_epoch", std::int64_t{1})));
    const std::vector<double> want = c.at("lrs").get<std::vector<double>>();
    for (std::size_t t = 0; t < want.size(); ++t) {
      CAPTURE(t);
      check_lr(opt->lr(), want[t], deviation);
      scheduler.step();
    }
    ++cases;
  }
  CHECK(cases == 9);
  MESSAGE("curves: max abs deviation " << deviation.abs << ", max relative " << deviation.rel);
}

TEST_CASE("schedules: reduce-on-plateau equals PyTorch's ReduceLROnPlateau, lr and state, step by step") {
  Deviation deviation;
  int cases = 0;
  for (const json& c : fixtures().at("cases")) {
    if (c.at("kind") != "plateau") continue;
    const std::string name = c.at("name");
    CAPTURE(name);
    const json& f = c.at("fluxion");
    const auto spec = train::parse_plateau(f.at("schedule").get<std::string>());
    REQUIRE(spec.has_value());
    auto opt = dummy_optimizer(f.at("lr").get<double>());
    optim::ReduceLROnPlateau plateau(*opt, spec->options);
    const std::vector<double> metrics = c.at("metrics").get<std::vector<double>>();
    const std::vector<double> want = c.at("lrs").get<std::vector<double>>();
    REQUIRE(want.size() == metrics.size() + 1);
    check_lr(opt->lr(), want[0], deviation);
    for (std::size_t k = 0; k < metrics.size(); ++k) {
      CAPTURE(k);
      plateau.step(metrics[k]);
      check_lr(opt->lr(), want[k + 1], deviation);
      const json& s = c.at("states")[k];
      CHECK(plateau.state().best == s.at("best").get<double>());
      CHECK(plateau.state().num_bad_epochs == s.at("num_bad_epochs").get<std::int64_t>());
      CHECK(plateau.state().cooldown_counter == s.at("cooldown_counter").get<std::int64_t>());
      CHECK(plateau.state().last_epoch == s.at("last_epoch").get<std::int64_t>());
    }
    ++cases;
  }
  CHECK(cases == 6);
  MESSAGE("plateau: max abs deviation " << deviation.abs << ", max relative " << deviation.rel);
}

TEST_CASE("schedules: sequential, one-cycle and plateau refuse what PyTorch refuses") {
  const optim::Schedule s = optim::sequential([](std::int64_t t) { return 10.0 + t; },
                                              [](std::int64_t t) { return 100.0 + t; }, 3);
  CHECK(s(2) == 12.0);
  CHECK(s(3) == 100.0);  // the second counts its own steps from the milestone
  CHECK(s(5) == 102.0);
  // pct_start x total_steps = 1: PyTorch divides 0 by 0.
  CHECK(test::error_message<Error>([] { optim::one_cycle(10, 0.1); }).find("pct_start x total_steps is 1") !=
        std::string::npos);
  CHECK(test::error_message<Error>([] { optim::one_cycle(10)(11); }).find("past total_steps 10") != std::string::npos);
  CHECK(optim::one_cycle(10)(0) == doctest::Approx(1.0 / 25.0));
  auto opt = dummy_optimizer(0.1);
  optim::PlateauOptions factor_one;
  factor_one.factor = 1.0;
  CHECK(test::error_message<Error>([&] { optim::ReduceLROnPlateau(*opt, factor_one); }).find("factor must be in [0, 1)") !=
        std::string::npos);
  optim::PlateauOptions mode;
  mode.mode = "minimum";
  CHECK(test::error_message<Error>([&] { optim::ReduceLROnPlateau(*opt, mode); }).find("mode must be min or max") !=
        std::string::npos);
}

TEST_CASE("schedules: the spec's epochs become batches per step, and the recorded spec keeps the curve") {
  train::TrainConfig c;
  c.optimizer = "sgd";
  c.epochs = 10;
  c.schedule = "multistep:2,5:0.1";
  c.schedule_per = "step";
  const optim::Schedule per_step = train::make_schedule(c, 7);
  CHECK(per_step(13) == 1.0);
  CHECK(per_step(14) == doctest::Approx(0.1));  // epoch 2 = batch 14
  CHECK(per_step(35) == doctest::Approx(0.01));
  c.schedule_per = "epoch";
  CHECK(train::make_schedule(c, 7)(2) == doctest::Approx(0.1));  // per epoch: the batches do not matter

  // A bare cosine spans the epochs after the warmup; recorded with its span.
  c.schedule = "cosine";
  c.warmup_epochs = 3;
  CHECK(train::recorded_schedule(c) == "cosine:7");
  c.warmup_epochs = 0;
  CHECK(train::recorded_schedule(c) == "cosine:10");
  c.schedule = "onecycle";
  CHECK(train::recorded_schedule(c) == "onecycle:0.3:10");
  c.schedule = "onecycle:0.25";
  CHECK(train::recorded_schedule(c) == "onecycle:0.25:10");
  // The recorded cycle, resumed further, would step past PyTorch's total_steps.
  c.schedule = "onecycle:0.25:10";
  c.epochs = 12;
  CHECK(test::error_message<InputError>([&] { train::validate(c); })
            .find("the cycle spans 10 epochs and the run 12") != std::string::npos);
  c.schedule = "plateau:patience=3,metric=test_error,mode=max";
  const auto p = train::parse_plateau(c.schedule);
  REQUIRE(p.has_value());
  CHECK(p->options.patience == 3);
  CHECK(p->options.mode == "max");
  CHECK(p->metric == "test_error");
  CHECK_FALSE(train::parse_plateau("cosine").has_value());
}

TEST_CASE("schedules: AdaBayes refuses a curve or a plateau that would take the lr to 0") {
  train::TrainConfig c;
  c.epochs = 4;
  c.schedule = "cosine:3";
  c.warmup_epochs = 1;  // cosine:3 after 1 warmup epoch ends at epoch 5: fine
  CHECK_NOTHROW(train::validate(c));
  c.warmup_epochs = 0;
  CHECK(test::error_message<InputError>([&] { train::validate(c); }).find("the lr reaches 0 at epoch 4 of 4") !=
        std::string::npos);
  // Per batch, with a warmup in batches: known once the batches per epoch are.
  c.schedule = "cosine:3";
  c.schedule_per = "step";
  c.warmup_steps = 5;
  CHECK_NOTHROW(train::validate(c));
  CHECK(test::error_message<InputError>([&] { train::check_lr_stays_positive(c, 10); })
            .find("the lr reaches 0 at step 36 of 40 (epoch 4)") != std::string::npos);
  CHECK_NOTHROW(train::check_lr_stays_positive(c, 4));  // 5 + 12 steps: past the run's 16
  c = train::TrainConfig();
  c.schedule = "plateau";
  CHECK(test::error_message<InputError>([&] { train::validate(c); }).find("give min_lr=X with X > 0") !=
        std::string::npos);
  c.schedule = "plateau:min_lr=1e-6";
  CHECK_NOTHROW(train::validate(c));
  c.schedule = "onecycle";  // never 0: its end is lr / (25 x 1e4)
  c.epochs = 3;
  CHECK_NOTHROW(train::validate(c));
}
