// The text files Fluxion reads back: a run's metrics.jsonl (plot/run_metrics.h,
// for `fluxion plot` and `reproduce table1`) and the reference-curve CSV
// (reproduce/table1.h). The input is read as each.
#include "fuzz/fuzz_input.h"
#include "plot/run_metrics.h"
#include "reproduce/table1.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace fluxion;
  fuzz::write_input("run/metrics.jsonl", data, size);
  const std::string csv = fuzz::write_input("curves.csv", data, size);
  fuzz::expect_input_errors_only([&] { (void)plot::read_metrics((fuzz::scratch_dir() / "run").string()); });
  fuzz::expect_input_errors_only([&] { (void)reproduce::read_reference_curves(csv); });
  return 0;
}
