// The lr range test (train/lr_find.h): its arithmetic against the
// references of scripts/make_lr_find_fixture.py (torch-lr-finder's lr
// sequence, fastai's smoothing in PyTorch, the steepest-descent rule by
// numpy.gradient), the divergence rule, and sweeps on generated CIFAR-10
// files: the start is train's, divergence stops it, and AdaBayes's held
// option stays held.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "fixture_file.h"
#include "helpers.h"
#include "optim/adabayes.h"
#include "train/lr_find.h"
#include "train/trainer.h"


using namespace fluxion;
using nlohmann::json;

namespace {

const json& fixture() {
  static const json data =
      test::fixture_json("lr_find.json", ".venv-compare/bin/python scripts/make_lr_find_fixture.py");
  return data;
}

double relative_difference(double a, double b) { return std::abs(a - b) / std::max(std::abs(b), 1e-300); }

// A sweep on 80 generated CIFAR-10 images, quiet.
struct Sweep {
  test::TempDir dir;
  train::TrainConfig config;
  train::LrFindOptions options;
  std::ostringstream log;
  Sweep(const std::string& optimizer) {
    test::write_cifar10(dir.path / "cifar", 16);
    config.model = "small_cnn";
    config.dataset = "cifar10";
    config.data_dir = dir.file("cifar");
    config.optimizer = optimizer;
    config.batch_size = 16;
    config.threads = 2;
    config.seed = 5;
    options.log = &log;
  }
  train::LrFindResult run(const train::LrFindHooks& hooks = {}) { return train::lr_find(config, options, hooks); }
};

}  // namespace

TEST_CASE("lr_find: the lr sequence is torch-lr-finder's exponential one") {
  double worst = 0;
  for (const json& c : fixture()["sequence"]) {
    const double start = c["start"], end = c["end"];
    const std::int64_t steps = c["steps"];
    const std::vector<double> lrs = train::lr_sequence(start, end, steps);
    REQUIRE(lrs.size() == c["lrs"].size());
    for (std::size_t i = 0; i < lrs.size(); ++i) {
      // The formula itself, exactly, and Python's evaluation of it.
      CHECK(lrs[i] == start * std::pow(end / start, static_cast<double>(i) / static_cast<double>(steps - 1)));
      worst = std::max(worst, relative_difference(lrs[i], c["lrs"][i]));
    }
    CHECK(lrs.front() == start);
    CHECK(relative_difference(lrs.back(), end) < 1e-15);
  }
  MESSAGE("lr sequence: largest relative difference from the fixture " << worst);
  CHECK(worst < 1e-15);
  CHECK_THROWS(train::lr_sequence(1.0, 1.0, 10));
  CHECK_THROWS(train::lr_sequence(1e-3, 1.0, 1));
}

TEST_CASE("lr_find: the smoothing is fastai's bias-corrected exponential average") {
  double worst = 0;
  for (const json& c : fixture()["smoothing"]) {
    train::LossSmoother smoother(c["beta"]);
    for (std::size_t i = 0; i < c["losses"].size(); ++i)
      worst = std::max(worst, relative_difference(smoother.add(c["losses"][i]), c["smoothed"][i]));
  }
  MESSAGE("smoothing: largest relative difference from fastai's (PyTorch float64) " << worst);
  CHECK(worst < 1e-12);
  // Bias-corrected: a constant stream is its own average from the first value on.
  train::LossSmoother constant(0.98);
  for (int i = 0; i < 5; ++i) CHECK(constant.add(2.5) == doctest::Approx(2.5).epsilon(1e-15));
}

