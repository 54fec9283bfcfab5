#include "core/device.h"

#include <charconv>

#include "core/error.h"

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

}  // namespace fluxion
