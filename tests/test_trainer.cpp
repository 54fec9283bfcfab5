// The trainer (train/trainer.h) end to end on small generated CIFAR-10
// files: a run writes its metrics and checkpoints; a resumed run repeats an
// uninterrupted one bit for bit; a NaN loss stops the run and leaves the last
// checkpoint intact; bad configurations are refused with InputError. And
// the table of TrainConfig's fields (train/config_fields.h): each row is
// its own field under its own key, read back by from_json, and checked by
// validate() as its flag is.
#include <doctest/doctest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>
#include <type_traits>

#include <nlohmann/json.hpp>

#include "core/folder_lock.h"
#include "core/stop_request.h"
#include "helpers.h"
#include "resume_check.h"
#include "train/checkpoint.h"
#include "data/datasets.h"
#include "train/config_fields.h"
#include "train/trainer.h"

using namespace fluxion;
namespace fs = std::filesystem;

namespace {

using test::write_cifar10;

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

train::TrainResult quiet_run(const train::TrainConfig& c, bool resume = false) {
  std::ostringstream sink;
  train::TrainOptions options;
  options.resume = resume;
  options.log = &sink;
  return train::run_training(c, options);
}

// A value of the field's type unlike `value`.
template <class T>
T unlike(const T& value) {
  if constexpr (std::is_same_v<T, bool>) return !value;
  else if constexpr (std::is_same_v<T, std::string>) return value + "-changed";
  else if constexpr (std::is_same_v<T, std::map<std::string, double>>) {
    T options = value;
    options["eps"] = 1e-9;
    return options;
  } else return value + 1;  // the integers and double
}

// Values that a row's flag refuses as it parses them (its FlagCheck).
template <class T>
std::vector<T> refused_by_flag(const train::ConfigField<T>& field) {
  using train::FlagCheck;
  if constexpr (std::is_same_v<T, std::string>) {
    if (field.flag_check == FlagCheck::model_name || field.flag_check == FlagCheck::dataset_name ||
        field.flag_check == FlagCheck::optimizer_name)
      return {"no-such-name"};
  } else if constexpr (std::is_arithmetic_v<T> && !std::is_same_v<T, bool>) {
    if (field.flag_check == FlagCheck::int_range)
      return {static_cast<T>(field.range_min - 1), static_cast<T>(field.range_max + 1)};
    if (field.flag_check == FlagCheck::non_negative) return {static_cast<T>(-1)};
    if (field.flag_check == FlagCheck::positive) return {static_cast<T>(0)};
    if (field.flag_check == FlagCheck::below_one) return {static_cast<T>(1), static_cast<T>(-0.5)};
  }
  return {};
}

}  // namespace

TEST_CASE("trainer: a run on generated CIFAR-10 files writes metrics, config and checkpoints") {
  test::TempDir dir;
  write_cifar10(dir.file("cifar"), 16);
  const train::TrainResult r = quiet_run(small_run(dir, "run"));
  REQUIRE(r.history.size() == 2);
  const auto lines = test::metrics_jsonl(dir.file("run"));
  REQUIRE(lines.size() == 2);
  for (const char* key : {"epoch", "train_loss", "train_error", "test_loss", "test_error", "lr", "grad_norm", "images_per_s", "seconds",
                          "skipped_batches"})
    CHECK(lines[1].contains(key));
  CHECK(lines[1]["epoch"] == 2);
  CHECK(lines[0]["train_loss"].get<double>() == doctest::Approx(r.history[0].train_loss));
  CHECK(std::isfinite(lines[1]["test_loss"].get<double>()));
  std::ifstream csv(fs::path(dir.file("run")) / "metrics.csv");
  std::string header;
  std::getline(csv, header);
  CHECK(header == "epoch,train_loss,train_error,test_loss,test_error,lr,grad_norm,images_per_s,seconds,skipped_batches");

  const nlohmann::json config = nlohmann::json::parse(std::ifstream(fs::path(dir.file("run")) / "config.json"));
  CHECK(config["model"] == "small_cnn");
  CHECK(config["optimizer_options"]["sgd_lr"] == 0.1);  // the paper's AdaBayes settings, resolved
  CHECK(config["optimizer_options"]["batch_size"] == 16);
  CHECK(config.contains("git_commit"));
  CHECK(config.contains("fluxion_version"));
  // Every key of the record is a setting or one of the notes on what ran,
  // so the record serves as a --config file of a new run.
  const train::TrainConfig again = train::read_config_file(dir.file("run/config.json"), train::TrainConfig());
  CHECK_FALSE(train::first_difference(again, small_run(dir, "run"), {"threads", "out"}));
  CHECK(again.out_dir == train::TrainConfig().out_dir);  // the old run's folder is not the new run's
  // A record that does not name its model is refused by name, not read as
  // the default model (whose tensors would then not match).
  nlohmann::json no_model = config;
  no_model.erase("model");
  CHECK(test::error_message<InputError>([&] { train::from_run_record(no_model, "the record"); }) ==
        "the record: no \"model\" key; a run's record names the model, dataset and optimizer it trained");

  // best.safetensors holds the model alone, with PyTorch's keys; eval reads it.
  nn::ModelOptions o;
  o.in_channels = 3;
  o.image_size = 32;
  nn::ModulePtr model = nn::make_model("small_cnn", o);
  train::load_model_weights(dir.file("run/best.safetensors"), *model);
  train::load_model_weights(dir.file("run/last.safetensors"), *model);
  CHECK(load_safetensors(dir.file("run/best.safetensors")).tensors.count("conv1.weight") == 1);
}

