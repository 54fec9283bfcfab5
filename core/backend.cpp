#include "core/backend.h"

#include "core/cpu/kernels.h"

namespace fluxion {

const Backend& backend(Device device) {
  // Built on first use rather than by static registration, so that linking
  // the static library never silently drops a backend.
  static const Backend* const table[kNumDeviceTypes] = {&cpu::backend(), nullptr};
  const Backend* b = table[static_cast<int>(device.type)];
  FLUXION_CHECK(b != nullptr, "no backend for device ", device,
                ": this build of Fluxion was configured without it (see FLUXION_CUDA)");
  return *b;
}

}  // namespace fluxion
