// Data-parallel training (train/data_parallel.h), run by CTest as
//   mpirun -np 2 --oversubscribe fluxion_mpi_tests
// Every rank runs every case (the collectives inside must match); a failure
// on any rank fails the program.
//
// The central claim: two ranks with batch B take the same steps as one
// process with batch 2B, up to float summation order. The model is the MLP,
// without batchnorm, whose per-rank statistics would (by design, as in
// PyTorch's DDP) differ from one process's.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "../helpers.h"
#include "core/random.h"
#include "data/datasets.h"
#include "dist/distributed.h"
#include "train/trainer.h"

using namespace fluxion;
namespace fs = std::filesystem;

namespace {

dist::World world;

std::string test_dir() {
  const char* dir = std::getenv("FLUXION_MPI_TEST_DIR");
  return dir ? dir : (fs::temp_directory_path() / "fluxion_mpi_tests").string();
}

train::TrainConfig run(const std::string& name, const std::string& optimizer, std::int64_t batch, bool distributed) {
  train::TrainConfig c;
  c.model = "mlp";
  c.dataset = "cifar10";
  c.data_dir = test_dir() + "/cifar";
  c.optimizer = optimizer;
  c.batch_size = batch;
  c.epochs = 2;
  c.augment = 1;  // the shares' crops and flips must be the single loader's
  c.threads = 1;
  c.workers = 1;
  c.seed = 5;
  c.distributed = distributed;
  c.collective_timeout = 120;
  c.out_dir = test_dir() + "/" + name;
  return c;
}

train::TrainResult quiet(const train::TrainConfig& c, train::TrainOptions options = {}) {
  std::ostringstream sink;
  options.log = &sink;
  return train::run_training(c, options);
}

}  // namespace

TEST_CASE("distributed: two ranks of batch 8 take the steps of one process of batch 16") {
  REQUIRE(world.size == 2);
  for (const std::string optimizer : {"sgd", "adam", "adabayes"}) {
    CAPTURE(optimizer);
    // 65 training images: global batches of 16, the last of 1 (rank 0's share empty).
    if (world.rank == 0) {
      fs::remove_all(test_dir() + "/one-" + optimizer);
      fs::remove_all(test_dir() + "/two-" + optimizer);
      quiet(run("one-" + optimizer, optimizer, 16, false));
    }
    dist::barrier("test");
    const train::TrainResult two = quiet(run("two-" + optimizer, optimizer, 8, true));
    REQUIRE(two.history.size() == 2);
    if (world.rank != 0) continue;
    const auto one = load_safetensors(test_dir() + "/one-" + optimizer + "/last.safetensors").tensors;
    const auto split = load_safetensors(test_dir() + "/two-" + optimizer + "/last.safetensors").tensors;
    // The initial weights (the trainer seeds, then builds the model).
    manual_seed(5);
    const TensorMap init = train::make_model_for("mlp", data::dataset_info("cifar10"))->state_dict();
    double moved = 0, worst = 0;
    for (const auto& [key, tensor] : init) {
      const std::vector<double> w0 = tensor.to_vector<double>();
      const std::vector<double> a = one.at("model." + key).to_vector<double>();
      const std::vector<double> b = split.at("model." + key).to_vector<double>();
      REQUIRE(a.size() == b.size());
      for (std::size_t i = 0; i < a.size(); ++i) {
        moved = std::max(moved, std::abs(a[i] - w0[i]));
        worst = std::max(worst, std::abs(a[i] - b[i]));
      }
    }
    // Float sums in another order differ in the last bits; the optimizers
    // carry that along. Adam divides by sqrt(<g^2>), which magnifies it for
    // weights whose gradients are near zero; SGD and AdaBayes (SGD-like here)
    // do not.
    INFO("largest move " << moved << ", largest difference " << worst);
    MESSAGE(optimizer << ": largest move " << moved << ", largest difference " << worst);
    CHECK(moved > 0);
    CHECK(worst <= (optimizer == "adam" ? 1e-2 : 1e-4) * moved);
  }
}