TEST_CASE("trainer: 4 epochs equal 2 epochs resumed for 2 more, bit for bit") {
  // AdaBayes, and adabayes-rescaled, whose state is relative to the lr that changes here.
  for (const char* optimizer : {"adabayes", "adabayes-rescaled"}) {
    CAPTURE(optimizer);
    test::TempDir dir;
    write_cifar10(dir.file("cifar"), 16);
    train::TrainConfig whole = small_run(dir, "whole");
    whole.optimizer = optimizer;
    whole.epochs = 4;
    whole.schedule = "step:2:0.5";  // the lr changes across the resume point
    const test::ResumedRuns runs = test::check_resume_bit_exact(whole, 2);
    CHECK(runs.resumed.history.front().epoch == 3);
    CHECK(runs.lines[2]["lr"] == 5e-4);  // the change did happen
    // Resuming a finished run without more epochs says so.
    train::TrainConfig rest = train::read_run_config(runs.split_dir);
    rest.epochs = 4;
    CHECK(test::error_message<InputError>([&] { quiet_run(rest, true); }).find("already did 4 of 4 epochs") !=
          std::string::npos);
  }
}

TEST_CASE("trainer: --deterministic changes nothing on the CPU and holds for its run only") {
  test::TempDir dir;
  write_cifar10(dir.file("cifar"), 16);
  train::TrainConfig plain = small_run(dir, "plain");
  quiet_run(plain);
  train::TrainConfig strict = small_run(dir, "strict");
  strict.deterministic = true;
  quiet_run(strict);
  CHECK_FALSE(cuda::deterministic());  // the process's setting is back as it was
  const auto a = test::metrics_jsonl(dir.file("plain")), b = test::metrics_jsonl(dir.file("strict"));
  REQUIRE(a.size() == b.size());
  for (std::size_t e = 0; e < a.size(); ++e)
    for (const char* key : {"train_loss", "test_loss", "test_error"}) CHECK(a[e][key] == b[e][key]);
  CHECK(nlohmann::json::parse(std::ifstream(fs::path(dir.file("strict")) / "config.json"))["deterministic"] == true);
}

