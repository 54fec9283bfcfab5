// Safetensors files (core/safetensors.h) and the training checkpoints and
// model files stored in them (train/checkpoint.h): the input is read as a
// plain safetensors file, as a checkpoint of a small model and its AdaBayes
// state, and as that model's weights. make_seeds.cpp writes the seeds with
// the same model, so the fuzzer starts from files that load.
#include "core/safetensors.h"
#include "fuzz/fuzz_input.h"
#include "fuzz/seed_model.h"
#include "train/checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace fluxion;
  const std::string path = fuzz::write_input("checkpoint.safetensors", data, size);
  fuzz::expect_input_errors_only([&] { (void)load_safetensors(path); });
  fuzz::SeedModel m;
  fuzz::expect_input_errors_only([&] { (void)train::load_checkpoint(path, *m.model, *m.optimizer); });
  fuzz::expect_input_errors_only([&] { train::load_model_weights(path, *m.model); });
  fuzz::expect_input_errors_only([&] { (void)train::read_config_json(path); });
  return 0;
}
