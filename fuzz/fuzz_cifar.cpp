// CIFAR-10 and CIFAR-100 binary files (data/cifar.h): the input is both
// datasets' test file, read as each.
#include "data/cifar.h"
#include "fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace fluxion;
  const std::string c10 = fuzz::write_input("cifar/10/test_batch.bin", data, size);
  const std::string c100 = fuzz::write_input("cifar/100/test.bin", data, size);
  fuzz::expect_input_errors_only([&] { (void)data::read_cifar10((fuzz::scratch_dir() / "cifar/10").string(), false); });
  fuzz::expect_input_errors_only([&] { (void)data::read_cifar100((fuzz::scratch_dir() / "cifar/100").string(), false); });
  return 0;
}