TEST_CASE("trainer: SIGTERM stops the run after a batch, naming the checkpoint to resume, which goes on bit for bit") {
  test::TempDir dir;
  write_cifar10(dir.file("cifar"), 16);
  train::TrainConfig whole = small_run(dir, "whole");
  whole.epochs = 3;
  quiet_run(whole);

  train::TrainConfig c = whole;
  c.out_dir = dir.file("stopped");
  std::ostringstream sink;
  train::TrainOptions options;
  options.log = &sink;
  std::string held;
  // The handlers as the fluxion command installs them; a signal raised
  // after epoch 2's first batch reaches the trainer at the next batch.
  install_stop_handlers();
  options.on_step = [&](const train::StepInfo& s) {
    if (s.epoch == 1 && s.batch == 1)  // while the run lives, its folder is claimed
      held = test::error_message<InputError>([&] { FolderLock(c.out_dir, "--out"); });
    if (s.epoch == 2 && s.batch == 1) std::raise(SIGTERM);
  };
  int signal = 0;
  std::string message;
  try {
    train::run_training(c, options);
  } catch (const train::Interrupted& e) {
    signal = e.signal;
    message = e.what();
  }
  clear_stop_request();
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  CHECK_MESSAGE(held.find("another process (pid ") != std::string::npos, held);
  CHECK(signal == SIGTERM);
  CHECK_MESSAGE(message.find("terminated at epoch 2, batch 2 of ") == 0, message);
  CHECK_MESSAGE(message.find("; the last checkpoint, " + dir.file("stopped/last.safetensors") +
                             ", holds epoch 1; resume with: fluxion train --resume " + c.out_dir) != std::string::npos,
                message);
  CHECK(test::metrics_jsonl(dir.file("stopped")).size() == 1);

  const train::TrainResult resumed = quiet_run(train::read_run_config(dir.file("stopped")), true);
  CHECK(resumed.history.size() == 2);
  const TensorMap a = load_safetensors(dir.file("whole/last.safetensors")).tensors;
  const TensorMap b = load_safetensors(dir.file("stopped/last.safetensors")).tensors;
  REQUIRE(a.size() == b.size());
  for (const auto& [name, t] : a) {
    CAPTURE(name);
    CHECK(t.to_vector<double>() == b.at(name).to_vector<double>());  // exact
  }
}

TEST_CASE("trainer: a NaN loss stops the run naming epoch and batch, and keeps the last checkpoint") {
  test::TempDir dir;
  write_cifar10(dir.file("cifar"), 16);
  train::TrainConfig c = small_run(dir, "diverge");
  c.optimizer = "sgd";
  c.epochs = 3;
  c.schedule = "step:1:1e30";  // epoch 2 runs at lr 1e29
  std::string after_epoch_1;
  std::ostringstream sink;
  train::TrainOptions options;
  options.log = &sink;
  options.on_epoch = [&](const train::EpochMetrics& m) {
    if (m.epoch == 1) {
      std::ifstream in(dir.file("diverge/last.safetensors"), std::ios::binary);
      after_epoch_1.assign(std::istreambuf_iterator<char>(in), {});
    }
  };
  std::string message;
  try {
    train::run_training(c, options);
  } catch (const train::TrainingDiverged& e) {
    message = e.what();
  }
  CHECK(message.find("at epoch 2, batch ") != std::string::npos);
  CHECK(message.find("(after epoch 1) is intact") != std::string::npos);
  std::ifstream in(dir.file("diverge/last.safetensors"), std::ios::binary);
  const std::string now(std::istreambuf_iterator<char>(in), {});
  CHECK(!after_epoch_1.empty());
  CHECK(now == after_epoch_1);
  CHECK(test::metrics_jsonl(dir.file("diverge")).size() == 1);
}

