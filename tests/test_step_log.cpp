// The per-step side of the trainer: gradient clipping as a run applies it
// (--clip-grad-norm, --clip-grad-value), the gradient norm in StepInfo and
// the metrics, and OUT/steps.jsonl (train/step_log.h): its lines, AdaBayes's
// regimes, a fresh run replacing a stale log, and a resume truncating it so
// that it equals an uninterrupted run's but for the timings.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "autograd/ops.h"
#include "helpers.h"
#include "optim/clip.h"
#include "train/step_log.h"
#include "train/trainer.h"

using namespace fluxion;
namespace fs = std::filesystem;

namespace {

// 80 generated CIFAR-10 training images in batches of 16: 5 steps an epoch.
train::TrainConfig small_run(const test::TempDir& dir, const std::string& name) {
  train::TrainConfig c;
  c.model = "small_cnn";
  c.dataset = "cifar10";
  c.data_dir = dir.file("cifar");
  c.optimizer = "adabayes";
  c.batch_size = 16;
  c.epochs = 2;
  c.threads = 2;
  c.seed = 3;
  c.out_dir = dir.file(name);
  return c;
}

// Plain SGD (no momentum, no weight decay): the update is lr x the clipped gradient.
train::TrainConfig sgd_run(const test::TempDir& dir, const std::string& name) {
  train::TrainConfig c = small_run(dir, name);
  c.optimizer = "sgd";
  c.optimizer_options = {{"lr", 0.1}, {"momentum", 0.0}, {"weight_decay", 0.0}};
  c.epochs = 1;
  return c;
}

train::TrainResult quiet_run(const train::TrainConfig& c, train::TrainOptions options = {}, bool resume = false) {
  std::ostringstream sink;
  options.resume = resume;
  options.log = &sink;
  return train::run_training(c, options);
}

std::vector<nlohmann::json> jsonl(const std::string& path) {
  std::vector<nlohmann::json> lines;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) lines.push_back(nlohmann::json::parse(line));
  return lines;
}

// The first step's update of every weight, and what the step saw.
struct FirstStep {
  std::vector<std::vector<double>> before, after;
  double norm_seen = 0;  // optim::grad_norm of the gradients after backward
  train::TrainResult result;
  std::vector<double> step_norms;  // StepInfo::grad_norm of each step
  double update_norm() const {
    double sum = 0;
    for (std::size_t i = 0; i < before.size(); ++i)
      for (std::size_t k = 0; k < before[i].size(); ++k) sum += (after[i][k] - before[i][k]) * (after[i][k] - before[i][k]);
    return std::sqrt(sum);
  }
  double largest_change() const {
    double most = 0;
    for (std::size_t i = 0; i < before.size(); ++i)
      for (std::size_t k = 0; k < before[i].size(); ++k) most = std::max(most, std::abs(after[i][k] - before[i][k]));
    return most;
  }
};

FirstStep first_step(const train::TrainConfig& c) {
  FirstStep s;
  train::TrainOptions options;
  options.after_backward = [&](nn::Module& model) {
    if (!s.before.empty()) return;
    for (const Tensor& p : model.parameters()) s.before.push_back(p.to_vector<double>());
    s.norm_seen = optim::grad_norm(model.parameters());
  };
  options.on_step = [&](const train::StepInfo& step) {
    s.step_norms.push_back(step.grad_norm);
    if (!s.after.empty()) return;
    for (const Tensor& p : step.model.parameters()) s.after.push_back(p.to_vector<double>());
    CHECK(step.lr == 0.1);
  };
  s.result = quiet_run(c, options);
  return s;
}

}  // namespace

