#include "core/device.h"

#include <charconv>

#include "core/cuda.h"
#include "core/error.h"
#include "core/version.h"

namespace fluxion {

Device parse_device(const std::string& text, const char* what) {
  if (text == "cpu") return Device::cpu();
  if (text == "cuda") return Device::cuda(0);
  if (text.rfind("cuda:", 0) == 0) {
    const char* begin = text.data() + 5;
    const char* end = text.data() + text.size();
    int index = -1;
    const auto [rest, ec] = std::from_chars(begin, end, index);
    if (ec == std::errc() && rest == end && begin != end && index >= 0 && index < 64) return Device::cuda(index);
  }
  throw InputError(detail::concat(what, ": expected cpu, cuda or cuda:N (N a device number), got '", text, "'"));
}

namespace cuda {

std::string unavailable_reason(Device device) {
  if (device.is_cpu()) return "";
  if (!cuda_enabled())
    return "this build of Fluxion has no CUDA support (configure with FLUXION_CUDA=ON on a machine with nvcc, "
           "cuBLAS and cuDNN)";
  const int count = device_count();
  if (count == 0) return "no CUDA GPU is visible to this process (no driver, no device, or CUDA_VISIBLE_DEVICES hides them)";
  if (device.index >= kMaxDevices) return detail::concat("Fluxion addresses devices 0 to ", kMaxDevices - 1);
  if (device.index < 0 || device.index >= count) return detail::concat("only ", count, " CUDA device(s) are visible");
  return "";
}

}  // namespace cuda
}  // namespace fluxion