TEST_CASE("trainer: a batch with a NaN gradient stops the run, or with --skip-nonfinite is skipped and counted") {
  test::TempDir dir;
  write_cifar10(dir.file("cifar"), 16);
  // After batch 2 a weight is set to NaN, so batch 3's loss is NaN; once
  // batch 3 is over (skipped or not) the weight gets its value back.
  auto poison_batch_3 = [](train::TrainOptions& options, std::vector<bool>& skipped) {
    options.on_step = [&skipped, saved = 0.0](const train::StepInfo& step) mutable {
      if (step.epoch != 1) return;
      skipped.push_back(step.skipped);
      Tensor w = step.model.parameters().front();
      NoGradGuard no_grad;
      if (step.batch == 2) saved = w.flatten().slice(0, 0, 1).item(), w.flatten().slice(0, 0, 1).fill_(NAN);
      if (step.batch == 3) w.flatten().slice(0, 0, 1).fill_(saved);
    };
  };
  std::ostringstream sink;
  train::TrainOptions options;
  options.log = &sink;
  std::vector<bool> skipped;
  poison_batch_3(options, skipped);
  train::TrainConfig stop = small_run(dir, "stop");
  std::string message;
  try {
    train::run_training(stop, options);
  } catch (const train::TrainingDiverged& e) {
    message = e.what();
  }
  CHECK(message.find("the loss became NaN at epoch 1, batch 3; stopping") != std::string::npos);
  CHECK(message.find("--skip-nonfinite N") != std::string::npos);

  train::TrainConfig skip = small_run(dir, "skip");
  skip.skip_nonfinite = 1;
  skipped.clear();
  const train::TrainResult result = train::run_training(skip, options);
  CHECK(skipped == std::vector<bool>{false, false, true, false, false});  // 80 images, batches of 16
  REQUIRE(result.history.size() == 2);
  CHECK(result.history[0].skipped_batches == 1);
  CHECK(result.history[1].skipped_batches == 0);
  CHECK(std::isfinite(result.history[1].train_loss));
  // The skipped forward's NaN activations did not reach batchnorm's running
  // statistics, which evaluation uses.
  CHECK(std::isfinite(result.history[0].test_loss));
  CHECK(std::isfinite(result.history[1].test_loss));
  const TensorMap saved = load_safetensors(dir.file("skip/best.safetensors")).tensors;
  for (const char* key : {"bn1.running_mean", "bn1.running_var", "bn2.running_mean", "bn2.running_var"}) {
    INFO(key);
    CHECK(std::isfinite(saved.at(key).sum().item()));
  }
  CHECK(sink.str().find("warning: the loss became NaN at epoch 1, batch 3; batch skipped (1 of --skip-nonfinite 1") !=
        std::string::npos);
  CHECK(test::metrics_jsonl(dir.file("skip"))[0]["skipped_batches"] == 1);
  CHECK(train::read_run_config(dir.file("skip")).skip_nonfinite == 1);
}

TEST_CASE("trainer: a NaN gradient with a finite loss is caught before the step") {
  test::TempDir dir;
  write_cifar10(dir.file("cifar"), 16);
  std::ostringstream sink;
  train::TrainOptions options;
  options.log = &sink;
  std::vector<double> last_weight;  // the poisoned parameter's first element after each step
  std::int64_t backward_calls = 0;
  options.after_backward = [&](nn::Module& model) {
    if (++backward_calls != 3) return;
    NoGradGuard no_grad;
    Tensor g = model.parameters().back().grad();
    g.flatten().slice(0, 0, 1).fill_(INFINITY);
  };
  options.on_step = [&](const train::StepInfo& step) {
    last_weight.push_back(step.model.parameters().back().flatten().slice(0, 0, 1).item());
  };
  std::string message;
  try {
    train::run_training(small_run(dir, "stop"), options);
  } catch (const train::TrainingDiverged& e) {
    message = e.what();
  }
  CHECK(message.find("a gradient became NaN or infinite at epoch 1, batch 3; stopping") != std::string::npos);
  CHECK(last_weight.size() == 2);  // no step (and no on_step) for batch 3

  train::TrainConfig skip = small_run(dir, "skip");
  skip.skip_nonfinite = 1;
  backward_calls = 0;
  last_weight.clear();
  const train::TrainResult result = train::run_training(skip, options);
  REQUIRE(last_weight.size() == 10);  // 5 batches a epoch, 2 epochs
  CHECK(last_weight[2] == last_weight[1]);  // the skipped batch left the weight as it was
  CHECK(last_weight[3] != last_weight[2]);
  CHECK(std::isfinite(last_weight.back()));
  CHECK(result.history[0].skipped_batches == 1);
  CHECK(sink.str().find("warning: a gradient became NaN or infinite at epoch 1, batch 3; batch skipped") !=
        std::string::npos);
}