TEST_CASE("step log: --clip-grad-norm bounds the step, and StepInfo and the metrics show the norm before clipping") {
  test::TempDir dir;
  test::write_cifar10(dir.file("cifar"), 16);
  const FirstStep free = first_step(sgd_run(dir, "free"));
  train::TrainConfig clipped_config = sgd_run(dir, "clipped");
  clipped_config.clip_grad_norm = 1e-2;
  const FirstStep clipped = first_step(clipped_config);
  // The same gradient either way: its norm is above the maximum.
  REQUIRE(free.norm_seen > 0.1);
  CHECK(clipped.norm_seen == free.norm_seen);
  CHECK(clipped.step_norms.front() == free.norm_seen);  // before clipping
  // Unclipped, SGD moves the weights by lr x the norm; clipped, by lr x max_norm
  // x norm / (norm + 1e-6), up to float32 rounding of the weights.
  CHECK(free.update_norm() == doctest::Approx(0.1 * free.norm_seen).scale(0).epsilon(1e-3));
  CHECK(clipped.update_norm() == doctest::Approx(0.1 * 1e-2).scale(0).epsilon(1e-3));
  CHECK(clipped.update_norm() <= 0.1 * 1e-2 * (1 + 1e-3));
  // The epoch's grad_norm is the mean of its steps' norms.
  double sum = 0;
  for (double n : clipped.step_norms) sum += n;
  REQUIRE(clipped.step_norms.size() == 5);
  CHECK(clipped.result.history[0].grad_norm == doctest::Approx(sum / 5).epsilon(1e-12));
  CHECK(jsonl(dir.file("clipped/metrics.jsonl"))[0]["grad_norm"].get<double>() ==
        doctest::Approx(sum / 5).epsilon(1e-8));
}

TEST_CASE("step log: --clip-grad-value clamps every gradient element before the step") {
  test::TempDir dir;
  test::write_cifar10(dir.file("cifar"), 16);
  train::TrainConfig c = sgd_run(dir, "value");
  c.clip_grad_value = 1e-5;
  const FirstStep s = first_step(c);
  // No weight moves by more than lr x 1e-5, and some (those whose gradient
  // was clamped) by that much, up to float32 rounding.
  CHECK(s.largest_change() <= 0.1 * 1e-5 * 1.02);
  CHECK(s.largest_change() >= 0.1 * 1e-5 * 0.98);
  // With both, the value clip comes first and the norm clip bounds the result.
  train::TrainConfig both = c;
  both.out_dir = dir.file("both");
  both.clip_grad_norm = 1e-6;
  const FirstStep b = first_step(both);
  CHECK(b.update_norm() <= 0.1 * 1e-6 * 1.01);
  CHECK(b.step_norms.front() == s.norm_seen);  // logged before either clip
}

TEST_CASE("step log: steps.jsonl has a line every --log-every steps with its columns, and AdaBayes's regimes") {
  test::TempDir dir;
  test::write_cifar10(dir.file("cifar"), 16);
  train::TrainConfig c = small_run(dir, "adabayes");
  c.log_every = 3;  // of 10 steps: 3, 6, 9
  std::vector<double> losses, norms, lrs;
  train::TrainOptions options;
  options.on_step = [&](const train::StepInfo& s) {
    losses.push_back(s.loss), norms.push_back(s.grad_norm), lrs.push_back(s.lr);
  };
  quiet_run(c, options);
  const auto lines = jsonl(dir.file("adabayes/steps.jsonl"));
  REQUIRE(lines.size() == 3);
  std::vector<std::string> raw;
  {
    std::ifstream in(dir.file("adabayes/steps.jsonl"));
    for (std::string text; std::getline(in, text);) raw.push_back(text);
  }
  std::vector<std::string> keys;
  for (const train::StepColumn& column : train::step_log_columns()) keys.push_back(column.key);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const nlohmann::json& line = lines[i];
    CAPTURE(line.dump());
    const nlohmann::ordered_json in_order = nlohmann::ordered_json::parse(raw[i]);  // nlohmann::json sorts keys
    std::vector<std::string> line_keys;
    for (const auto& [key, value] : in_order.items()) line_keys.push_back(key);
    CHECK(line_keys == keys);  // every column, in the list's order
    const std::int64_t step = 3 * static_cast<std::int64_t>(i + 1);
    CHECK(line["step"] == step);
    CHECK(line["epoch"] == (step - 1) / 5 + 1);
    CHECK(line["batch"] == (step - 1) % 5 + 1);
    const auto k = static_cast<std::size_t>(step - 1);
    CHECK(line["loss"].get<double>() == losses[k]);
    CHECK(line["grad_norm"].get<double>() == norms[k]);
    CHECK(line["lr"].get<double>() == lrs[k]);
    CHECK(line["lr"].get<double>() == 1e-3);
    CHECK(line["step_seconds"].get<double>() > 0);
    const double sgd = line["share_sgd_like"], adam = line["share_adam_like"];
    const double low = line["share_low_data"], high = line["share_high_data"];
    CHECK(sgd >= 0);
    CHECK(adam >= 0);
    CHECK(sgd <= low);
    CHECK(adam <= high);
    CHECK(low + high <= 1);
    CHECK(line["median_posterior_variance"].get<double>() > 0);
  }
  // The filter's posterior variance never exceeds the prior's sigma^2 = sgd_lr / batch (0.1 / 16).
  for (const nlohmann::json& line : lines) CHECK(line["median_posterior_variance"].get<double>() <= 0.1 / 16 * (1 + 1e-6));

  // Another optimizer's lines have no AdaBayes columns; --log-every 0 writes no file.
  train::TrainConfig sgd = sgd_run(dir, "sgd");
  sgd.log_every = 1;
  quiet_run(sgd);
  const auto sgd_lines = jsonl(dir.file("sgd/steps.jsonl"));
  REQUIRE(sgd_lines.size() == 5);
  CHECK_FALSE(sgd_lines[0].contains("share_sgd_like"));
  CHECK(sgd_lines[4]["step"] == 5);
  train::TrainConfig off = sgd_run(dir, "off");
  off.log_every = 0;
  quiet_run(off);
  CHECK_FALSE(fs::exists(dir.file("off/steps.jsonl")));
}

