// The trainer's weight EMA (--ema, train/model_ema.h) end to end on small
// generated CIFAR-10 files: it leaves the training as it was, averages the
// weights after every step (never after a skipped batch) and copies the
// buffers; it is evaluated into its own metric columns, written as
// best-ema.safetensors, and a resumed run repeats an uninterrupted one bit
// for bit, EMA included. optim/ema.h's own PyTorch parity is test_ema.cpp's.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "helpers.h"
#include "resume_check.h"
#include "train/checkpoint.h"
#include "train/trainer.h"

using namespace fluxion;
namespace fs = std::filesystem;

namespace {

// As test_trainer.cpp's small run: 80 training images in 5 batches, 16 test images.
train::TrainConfig ema_run(const test::TempDir& dir, const std::string& name, double decay) {
  train::TrainConfig c;
  c.model = "small_cnn";
  c.dataset = "cifar10";
  c.data_dir = dir.file("cifar");
  c.optimizer = "adabayes";
  c.batch_size = 16;
  c.epochs = 1;
  c.threads = 2;
  c.seed = 3;
  c.ema = decay;
  c.out_dir = dir.file(name);
  return c;
}

train::TrainResult quiet_run(const train::TrainConfig& c, train::TrainOptions options = {}, bool resume = false) {
  std::ostringstream sink;
  options.resume = resume;
  options.log = &sink;
  return train::run_training(c, options);
}

std::vector<double> values(const TensorMap& tensors, const std::string& key) {
  REQUIRE_MESSAGE(tensors.count(key) == 1, key);
  return tensors.at(key).to_vector<double>();
}

}  // namespace

TEST_CASE("trainer ema: the weights train as without it, their average follows every step, the buffers are copied") {
  test::TempDir dir;
  test::write_cifar10(dir.file("cifar"), 16);
  quiet_run(ema_run(dir, "plain", 0.0));
  // The EMA of fc2.bias recomputed in double from the weights after each step.
  std::vector<double> average;
  std::int64_t steps = 0;
  train::TrainOptions options;
  options.on_step = [&](const train::StepInfo& s) {
    const std::vector<double> w = s.model.named_parameters().back().second.to_vector<double>();  // fc2.bias
    if (steps++ == 0) average = w;  // the first update copies
    else
      for (std::size_t i = 0; i < w.size(); ++i) average[i] += 0.1 * (w[i] - average[i]);
  };
  const train::TrainResult with = quiet_run(ema_run(dir, "ema", 0.9), options);
  CHECK(steps == 5);

  // The raw weights' figures and tensors are those of the run without --ema.
  const auto plain_lines = test::metrics_jsonl(dir.file("plain")), ema_lines = test::metrics_jsonl(dir.file("ema"));
  REQUIRE(plain_lines.size() == 1);
  REQUIRE(ema_lines.size() == 1);
  for (const char* key : {"train_loss", "train_error", "test_loss", "test_error", "lr"}) {
    CAPTURE(key);
    CHECK(plain_lines[0][key] == ema_lines[0][key]);
  }
  CHECK_FALSE(plain_lines[0].contains("ema_test_loss"));
  const SafetensorsFile plain = load_safetensors(dir.file("plain/last.safetensors"));
  const SafetensorsFile ema = load_safetensors(dir.file("ema/last.safetensors"));
  CHECK(plain.metadata.count("ema_updates") == 0);  // a run without --ema writes what it wrote before
  for (const auto& [name, t] : plain.tensors) {
    CAPTURE(name);
    CHECK(t.to_vector<double>() == values(ema.tensors, name));
  }

  // The average: every parameter has one, close to the double recomputation
  // (float32 steps), and unlike the weights; the buffers are the model's.
  CHECK(ema.metadata.at("ema_updates") == "5");
  const std::vector<double> got = values(ema.tensors, "ema.fc2.bias"), weights = values(ema.tensors, "model.fc2.bias");
  REQUIRE(got.size() == average.size());
  for (std::size_t i = 0; i < got.size(); ++i) CHECK(got[i] == doctest::Approx(average[i]).epsilon(1e-6));
  CHECK(got != weights);
  for (const char* buffer : {"bn1.running_mean", "bn1.running_var", "bn1.num_batches_tracked", "bn2.running_var"}) {
    CAPTURE(buffer);
    CHECK(values(ema.tensors, std::string("ema.") + buffer) == values(ema.tensors, std::string("model.") + buffer));
  }

  // Its own columns, after the weights' test figures; its best model with
  // the PyTorch keys of best.safetensors, and the run's record.
  std::ifstream csv(fs::path(dir.file("ema")) / "metrics.csv");
  std::string header;
  std::getline(csv, header);
  CHECK(header ==
        "epoch,train_loss,train_error,test_loss,test_error,ema_test_loss,ema_test_error,lr,grad_norm,images_per_s,"
        "seconds,"
        "skipped_batches");
  CHECK(ema_lines[0]["ema_test_error"].get<double>() == with.history[0].ema_test_error);
  CHECK(with.best_ema_test_error == with.history[0].ema_test_error);
  CHECK(ema.metadata.count("best_ema_test_error") == 1);
  const SafetensorsFile best = load_safetensors(dir.file("ema/best.safetensors"));
  const SafetensorsFile best_ema = load_safetensors(dir.file("ema/best-ema.safetensors"));
  CHECK(best_ema.tensors.size() == best.tensors.size());
  for (const auto& [name, t] : best.tensors) CHECK(best_ema.tensors.count(name) == 1);
  CHECK(values(best_ema.tensors, "fc2.bias") == got);
  CHECK(best_ema.metadata.at("config") == best.metadata.at("config"));
  CHECK(!fs::exists(dir.file("plain/best-ema.safetensors")));
}