TEST_CASE("trainer: AdaBayes runs a cosine schedule to its end, where the lr would reach 0") {
  test::TempDir dir;
  write_cifar10(dir.file("cifar"), 4);
  train::TrainConfig c = small_run(dir, "cosine");
  c.schedule = "cosine";  // over the run's 2 epochs: lr, lr / 2, (0 after the last: never set)
  const train::TrainResult r = quiet_run(c);
  REQUIRE(r.history.size() == 2);
  CHECK(r.history[0].lr == doctest::Approx(1e-3).scale(0));
  CHECK(r.history[1].lr == doctest::Approx(5e-4).scale(0));
  // Resumed for 2 more epochs, the recorded cosine:2 would reach 0 at epoch 3: refused, named.
  c.epochs = 4;
  c.schedule = "cosine:2";  // as recorded in config.json, which --resume reads
  CHECK(test::error_message<InputError>([&] { quiet_run(c, true); }).find("reaches 0 at epoch 3") !=
        std::string::npos);
}

TEST_CASE("trainer: bad configurations are refused with an InputError naming the field") {
  test::TempDir dir;
  write_cifar10(dir.file("cifar"), 4);
  train::TrainConfig good = small_run(dir, "bad");
  auto with = [&](auto change) {
    train::TrainConfig c = good;
    change(c);
    return test::error_message<InputError>([&] { quiet_run(c); });
  };
  CHECK(with([](auto& c) { c.model = "resnet19"; }).find("--model: unknown model 'resnet19'") != std::string::npos);
  CHECK(with([](auto& c) { c.epochs = 0; }).find("--epochs") != std::string::npos);
  CHECK(with([](auto& c) { c.optimizer = "lion"; }).find("known optimizers: sgd") != std::string::npos);
  CHECK(with([](auto& c) { c.schedule = "step:x:0.1"; }).find("--schedule 'step:x:0.1'") != std::string::npos);
  // AdaBayes's sigma^2 follows the lr: an epoch at lr 0 is refused up front.
  CHECK(with([](auto& c) { c.schedule = "cosine:2", c.epochs = 3; }).find("the lr reaches 0 at epoch 3 of 3") !=
        std::string::npos);
  CHECK(with([](auto& c) { c.optimizer_options["momentum"] = 0.9; c.optimizer = "adam"; }).find("momentum") !=
        std::string::npos);
  CHECK(with([&](auto& c) { c.data_dir = dir.file("nowhere"); }).find("nowhere") != std::string::npos);
  CHECK(with([](auto& c) { c.data_dir = ""; }).find("--data-dir") != std::string::npos);

  // Config files: unreadable, not JSON, an unknown key, a wrong type.
  CHECK(test::error_message<InputError>([&] { train::read_config_file(dir.file("missing.json"), good); }).find("cannot read") !=
        std::string::npos);
  std::ofstream(dir.file("broken.json")) << "{\"epochs\": ";
  CHECK(test::error_message<InputError>([&] { train::read_config_file(dir.file("broken.json"), good); }).find("not valid JSON") !=
        std::string::npos);
  std::ofstream(dir.file("unknown.json")) << "{\"epoch\": 3}";
  CHECK(test::error_message<InputError>([&] { train::read_config_file(dir.file("unknown.json"), good); }).find("unknown key \"epoch\"") !=
        std::string::npos);
  std::ofstream(dir.file("typed.json")) << "{\"epochs\": \"three\"}";
  CHECK(test::error_message<InputError>([&] { train::read_config_file(dir.file("typed.json"), good); }).find("\"epochs\" must be an integer") !=
        std::string::npos);
  std::ofstream(dir.file("ok.json")) << "{\"epochs\": 7, \"lr\": 0.01, \"betas\": [0.8, 0.99], \"model\": \"resnet20\"}";
  const train::TrainConfig read = train::read_config_file(dir.file("ok.json"), good);
  CHECK(read.epochs == 7);
  CHECK(read.model == "resnet20");
  CHECK(read.optimizer_options.at("lr") == 0.01);
  CHECK(read.optimizer_options.at("beta1") == 0.8);
  CHECK(read.batch_size == good.batch_size);  // keys not given keep the base's values

  CHECK(with([](auto& c) { c.subset = 1000; }).find("--subset 1000 exceeds the 20 training images") !=
        std::string::npos);
  // A model whose layers do not fit the images is refused before training.
  CHECK(with([](auto& c) { c.model = "densenet121"; c.dataset = "fashion-mnist"; c.data_dir = ""; })
            .find("--model densenet121 does not fit fashion-mnist's 1x28x28 images") != std::string::npos);
  std::ofstream(dir.file("negative.json")) << "{\"seed\": -1}";
  CHECK(test::error_message<InputError>([&] { train::read_config_file(dir.file("negative.json"), good); }).find("non-negative") !=
        std::string::npos);

  // A folder that already holds a run is not overwritten.
  train::TrainConfig once = good;
  once.epochs = 1;
  quiet_run(once);
  CHECK(test::error_message<InputError>([&] { quiet_run(once); }).find("already holds a run") != std::string::npos);
  CHECK(test::error_message<InputError>([&] { train::read_run_config(dir.file("nothing")); }).find("no config.json") != std::string::npos);
}

