// JSON training configurations (train/config.h): a --config file, and the
// record a run leaves in config.json that --resume reads; each parsed
// configuration is then validated as the trainer would.
#include "fuzz/fuzz_input.h"
#include "train/config.h"
#include "train/trainer.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace fluxion;
  const std::string path = fuzz::write_input("run/config.json", data, size);
  fuzz::expect_input_errors_only([&] { train::validate(train::read_config_file(path, train::TrainConfig())); });
  fuzz::expect_input_errors_only([&] { train::validate(train::read_run_config((fuzz::scratch_dir() / "run").string())); });
  return 0;
}
