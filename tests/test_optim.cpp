// The optimizer interface: construction checks, make_optimizer by name,
// zero_grad, parameter groups, state_dict errors, schedules, and that every
// optimizer actually trains a small model.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>

#include "fluxion.h"

using namespace fluxion;
using namespace fluxion::optim;

namespace {

// The core's MLP example: the two-spirals problem and a 2 -> 32 -> 2 tanh
// MLP over it (examples/mlp.cpp uses 128 hidden units), in float32.
struct SpiralsProblem {
  Tensor x, y, w1, b1, w2, b2;
  SpiralsProblem() {
    Generator gen(5);
    const data::Spirals spirals = data::make_spirals(100, gen);
    x = spirals.points;
    y = spirals.labels;
    w1 = uniform({32, 2}, -0.7, 0.7, {}, &gen).requires_grad_();
    b1 = uniform({32}, -0.7, 0.7, {}, &gen).requires_grad_();
    w2 = uniform({2, 32}, -0.18, 0.18, {}, &gen).requires_grad_();
    b2 = uniform({2}, -0.18, 0.18, {}, &gen).requires_grad_();
  }
  std::vector<Tensor> params() const { return {w1, b1, w2, b2}; }
  Tensor loss() const { return cross_entropy(linear(tanh(linear(x, w1, b1)), w2, b2), y); }
};

// An easier problem that 200 steps can nearly solve: labels from the sign of
// a fixed linear function of 4-D inputs, and a 4 -> 16 -> 2 tanh MLP.
struct LinearLabelsProblem {
  Tensor x, y, w1, b1, w2, b2;
  LinearLabelsProblem() {
    Generator gen(5);
    x = randn({64, 4}, {}, &gen);
    y = gt(matmul(x, tensor({1.0, -2.0, 0.5, 1.5})), zeros({})).to(kInt64);
    w1 = (randn({16, 4}, {}, &gen) * 0.5).detach().requires_grad_();
    b1 = zeros({16}).requires_grad_();
    w2 = (randn({2, 16}, {}, &gen) * 0.25).detach().requires_grad_();
    b2 = zeros({2}).requires_grad_();
  }
  std::vector<Tensor> params() const { return {w1, b1, w2, b2}; }
  Tensor loss() const { return cross_entropy(linear(tanh(linear(x, w1, b1)), w2, b2), y); }
};

// Trains `problem` for 200 full-batch steps with each optimizer and returns
// the loss before and after, per optimizer name.
template <class Problem>
std::map<std::string, std::pair<double, double>> train_with_every_optimizer(std::int64_t batch) {
  std::map<std::string, std::pair<double, double>> losses;
  for (const std::string& name : optimizer_names()) {
    Problem problem;
    std::map<std::string, double> options;
    if (name == "sgd") options = {{"lr", 0.1}, {"momentum", 0.9}};
    // AdaBayes's g is the summed-loss gradient over batch_size examples.
    if (has_option(name, "batch_size")) options = {{"batch_size", static_cast<double>(batch)}};
    auto opt = make_optimizer(name, problem.params(), options);
    const double initial = problem.loss().item();
    for (int step = 0; step < 200; ++step) {
      opt->zero_grad();
      problem.loss().backward();
      opt->step();
    }
    losses[name] = {initial, problem.loss().item()};
  }
  return losses;
}

}  // namespace

TEST_CASE("optim: every optimizer lowers the loss of the two-spirals MLP in 200 steps") {
  // Two spirals start on a plateau (the example leaves it after ~500 steps),
  // so 200 steps give every optimizer a modest but real descent.
  for (const auto& [name, loss] : train_with_every_optimizer<SpiralsProblem>(200)) {
    CAPTURE(name);
    MESSAGE(name << ": loss " << loss.first << " -> " << loss.second);
    CHECK(loss.second < 0.95 * loss.first);
  }
}

TEST_CASE("optim: every optimizer nearly solves a linearly labelled problem in 200 steps") {
  for (const auto& [name, loss] : train_with_every_optimizer<LinearLabelsProblem>(64)) {
    CAPTURE(name);
    MESSAGE(name << ": loss " << loss.first << " -> " << loss.second);
    CHECK(loss.second < 0.4 * loss.first);
  }
}