TEST_CASE("config: each row of the table is its own field, under its own key, and comes back from JSON") {
  const train::TrainConfig defaults;
  const nlohmann::json default_json = train::to_json(defaults);
  CHECK(default_json.size() == std::tuple_size_v<decltype(train::config_fields)>);  // a key per row, no other
  train::for_each_config_field([&](const auto& field) {
    const std::string row = field.key;
    CAPTURE(row);
    train::TrainConfig changed = defaults;
    changed.*field.member = unlike(changed.*field.member);
    const nlohmann::json j = train::to_json(changed);
    std::string differing;  // the keys whose values changed: the row's alone, or another row holds its field
    for (const auto& [key, value] : j.items())
      if (value != default_json[key]) differing += (differing.empty() ? "" : ", ") + key;
    CHECK(differing == row);
    const train::TrainConfig back = train::from_json(j, defaults, "round-trip.json");
    CHECK(back.*field.member == changed.*field.member);
    // A value of the wrong JSON type is refused, naming the key.
    const bool text = std::is_same_v<std::remove_cvref_t<decltype(defaults.*field.member)>, std::string>;
    const nlohmann::json wrong = {{field.key, text ? nlohmann::json(1) : nlohmann::json("one")}};
    CHECK(test::error_message<InputError>([&] { train::from_json(wrong, defaults, "wrong.json"); })
              .find(std::string("wrong.json: \"") + field.key + "\" must be ") != std::string::npos);
  });
}

TEST_CASE("config: from_json names every key it knows, and validate() refuses what a flag refuses") {
  // The optimizer flags' keys come just before optimizer_options.
  const std::string message = test::error_message<InputError>(
      [] { train::from_json({{"epoch", 3}}, train::TrainConfig(), "config.json"); });
  std::vector<std::string> keys;
  train::for_each_config_field([&](const auto& field) {
    if (std::string_view(field.key) == "optimizer_options")
      for (const train::OptimizerFlag& flag : train::optimizer_flags) keys.push_back(flag.key);
    keys.push_back(field.key);
  });
  std::string known;
  for (const std::string& key : keys) known += (known.empty() ? "" : ", ") + key;
  CHECK(message == "config.json: unknown key \"epoch\"; known keys: " + known);

  // A --config file, or a program calling run_training, skips the flags'
  // checks: validate() must make them too.
  train::for_each_config_field([&](const auto& field) {
    for (const auto& value : refused_by_flag(field)) {
      const std::string row = field.key;
      CAPTURE(row);
      CAPTURE(value);
      train::TrainConfig c;
      c.*field.member = value;
      const std::string error = test::error_message<InputError>([&] { train::validate(c); });
      CAPTURE(error);
      CHECK((error.find(train::flag_name(row)) != std::string::npos || error.find("no-such-name") != std::string::npos));
    }
  });
}

// Writes the files tests/cli_test.sh trains on, when CTest's entry
// cli_write_cifar_files sets FLUXION_CLI_DIR; otherwise only checks that
// the generator writes what the reader accepts.
TEST_CASE("cli fixtures - generated CIFAR-10 files") {
  test::TempDir scratch;
  const char* env = std::getenv("FLUXION_CLI_DIR");
  const fs::path dir = env != nullptr && *env != '\0' ? fs::path(env) : scratch.path;
  write_cifar10(dir / "cifar", 16);
  CHECK(data::load_dataset("cifar10", (dir / "cifar").string(), true).size() == 80);
}