TEST_CASE("trainer ema: a skipped batch leaves the average as it was") {
  test::TempDir dir;
  test::write_cifar10(dir.file("cifar"), 16);
  train::TrainConfig c = ema_run(dir, "skip", 0.9);
  c.skip_nonfinite = 1;
  train::TrainOptions options;
  std::int64_t backward_calls = 0;
  options.after_backward = [&](nn::Module& model) {
    if (++backward_calls != 3) return;
    NoGradGuard no_grad;
    model.parameters().back().grad().flatten().slice(0, 0, 1).fill_(INFINITY);
  };
  const train::TrainResult r = quiet_run(c, options);
  CHECK(r.history.at(0).skipped_batches == 1);
  CHECK(load_safetensors(dir.file("skip/last.safetensors")).metadata.at("ema_updates") == "4");
}

TEST_CASE("trainer ema: 3 epochs equal 1 epoch resumed for 2 more, the warmed-up EMA and best-ema.safetensors bit for bit") {
  test::TempDir dir;
  test::write_cifar10(dir.file("cifar"), 16);
  train::TrainConfig whole = ema_run(dir, "whole", 0.99);
  whole.ema_warmup = true;
  whole.epochs = 3;
  whole.schedule = "step:1:0.5";
  const test::ResumedRuns runs = test::check_resume_bit_exact(whole, 1);  // every tensor, EMA's too
  const train::TrainConfig rest = train::read_run_config(runs.split_dir);
  CHECK(rest.ema == 0.99);
  CHECK(rest.ema_warmup);

  const SafetensorsFile a = load_safetensors(dir.file("whole/last.safetensors"));
  const SafetensorsFile b = load_safetensors(dir.file("whole-split/last.safetensors"));
  std::size_t ema_tensors = 0;
  for (const auto& [name, t] : a.tensors) ema_tensors += name.rfind("ema.", 0) == 0;
  CHECK(ema_tensors == load_safetensors(dir.file("whole/best.safetensors")).tensors.size());
  CHECK(a.metadata.at("ema_updates") == "15");
  CHECK(b.metadata.at("ema_updates") == "15");
  CHECK(a.metadata.at("best_ema_test_error") == b.metadata.at("best_ema_test_error"));
  // The best models' tensors (their metadata's record names each run's folder).
  for (const char* best : {"best-ema.safetensors", "best.safetensors"}) {
    CAPTURE(best);
    const TensorMap x = load_safetensors(dir.file(std::string("whole/") + best)).tensors;
    const TensorMap y = load_safetensors(dir.file(std::string("whole-split/") + best)).tensors;
    REQUIRE(x.size() == y.size());
    for (const auto& [name, t] : x) CHECK(t.to_vector<double>() == values(y, name));
  }

  for (const nlohmann::json& line : runs.lines) CHECK(line.contains("ema_test_error"));
}

TEST_CASE("trainer ema: a checkpoint without an EMA does not resume a run with one, and bad settings are refused") {
  test::TempDir dir;
  test::write_cifar10(dir.file("cifar"), 16);
  quiet_run(ema_run(dir, "old", 0.0));
  // A record edited to ask for an EMA that its checkpoint does not hold.
  const fs::path record = fs::path(dir.file("old")) / "config.json";
  nlohmann::json j = nlohmann::json::parse(std::ifstream(record));
  j["ema"] = 0.9;
  std::ofstream(record) << j.dump(2);
  train::TrainConfig rest = train::read_run_config(dir.file("old"));
  rest.epochs = 2;
  const std::string message = test::error_message<InputError>([&] { quiet_run(rest, {}, true); });
  CHECK_MESSAGE(message.find("last.safetensors: holds no weight EMA (no \"ema_updates\" in its metadata)") !=
                    std::string::npos,
                message);

  for (double decay : {1.0, -0.1, 1.5}) {
    train::TrainConfig c = ema_run(dir, "bad", decay);
    CHECK(test::error_message<InputError>([&] { train::validate(c); })
              .find("--ema: expected 0 (no EMA) or a decay in (0, 1), got ") == 0);
  }
  train::TrainConfig warmup_alone = ema_run(dir, "bad", 0.0);
  warmup_alone.ema_warmup = true;
  CHECK(test::error_message<InputError>([&] { train::validate(warmup_alone); }) == "--ema-warmup needs --ema DECAY");
}