TEST_CASE("optim: make_optimizer rejects unknown names and options, listing what is allowed") {
  Tensor p = zeros({2}).requires_grad_();
  CHECK_THROWS_WITH_AS(make_optimizer("adamax", {p}), doctest::Contains("known: sgd, adam"), Error);
  CHECK_THROWS_WITH_AS(make_optimizer("adam", {p}, {{"momentum", 0.9}}),
                       doctest::Contains("unknown option 'momentum'"), Error);
  CHECK_THROWS_WITH_AS(make_optimizer("adam", {p}, {{"momentum", 0.9}}), doctest::Contains("beta2"), Error);
  CHECK_THROWS_WITH_AS(make_optimizer("sgd", {p}, {{"nesterov", 0.5}}), doctest::Contains("0 or 1"), Error);
  CHECK(std::string(make_optimizer("amsgrad", {p})->name()) == "Adam");
  CHECK(std::string(make_optimizer("adabayes-fp", {p})->name()) == "AdaBayes-FP");
}

TEST_CASE("optim: bad option values name the option and the allowed range") {
  Tensor p = zeros({2}).requires_grad_();
  CHECK_THROWS_WITH_AS(SGD({p}, SGDOptions(-0.1)), doctest::Contains("lr must be a finite number >= 0"), Error);
  CHECK_THROWS_WITH_AS(SGD({p}, SGDOptions(0.1).nesterov(true)), doctest::Contains("nesterov"), Error);
  CHECK_THROWS_WITH_AS(Adam({p}, AdamOptions().beta1(1.0)), doctest::Contains("beta1 must be in [0, 1)"), Error);
  CHECK_THROWS_WITH_AS(Adam({p}, AdamOptions().eps(-1)), doctest::Contains("eps"), Error);
  CHECK_THROWS_WITH_AS(Adagrad({p}, AdagradOptions().lr_decay(-1)), doctest::Contains("lr_decay"), Error);
  CHECK_THROWS_WITH_AS(RMSprop({p}, RMSpropOptions().alpha(-0.5)), doctest::Contains("alpha"), Error);
  CHECK_THROWS_WITH_AS(AdaBound({p}, AdaBoundOptions().gamma(0.0)), doctest::Contains("gamma"), Error);
  CHECK_THROWS_WITH_AS(make_optimizer("adam", {p}, {{"lr", std::nan("")}}), doctest::Contains("lr"), Error);
  Adam adam({p});
  CHECK_THROWS_WITH_AS(adam.set_lr(-1.0), doctest::Contains("lr"), Error);
  // Parameters must be leaves that require grad.
  CHECK_THROWS_AS(SGD({zeros({2})}), Error);
}

TEST_CASE("optim: zero_grad drops or zeroes gradients, and parameters without one are skipped") {
  Tensor a = ones({2}).requires_grad_(), b = ones({2}).requires_grad_();
  SGD opt({a, b}, SGDOptions(0.5));
  a.set_grad(full({2}, 2.0));
  opt.step();  // b has no gradient: untouched
  CHECK(a.to_vector<float>() == std::vector<float>{0.0f, 0.0f});
  CHECK(b.to_vector<float>() == std::vector<float>{1.0f, 1.0f});
  opt.zero_grad(false);
  CHECK(a.grad().to_vector<float>() == std::vector<float>{0.0f, 0.0f});
  opt.zero_grad();
  CHECK_FALSE(a.grad().defined());
}

TEST_CASE("optim: parameter groups keep their own options and learning rates") {
  Tensor a = ones({1}, kFloat64).requires_grad_(), b = ones({1}, kFloat64).requires_grad_();
  SGD opt(std::vector<SGD::Group>{{{a}, SGDOptions(0.1)}, {{b}, SGDOptions(0.01).weight_decay(1.0)}});
  CHECK(opt.num_groups() == 2);
  CHECK(opt.lr(1) == 0.01);
  a.set_grad(ones({1}, kFloat64));
  b.set_grad(ones({1}, kFloat64));
  opt.step();
  CHECK(a.item() == doctest::Approx(0.9));
  CHECK(b.item() == doctest::Approx(1.0 - 0.01 * (1.0 + 1.0)));
  opt.set_lr(0.5);
  CHECK(opt.lr(0) == 0.5);
  CHECK(opt.lr(1) == 0.5);
}