TEST_CASE("step log: a resume truncates steps.jsonl to its checkpoint, and a fresh run replaces a stale one") {
  test::TempDir dir;
  test::write_cifar10(dir.file("cifar"), 16);
  train::TrainConfig whole = small_run(dir, "whole");
  whole.epochs = 3;
  whole.log_every = 2;
  quiet_run(whole);

  // An interrupted run that logged epoch 3's steps and wrote its metrics but
  // not its checkpoint: epoch 2's last.safetensors is put back after epoch 3.
  train::TrainConfig split = whole;
  split.out_dir = dir.file("split");
  split.epochs = 2;
  quiet_run(split);
  fs::copy_file(dir.file("split/last.safetensors"), dir.file("after-2.safetensors"));
  train::TrainConfig rest = train::read_run_config(dir.file("split"));
  rest.epochs = 3;
  quiet_run(rest, {}, true);
  fs::copy_file(dir.file("after-2.safetensors"), dir.file("split/last.safetensors"), fs::copy_options::overwrite_existing);
  REQUIRE(jsonl(dir.file("split/steps.jsonl")).size() == 7);  // steps 2, 4, ..., 14
  quiet_run(rest, {}, true);

  const auto a = jsonl(dir.file("whole/steps.jsonl")), b = jsonl(dir.file("split/steps.jsonl"));
  REQUIRE(a.size() == 7);
  REQUIRE(b.size() == a.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    nlohmann::json x = a[i], y = b[i];
    CHECK(x["step_seconds"].get<double>() > 0);
    x.erase("step_seconds"), y.erase("step_seconds");
    CHECK(x == y);  // bit for bit, but for the timings
  }

  // A start killed before its first checkpoint leaves a steps.jsonl; the
  // same run started again claims the folder and starts the log afresh.
  train::TrainConfig killed = whole;
  killed.out_dir = dir.file("killed");
  killed.epochs = 1;
  killed.log_every = 1;
  train::TrainOptions stop_early;
  stop_early.on_step = [](const train::StepInfo& s) {
    if (s.batch == 3) throw std::runtime_error("killed");
  };
  CHECK_THROWS_AS(quiet_run(killed, stop_early), std::runtime_error);
  REQUIRE(jsonl(dir.file("killed/steps.jsonl")).size() == 3);
  REQUIRE_FALSE(fs::exists(dir.file("killed/last.safetensors")));
  quiet_run(killed);
  const auto again = jsonl(dir.file("killed/steps.jsonl"));
  REQUIRE(again.size() == 5);
  CHECK(again[0]["step"] == 1);
}

TEST_CASE("step log: truncate_steps keeps whole lines up to the step, and stops at a half-written one") {
  test::TempDir dir;
  fs::create_directories(dir.path);
  train::StepRecord r;
  for (std::int64_t step = 1; step <= 4; ++step) {
    r.step = step;
    train::append_step(dir.path, r);
  }
  std::ofstream(dir.path / "steps.jsonl", std::ios::app) << "{\"step\": 5, \"ep";  // killed mid-write
  train::truncate_steps(dir.path, 10);
  CHECK(jsonl((dir.path / "steps.jsonl").string()).size() == 4);
  train::truncate_steps(dir.path, 2);
  const auto lines = jsonl((dir.path / "steps.jsonl").string());
  REQUIRE(lines.size() == 2);
  CHECK(lines[1]["step"] == 2);
}
