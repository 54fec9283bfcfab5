// The lr schedule of a training run (train/run_schedule.h) end to end on
// small generated CIFAR-10 files: stepped per batch, the lr changes within an
// epoch and on_step sees the lr each batch used; a warmup + cosine run and a
// reduce-on-plateau run resumed part-way repeat an uninterrupted one bit for
// bit (weights, and the lr column of metrics.jsonl).
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <numbers>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "helpers.h"
#include "resume_check.h"
#include "train/checkpoint.h"
#include "train/trainer.h"

using namespace fluxion;
namespace fs = std::filesystem;

namespace {

// 20 training images in batches of 4: 5 batches an epoch.
train::TrainConfig tiny_run(const test::TempDir& dir, const std::string& name) {
  train::TrainConfig c;
  c.model = "small_cnn";
  c.dataset = "cifar10";
  c.data_dir = dir.file("cifar");
  c.optimizer = "adabayes";
  c.batch_size = 4;
  c.epochs = 2;
  c.threads = 2;
  c.seed = 7;
  c.out_dir = dir.file(name);
  return c;
}

train::TrainResult quiet(const train::TrainConfig& c, bool resume = false,
                         std::function<void(const train::StepInfo&)> on_step = {}) {
  std::ostringstream sink;
  train::TrainOptions options;
  options.resume = resume;
  options.log = &sink;
  options.on_step = std::move(on_step);
  return train::run_training(c, options);
}

// The resume check of resume_check.h; returns the run's lr column.
std::vector<double> lrs_resumed_bit_exact(const train::TrainConfig& whole, std::int64_t first_epochs) {
  std::vector<double> lrs;
  for (const nlohmann::json& line : test::check_resume_bit_exact(whole, first_epochs).lines)
    lrs.push_back(line["lr"].get<double>());
  return lrs;
}

}  // namespace

TEST_CASE("run schedule: stepped per batch, the lr changes within an epoch, and on_step sees each batch's") {
  test::TempDir dir;
  test::write_cifar10(dir.file("cifar"), 4);
  train::TrainConfig c = tiny_run(dir, "per-step");
  c.schedule = "cosine";
  c.schedule_per = "step";
  c.warmup_steps = 3;
  c.warmup_start_factor = 0.2;
  std::vector<double> seen;
  std::vector<std::int64_t> batches;
  const train::TrainResult r = quiet(c, false, [&](const train::StepInfo& s) {
    seen.push_back(s.optimizer.lr());
    batches.push_back(s.batches_per_epoch);
  });
  REQUIRE(seen.size() == 10);  // 2 epochs of 5 batches
  REQUIRE(batches.front() == 5);
  // Warmup over 3 batches from lr / 5, then cosine over the other 7 batches:
  // SequentialLR([LinearLR(0.2, total_iters=3), CosineAnnealingLR(T_max=7)], [3]).
  const double lr = 1e-3;
  const optim::Schedule curve = train::make_schedule(c, 5);
  for (std::size_t t = 0; t < seen.size(); ++t) {
    CAPTURE(t);
    CHECK(seen[t] == lr * curve(static_cast<std::int64_t>(t)));
  }
  CHECK(seen[0] == doctest::Approx(2e-4).scale(0));
  CHECK(seen[3] == doctest::Approx(1e-3).scale(0));
  CHECK(seen[4] == doctest::Approx(lr * (1 + std::cos(std::numbers::pi / 7)) / 2).scale(0));
  CHECK(std::set<double>(seen.begin(), seen.begin() + 5).size() == 5);  // within the first epoch
  // metrics.jsonl's lr: the epoch's first batch's.
  REQUIRE(r.history.size() == 2);
  CHECK(r.history[0].lr == seen[0]);
  CHECK(r.history[1].lr == seen[5]);
  CHECK(train::read_checkpoint_info(dir.file("per-step/last.safetensors")).schedule_state.empty());
  // The bare cosine after a warmup in batches spans this run's batches: not extended.
  train::TrainConfig more = train::read_run_config(dir.file("per-step"));
  more.epochs = 3;
  CHECK(test::error_message<InputError>([&] { quiet(more, true); }).find("cannot be extended") != std::string::npos);
}

TEST_CASE("run schedule: warmup + cosine per batch, resumed part-way, equals the run uninterrupted") {
  test::TempDir dir;
  test::write_cifar10(dir.file("cifar"), 4);
  train::TrainConfig c = tiny_run(dir, "warm-cosine");
  c.epochs = 4;
  c.schedule = "cosine:3";  // 15 batches after 1 warmup epoch of 5: ends with the run
  c.schedule_per = "step";
  c.warmup_epochs = 1;
  const std::vector<double> lrs = lrs_resumed_bit_exact(c, 2);
  CHECK(lrs[0] == doctest::Approx(1e-3 / 3).scale(0));  // the warmup's start
  CHECK(lrs[1] == doctest::Approx(1e-3).scale(0));          // the cosine's
  CHECK(lrs[3] < lrs[2]);
}

TEST_CASE("run schedule: reduce-on-plateau after a warmup, resumed part-way, equals the run uninterrupted") {
  test::TempDir dir;
  test::write_cifar10(dir.file("cifar"), 4);
  train::TrainConfig c = tiny_run(dir, "plateau");
  c.epochs = 6;
  c.warmup_epochs = 1;
  // Better only by halving the loss: every epoch after the first watched is
  // bad, so the lr halves, waits a cooldown epoch, halves again.
  c.schedule = "plateau:patience=0,threshold=0.5,factor=0.5,cooldown=1,min_lr=1e-5";
  const std::vector<double> lrs = lrs_resumed_bit_exact(c, 3);
  CHECK(lrs[0] == doctest::Approx(1e-3 / 3).scale(0));  // warmup
  CHECK(lrs[1] == 1e-3);    // the plateau's start: the warmup's end
  CHECK(lrs[2] == 1e-3);    // epoch 2's metric was the first watched: the best
  CHECK(lrs[3] == 5e-4);    // epoch 3 bad: halved, cooldown 1
  CHECK(lrs[4] == 5e-4);    // epoch 4 bad, in the cooldown: not counted
  CHECK(lrs[5] == 2.5e-4);  // epoch 5 bad: halved
  const nlohmann::json state =
      nlohmann::json::parse(train::read_checkpoint_info(dir.file("plateau/last.safetensors")).schedule_state);
  CHECK(state["plateau"]["last_epoch"] == 5);  // epochs 2 to 6 watched
  CHECK(state["lrs"][0] == 2.5e-4);
  // A plateau checkpoint without its state is refused by name.
  train::TrainConfig rest = train::read_run_config(dir.file("plateau"));
  rest.epochs = 7;
  const std::string last = dir.file("plateau/last.safetensors");
  SafetensorsFile file = load_safetensors(last);
  file.metadata.erase("schedule_state");
  save_safetensors(last, file.tensors, file.metadata);
  CHECK(test::error_message<InputError>([&] { quiet(rest, true); }).find("no valid schedule_state") !=
        std::string::npos);
}