TEST_CASE("optim: load_state_dict lists missing and unexpected keys and names shape mismatches") {
  Tensor p = ones({3}, kFloat64).requires_grad_();
  Adam opt({p});
  p.set_grad(ones({3}, kFloat64));
  opt.step();
  StateDict dict = opt.state_dict();
  CHECK(dict.count("state.0.exp_avg") == 1);
  CHECK(dict.at("state.0.step").item<std::int64_t>() == 1);
  CHECK(dict.at("param_groups.0.lr").item() == doctest::Approx(1e-3).scale(0));

  StateDict broken = dict;
  broken.erase("param_groups.0.beta2");
  broken["state.7.exp_avg"] = ones({3}, kFloat64);
  broken["momentum"] = ones({1}, kFloat64);
  Adam fresh({p});
  try {
    fresh.load_state_dict(broken, "ckpt.safetensors");
    FAIL("expected an error");
  } catch (const Error& e) {
    const std::string message = e.what();
    CHECK(message.find("ckpt.safetensors") != std::string::npos);
    CHECK(message.find("missing keys: 'param_groups.0.beta2'") != std::string::npos);
    CHECK(message.find("'state.7.exp_avg'") != std::string::npos);
    CHECK(message.find("'momentum'") != std::string::npos);
  }
  StateDict wrong_shape = dict;
  wrong_shape["state.0.exp_avg"] = ones({4}, kFloat64);
  CHECK_THROWS_WITH_AS(fresh.load_state_dict(wrong_shape), doctest::Contains("state.0.exp_avg' has shape [4]"), Error);
  // A good dict restores options and state.
  dict["param_groups.0.lr"] = scalar_tensor(0.25, kFloat64);
  fresh.load_state_dict(dict);
  CHECK(fresh.lr() == 0.25);
  CHECK(fresh.state(0).step == 1);
}

TEST_CASE("optim: schedules give PyTorch's factors") {
  CHECK(step_decay(30, 0.1)(29) == doctest::Approx(1.0));
  CHECK(step_decay(30, 0.1)(30) == doctest::Approx(0.1));
  CHECK(step_decay(30, 0.1)(65) == doctest::Approx(0.01));
  const Schedule paper = multistep({150}, 0.1);  // 200 epochs, lr / 10 at 150
  CHECK(paper(149) == 1.0);
  CHECK(paper(150) == doctest::Approx(0.1));
  CHECK(multistep({2, 5}, 0.5)(7) == doctest::Approx(0.25));
  CHECK(cosine(100)(0) == doctest::Approx(1.0));
  CHECK(cosine(100)(50) == doctest::Approx(0.5));
  CHECK(cosine(100, 0.1)(100) == doctest::Approx(0.1));
  CHECK(linear_warmup(4, 0.2)(0) == doctest::Approx(0.2));
  CHECK(linear_warmup(4, 0.2)(2) == doctest::Approx(0.6));
  CHECK(linear_warmup(4, 0.2)(9) == doctest::Approx(1.0));
  CHECK(chain({linear_warmup(4, 0.2), multistep({2}, 0.1)})(2) == doctest::Approx(0.06));
  CHECK_THROWS_AS(multistep({5, 3}), Error);
  CHECK_THROWS_AS(cosine(0), Error);
}

TEST_CASE("optim: LRScheduler drives every group's lr from its initial value") {
  Tensor a = ones({1}).requires_grad_(), b = ones({1}).requires_grad_();
  Adam opt(std::vector<Adam::Group>{{{a}, AdamOptions(1e-3)}, {{b}, AdamOptions(1e-2)}});
  LRScheduler scheduler(opt, multistep({2}, 0.1));
  scheduler.step();
  CHECK(opt.lr(0) == doctest::Approx(1e-3).scale(0));
  scheduler.step();
  CHECK(opt.lr(0) == doctest::Approx(1e-4).scale(0));
  CHECK(opt.lr(1) == doctest::Approx(1e-3).scale(0));
  scheduler.set_last_epoch(0);
  CHECK(opt.lr(1) == doctest::Approx(1e-2).scale(0));
}

TEST_CASE("optim: float32 and float64 parameters give the same Adam trajectory to float32 precision") {
  Generator gen(3);
  Tensor a64 = randn({6}, kFloat64, &gen).requires_grad_();
  Tensor a32 = a64.detach().to(kFloat32).requires_grad_();
  Adam o64({a64}), o32({a32});
  for (int i = 0; i < 50; ++i) {
    Tensor g = randn({6}, kFloat64, &gen);
    a64.set_grad(g);
    a32.set_grad(g.to(kFloat32));
    o64.step();
    o32.step();
  }
  const auto v64 = a64.to_vector<double>();
  const auto v32 = a32.to_vector<double>();
  for (std::size_t i = 0; i < v64.size(); ++i) CHECK(v32[i] == doctest::Approx(v64[i]).epsilon(1e-5));
}