TEST_CASE("distributed: with synchronised batchnorm, two ranks of a batchnorm model step as one process") {
  REQUIRE(world.size == 2);
  // The small CNN has two batchnorm layers: with --sync-batchnorm each
  // normalises with the global batch's statistics, as one process does.
  //
  // Four steps, not the ten of the case above: 17 images make a global
  // batch of 16 and one of 1 (rank 0's share empty, its statistics nil) per
  // epoch. Over longer runs the summation order's last bits can tip a
  // near-tie in the max-pools or ReLUs, which sends one element's gradient
  // elsewhere, and later steps carry that on: with seed 8 over ten steps
  // the two runs ended 2.6e-4 apart, and another BLAS kernel or compiler
  // moves such tipping points to other seeds. Four steps leave no room for
  // that (3e-7 to 7e-7 over seeds 1-12), so the bound is tighter.
  auto small_cnn = [](const std::string& name, std::int64_t batch, bool distributed) {
    train::TrainConfig c = run(name, "adabayes", batch, distributed);
    c.model = "small_cnn";
    c.sync_batchnorm = distributed;
    c.subset = 17;
    return c;
  };
  if (world.rank == 0) {
    fs::remove_all(test_dir() + "/bn-one"), fs::remove_all(test_dir() + "/bn-two");
    quiet(small_cnn("bn-one", 16, false));
  }
  dist::barrier("test");
  quiet(small_cnn("bn-two", 8, true));
  if (world.rank != 0) return;
  const auto one = load_safetensors(test_dir() + "/bn-one/last.safetensors").tensors;
  const auto two = load_safetensors(test_dir() + "/bn-two/last.safetensors").tensors;
  double worst = 0, largest = 0;
  for (const auto& [key, tensor] : one) {
    if (key.rfind("model.", 0) != 0 || tensor.dtype() != kFloat32) continue;
    const std::vector<double> a = tensor.to_vector<double>(), b = two.at(key).to_vector<double>();
    for (std::size_t i = 0; i < a.size(); ++i) {
      largest = std::max(largest, std::abs(a[i]));
      worst = std::max(worst, std::abs(a[i] - b[i]));
    }
  }
  MESSAGE("small_cnn, synchronised batchnorm: largest weight or statistic " << largest << ", largest difference "
                                                                            << worst);
  CHECK(worst <= 1e-5 * largest);  // running statistics included
}

TEST_CASE("distributed: a NaN loss on one rank stops every rank, or is skipped by every rank") {
  REQUIRE(world.size == 2);
  // Rank 1 poisons a weight after batch 2, so its batch 3 loss is NaN; the
  // weight gets its value back after batch 3.
  train::TrainOptions options;
  options.on_step = [saved = 0.0](const train::StepInfo& step) mutable {
    if (world.rank != 1 || step.epoch != 1) return;
    Tensor w = step.model.parameters().front();
    NoGradGuard no_grad;
    if (step.batch == 2) saved = w.flatten().slice(0, 0, 1).item(), w.flatten().slice(0, 0, 1).fill_(NAN);
    if (step.batch == 3) w.flatten().slice(0, 0, 1).fill_(saved);
  };
  if (world.rank == 0) fs::remove_all(test_dir() + "/nan-stop"), fs::remove_all(test_dir() + "/nan-skip");
  dist::barrier("test");
  std::string message;
  try {
    quiet(run("nan-stop", "adam", 8, true), options);
  } catch (const train::TrainingDiverged& e) {
    message = e.what();
  }
  CHECK(message.find(world.rank == 1 ? "the loss became NaN at epoch 1, batch 3"
                                     : "the loss became NaN or infinite on another rank at epoch 1, batch 3") !=
        std::string::npos);
  train::TrainConfig skip = run("nan-skip", "adam", 8, true);
  skip.skip_nonfinite = 1;
  const train::TrainResult r = quiet(skip, options);
  REQUIRE(r.history.size() == 2);
  CHECK(r.history[0].skipped_batches == 1);
  CHECK(std::isfinite(r.history[1].train_loss));
}

int main(int argc, char** argv) {
  world = dist::init();
  if (world.rank == 0) {
    fs::create_directories(test_dir());
    test::write_cifar10(test_dir() + "/cifar", 13);
  }
  dist::barrier("writing the test data");
  doctest::Context context(argc, argv);
  const int failed = context.run();
  // Every rank learns whether any failed.
  const std::vector<double> failures = dist::all_reduce_sum(std::vector<double>{failed ? 1.0 : 0.0}, "the test results");
  return failures[0] > 0 ? 1 : 0;
}
