// The dispatch table (core/backend.h): every backend compiled in fills every
// entry of FLUXION_BACKEND_KERNELS, and a kernel marked unsupported says
// which backend and kernel when called.
#include <string>
#include <vector>

#include "core/backend.h"
#include "core/cpu/kernels.h"
#if FLUXION_WITH_CUDA
#include "core/cuda/kernels.h"
#endif
#include "helpers.h"

using namespace fluxion;

namespace {

// The entries of `table` that point nowhere, by name.
std::vector<std::string> empty_entries(const Backend& table) {
  std::vector<std::string> empty;
#define FLUXION_CHECK_ENTRY(result, kernel, params) \
  if (table.kernel == nullptr) empty.push_back(#kernel);
  FLUXION_BACKEND_KERNELS(FLUXION_CHECK_ENTRY)
#undef FLUXION_CHECK_ENTRY
  return empty;
}

}  // namespace

TEST_CASE("backend table - every backend compiled in fills every entry of the list") {
  // A missing definition fails to link; this holds the table itself to the list.
  std::vector<const Backend*> tables{&cpu::backend()};
#if FLUXION_WITH_CUDA
  tables.push_back(&cuda::backend());  // the table exists without a GPU; nothing here calls into it
#endif
  for (const Backend* table : tables) {
    CAPTURE(table->name);
    CHECK(empty_entries(*table).empty());
  }
  CHECK(std::string(backend(Device::cpu()).name) == "cpu");
}

TEST_CASE("backend table - a kernel marked unsupported names the backend and the kernel") {
  CHECK_THROWS_WITH_AS(unsupported_kernel("metal", "scatter_add"),
                       "scatter_add: the metal backend does not have this kernel", Error);
}