TEST_CASE("lr_find: the steepest-descent and minimum / 10 suggestions on a synthetic curve") {
  const json& c = fixture()["suggestion"];
  train::LrFindResult r;
  train::LossSmoother smoother(c["beta"]);
  for (std::size_t i = 0; i < c["lrs"].size(); ++i) {
    const double loss = c["losses"][i];
    r.points.push_back({static_cast<std::int64_t>(i), c["lrs"][i], loss, smoother.add(loss)});
  }
  for (const json& rule : c["rules"]) {
    train::suggest(r, rule["skip_start"].get<std::int64_t>());
    REQUIRE(r.steepest);
    REQUIRE(r.minimum);
    CHECK(r.minimum->step == rule["minimum_step"].get<std::int64_t>());
    CHECK(relative_difference(r.minimum->lr, rule["minimum_lr"]) < 1e-15);
    CHECK(r.steepest->step == rule["steepest_step"].get<std::int64_t>());
    CHECK(r.steepest->lr == r.points[static_cast<std::size_t>(r.steepest->step)].lr);
    MESSAGE("steepest slope " << r.steepest->slope << ": relative difference from numpy.gradient's "
                              << relative_difference(r.steepest->slope, rule["steepest_slope"]));
    CHECK(relative_difference(r.steepest->slope, rule["steepest_slope"]) < 1e-12);
    // The steepest point lies before the minimum, where the curve falls.
    CHECK(r.steepest->step < r.minimum->step);
    CHECK(r.steepest->slope < 0);
  }

  SUBCASE("a curve that only rises has no steepest descent, and minimum / 10 at its start") {
    train::LrFindResult rising;
    for (int i = 0; i < 5; ++i) rising.points.push_back({i, std::pow(10.0, i - 5), 1.0 + i, 1.0 + i});
    train::suggest(rising);
    CHECK(!rising.steepest);
    REQUIRE(rising.minimum);
    CHECK(rising.minimum->lr == doctest::Approx(1e-6).scale(0));
  }
  SUBCASE("skipped first points count for neither rule") {
    // A steep first drop (noise, in a real sweep), then a gentler descent to a minimum at step 5.
    train::LrFindResult early;
    const std::vector<double> losses = {3.0, 2.0, 1.95, 1.9, 1.7, 1.5, 1.8};
    for (std::size_t i = 0; i < losses.size(); ++i)
      early.points.push_back({static_cast<std::int64_t>(i), std::pow(10.0, static_cast<double>(i) - 6), losses[i],
                              losses[i]});
    train::suggest(early);
    REQUIRE(early.steepest);
    CHECK(early.steepest->step == 0);
    train::suggest(early, 2);
    REQUIRE(early.steepest);
    CHECK(early.steepest->step == 4);  // numpy.gradient of [1.95, 1.9, 1.7, 1.5]: -0.05, -0.125, -0.2, -0.2
    CHECK(early.steepest->slope == doctest::Approx(-0.2));
    REQUIRE(early.minimum);
    CHECK(early.minimum->step == 5);
    train::suggest(early, 7);  // nothing left
    CHECK(!early.steepest);
    CHECK(!early.minimum);
  }
  SUBCASE("points after the first NaN are left out") {
    train::LrFindResult broken;
    broken.points = {{0, 1e-3, 2, 2}, {1, 1e-2, 1, 1}, {2, 1e-1, NAN, NAN}, {3, 1, 0.1, 0.1}};
    train::suggest(broken);
    REQUIRE(broken.minimum);
    CHECK(broken.minimum->step == 1);
    REQUIRE(broken.steepest);
    CHECK(broken.steepest->slope == doctest::Approx(-1.0));
  }
}

TEST_CASE("lr_find: divergence is a smoothed loss above the factor times the best so far") {
  train::DivergenceCheck check(4.0);
  CHECK(!check.diverged(2.0));
  CHECK(!check.diverged(1.0));  // the best is now 1
  CHECK(!check.diverged(4.0));  // not above 4 x 1
  CHECK(check.diverged(4.0001));
}

TEST_CASE("lr_find: a sweep starts from train's initial weights and first batch for the same seed") {
  Sweep sweep("adam");
  sweep.options.steps = 3;
  std::vector<std::vector<float>> swept_start;
  double swept_first_loss = NAN;
  train::LrFindHooks hooks;
  hooks.on_start = [&](nn::Module& model) {
    for (const Tensor& p : model.parameters()) swept_start.push_back(p.to_vector<float>());
  };
  hooks.on_step = [&](const train::LrFindPoint& p, const optim::Optimizer& optimizer) {
    if (p.step == 0) swept_first_loss = p.loss;
    CHECK(optimizer.lr() == p.lr);
  };
  const train::LrFindResult r = sweep.run(hooks);
  CHECK(r.points.size() == 3);
  CHECK(r.stopped == "completed");

  // train: the weights before its first update, and its first batch's loss.
  train::TrainConfig c = sweep.config;
  c.epochs = 1;
  c.out_dir = sweep.dir.file("run");
  std::vector<std::vector<float>> trained_start;
  double trained_first_loss = NAN;
  std::ostringstream sink;
  train::TrainOptions options;
  options.log = &sink;
  options.after_backward = [&](nn::Module& model) {
    if (trained_start.empty())
      for (const Tensor& p : model.parameters()) trained_start.push_back(p.to_vector<float>());
  };
  options.on_step = [&](const train::StepInfo& step) {
    if (step.epoch == 1 && step.batch == 1) trained_first_loss = step.loss;
  };
  train::run_training(c, options);
  REQUIRE(trained_start.size() == swept_start.size());
  for (std::size_t i = 0; i < swept_start.size(); ++i) CHECK(trained_start[i] == swept_start[i]);
  CHECK(trained_first_loss == swept_first_loss);

  SUBCASE("another seed starts elsewhere") {
    Sweep other("adam");
    other.config.seed = 6;
    other.options.steps = 2;
    std::vector<float> first;
    other.run({.on_start = [&](nn::Module& model) { first = model.parameters().front().to_vector<float>(); }});
    CHECK(first != swept_start.front());
  }
}

