//! @file
//! Where a tensor's memory lives: the CPU, or CUDA device `index`. Ops
//! dispatch on the device type (core/backend.h); the index picks the GPU.
#pragma once

#include <ostream>
#include <string>

namespace fluxion {

enum class DeviceType : unsigned char { cpu = 0, cuda = 1 };
inline constexpr int kNumDeviceTypes = 2;

struct Device {
  DeviceType type = DeviceType::cpu;
  int index = 0;

  static constexpr Device cpu() { return Device{DeviceType::cpu, 0}; }
  static constexpr Device cuda(int index = 0) { return Device{DeviceType::cuda, index}; }

  bool is_cpu() const { return type == DeviceType::cpu; }
  bool is_cuda() const { return type == DeviceType::cuda; }
  bool operator==(const Device&) const = default;
};

inline constexpr Device kCPU{DeviceType::cpu, 0};

/// "cpu", "cuda" (device 0) or "cuda:N"; throws InputError naming `what`
/// (for example "--device") on anything else. Syntax only: whether that GPU exists
/// is checked where it is first used.
Device parse_device(const std::string& text, const char* what = "device");

inline std::ostream& operator<<(std::ostream& out, Device device) {
  if (device.is_cpu()) return out << "cpu";
  return out << "cuda:" << device.index;
}

}  // namespace fluxion