TEST_CASE("trainer: checkpoints with damaged metadata, and PyTorch-made model files") {
  test::TempDir dir;
  write_cifar10(dir.file("cifar"), 4);
  train::TrainConfig c = small_run(dir, "run");
  c.epochs = 1;
  quiet_run(c);
  // Damage epochs_done: resuming names the file and the field.
  const std::string last = dir.file("run/last.safetensors");
  SafetensorsFile f = load_safetensors(last);
  f.metadata["epochs_done"] = "1x";
  save_safetensors(last, f.tensors, f.metadata);
  c.epochs = 2;
  const std::string e = test::error_message<InputError>([&] { quiet_run(c, true); });
  CHECK(e.find(last) != std::string::npos);
  CHECK(e.find("epochs_done '1x'") != std::string::npos);
  // A best_test_error that is not a fraction (NaN would never compare
  // better, and best.safetensors would never be written again) is refused.
  for (const char* bad : {"nan", "-0.5", "1.5"}) {
    CAPTURE(bad);
    f.metadata["epochs_done"] = "1";
    f.metadata["best_test_error"] = bad;
    save_safetensors(last, f.tensors, f.metadata);
    const std::string message = test::error_message<InputError>([&] { quiet_run(c, true); });
    CHECK(message.find(std::string("best_test_error '") + bad + "'") != std::string::npos);
  }
  // A model file written by PyTorch (its writer puts format "pt" in the metadata) loads as plain weights.
  nn::ModulePtr model = nn::make_model("resnet20", 10);
  train::load_model_weights(FLUXION_FIXTURES_DIR "/layers/resnet20_torch_checkpoint.safetensors", *model);
}

TEST_CASE("metrics: a resume writes metrics.csv again from metrics.jsonl, under today's columns") {
  test::TempDir dir;
  const fs::path out = dir.file("run");
  fs::create_directories(out);
  // A run of a version before grad_norm: three epochs, of which the
  // checkpoint holds two.
  std::ofstream(out / "metrics.jsonl") << R"({"epoch": 1, "train_loss": 2.5, "lr": 0.1, "skipped_batches": 0})" "\n"
                                       << R"({"epoch": 2, "train_loss": 1.25, "lr": 0.1, "skipped_batches": 0})" "\n"
                                       << R"({"epoch": 3, "train_loss": 1.0, "lr": 0.1, "skipped_batches": 0})" "\n";
  std::ofstream(out / "metrics.csv") << "epoch,train_loss,lr,skipped_batches\n1,2.5,0.1,0\n2,1.25,0.1,0\n3,1,0.1,0\n";
  train::truncate_metrics(out, 2, {});
  std::ifstream csv(out / "metrics.csv");
  std::vector<std::string> lines;
  for (std::string line; std::getline(csv, line);) lines.push_back(line);
  std::string header;
  for (const train::MetricColumn& column : train::epoch_metric_columns({})) {
    if (!header.empty()) header += ',';
    header += column.key;
  }
  REQUIRE(lines.size() == 3);
  CHECK(lines[0] == header);
  CHECK(lines[2] == "2,1.25,,,,0.1,,,,0");  // the columns it lacks stay empty
  CHECK(test::metrics_jsonl(out.string()).size() == 2);
  // A line that is not JSON is named, not skipped.
  std::ofstream(out / "metrics.jsonl") << "{\"epoch\": 1}\nnot json\n";
  CHECK(test::error_message<InputError>([&] { train::truncate_metrics(out, 2, {}); }).find("metrics.jsonl:2: not a JSON object") !=
        std::string::npos);
}

TEST_CASE("trainer: resuming a finished AdaBayes cosine run says it is finished, before the schedule reaches lr 0") {
  test::TempDir dir;
  write_cifar10(dir.file("cifar"), 16);
  for (const char* per : {"epoch", "step"}) {
    CAPTURE(per);
    train::TrainConfig c = small_run(dir, std::string("cosine-") + per);
    c.epochs = 1;
    c.schedule = "cosine";
    c.schedule_per = per;
    quiet_run(c);
    const train::TrainConfig again = train::read_run_config(c.out_dir);
    CHECK(test::error_message<InputError>([&] { quiet_run(again, true); }).find("already did 1 of 1 epochs") !=
          std::string::npos);
  }
}