TEST_CASE("lr_find: a huge end lr diverges, and the sweep stops there") {
  Sweep sweep("sgd");
  sweep.options.start_lr = 1e-3;
  sweep.options.end_lr = 1e6;
  sweep.options.steps = 60;  // 12 epochs of 5 batches: the loader goes round
  const train::LrFindResult r = sweep.run();
  CHECK(r.stopped != "completed");
  CHECK(r.points.size() < 60);
  CHECK(r.points.size() > 5);
  // Every point but the last kept within 4 x the best smoothed loss so far.
  train::DivergenceCheck check(sweep.options.diverge);
  for (std::size_t i = 0; i + 1 < r.points.size(); ++i) CHECK(!check.diverged(r.points[i].smoothed_loss));
  const train::LrFindPoint& last = r.points.back();
  CHECK((!std::isfinite(last.loss) || check.diverged(last.smoothed_loss)));
  CHECK(r.stopped == (std::isfinite(last.loss) ? "diverged" : "nan"));
}

TEST_CASE("lr_find: AdaBayes sweeps lr with sgd_lr held, or sgd_lr with lr held") {
  Sweep sweep("adabayes");
  sweep.options.steps = 4;
  sweep.options.start_lr = 1e-4;
  sweep.options.end_lr = 1e-1;
  sweep.config.optimizer_options = {{"lr", 2e-3}, {"sgd_lr", 0.05}};
  const double batch = static_cast<double>(sweep.config.batch_size);
  std::int64_t seen = 0;
  SUBCASE("--param lr") {
    sweep.config.optimizer_options.erase("lr");
    sweep.run({.on_step = [&](const train::LrFindPoint& p, const optim::Optimizer& optimizer) {
      const auto& adabayes = dynamic_cast<const optim::AdaBayes&>(optimizer);
      CHECK(adabayes.lr() == p.lr);
      // sigma^2 = sgd_lr / batch size with the configured sgd_lr, whatever the lr.
      CHECK(relative_difference(adabayes.prior_variance(0), 0.05 / batch) < 1e-15);
      ++seen;
    }});
  }
  SUBCASE("--param sgd_lr") {
    sweep.options.param = "sgd_lr";
    sweep.config.optimizer_options.erase("sgd_lr");
    sweep.run({.on_step = [&](const train::LrFindPoint& p, const optim::Optimizer& optimizer) {
      const auto& adabayes = dynamic_cast<const optim::AdaBayes&>(optimizer);
      CHECK(adabayes.lr() == 2e-3);
      CHECK(relative_difference(adabayes.prior_variance(0), p.lr / batch) < 1e-15);
      ++seen;
    }});
  }
  CHECK(seen == 4);
}

TEST_CASE("lr_find: options it cannot run with are refused naming the flag") {
  train::TrainConfig adam;
  adam.optimizer = "adam";
  const auto refused = [&](const train::LrFindOptions& o, const train::TrainConfig& c = {}) {
    try {
      train::validate(o, c);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  CHECK(refused({.start_lr = 1, .end_lr = 1}).find("--start-lr 1 must be below --end-lr 1") != std::string::npos);
  CHECK(refused({.start_lr = 0}).find("--start-lr") != std::string::npos);
  CHECK(refused({.steps = 1}).find("--steps") != std::string::npos);
  CHECK(refused({.smooth = 1}).find("--smooth") != std::string::npos);
  CHECK(refused({.diverge = 1}).find("--diverge") != std::string::npos);
  CHECK(refused({.param = "sgd_lr"}, adam).find("--param sgd_lr: --optimizer adam has no sgd_lr") !=
        std::string::npos);
  CHECK(refused({.param = "sgd_lr"}) == "accepted");  // the default optimizer is AdaBayes
  CHECK(refused({}) == "accepted");
}