TEST_CASE("optim: a resumed AdaBound keeps the initial lr its bounds are scaled against") {
  // The resumed optimizer is built with the already-lowered lr; the state
  // dict's initial_lr must put the bounds back where they were.
  Generator gen(9);
  std::vector<Tensor> grads;
  for (int i = 0; i < 40; ++i) grads.push_back(randn({4}, kFloat64, &gen) * 10.0);
  auto run = [&](bool resume) {
    Tensor p = ones({4}, kFloat64).requires_grad_();
    auto opt = make_optimizer("adabound", {p}, {{"lr", 1e-2}});
    for (int i = 0; i < 40; ++i) {
      if (i == 10) opt->set_lr(1e-3);
      if (resume && i == 20) {
        StateDict dict = opt->state_dict();
        opt = make_optimizer("adabound", {p}, {{"lr", 1e-3}});
        opt->load_state_dict(dict);
      }
      p.set_grad(grads[i]);
      opt->step();
    }
    return p.to_vector<double>();
  };
  CHECK(run(true) == run(false));
}

TEST_CASE("optim: optimizer state saved in a safetensors file resumes bit for bit") {
  // The checkpoint path a trainer takes: state_dict -> safetensors file ->
  // fresh optimizer. Every optimizer, with a learning-rate change before the save.
  const auto dir = std::filesystem::temp_directory_path() / ("fluxion_optim_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  for (const std::string& name : optimizer_names()) {
    CAPTURE(name);
    Generator gen(21);
    std::vector<Tensor> grads;
    for (int i = 0; i < 30; ++i) grads.push_back(randn({3, 2}, kFloat32, &gen));
    auto run = [&](bool through_file) {
      Tensor p = ones({3, 2}).requires_grad_();
      auto opt = make_optimizer(name, {p});
      for (int i = 0; i < 30; ++i) {
        if (i == 10) opt->set_lr(opt->lr() * 0.5);
        if (through_file && i == 20) {
          const std::string path = (dir / (name + ".safetensors")).string();
          save_safetensors(path, opt->state_dict(), {{"optimizer", name}});
          opt = make_optimizer(name, {p});
          opt->load_state_dict(load_safetensors(path).tensors, path);
        }
        p.set_grad(grads[i]);
        opt->step();
      }
      return p.to_vector<float>();
    };
    CHECK(run(true) == run(false));
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("optim: set_option and set_initial_lr change every group, and a refused value changes nothing") {
  Tensor a = ones({1}, kFloat64).requires_grad_(), b = ones({1}, kFloat64).requires_grad_();
  AdaBayes opt(std::vector<AdaBayes::Group>{{{a}, AdaBayesOptions(1e-3).sgd_lr(0.1).batch_size(10)},
                                            {{b}, AdaBayesOptions(1e-2).sgd_lr(0.2).batch_size(10)}});
  opt.set_option("sgd_lr", 0.5);
  CHECK(opt.option_values(0).at("sgd_lr") == 0.5);
  CHECK(opt.option_values(1).at("sgd_lr") == 0.5);
  CHECK_THROWS_WITH(opt.set_option("sgd_lr", -1.0), doctest::Contains("sgd_lr"));
  CHECK(opt.option_values(0).at("sgd_lr") == 0.5);
  CHECK(opt.option_values(1).at("sgd_lr") == 0.5);
  CHECK_THROWS_WITH(opt.set_option("no_such_option", 1.0), doctest::Contains("unknown option 'no_such_option'"));
  // sigma^2 follows lr / initial lr (a schedule); with both moved together it stays sgd_lr / batch size.
  opt.set_lr(1.0);
  CHECK(opt.prior_variance(0) == doctest::Approx(0.5 * 1000 / 10).epsilon(1e-15));
  opt.set_initial_lr(1.0);
  CHECK(opt.initial_lr(0) == 1.0);
  CHECK(opt.initial_lr(1) == 1.0);
  CHECK(opt.prior_variance(0) == doctest::Approx(0.5 / 10).epsilon(1e-15));
  CHECK(opt.prior_variance(1) == doctest::Approx(0.5 / 10).epsilon(1e-15));
  CHECK_THROWS(opt.set_initial_lr(0.0));
}
