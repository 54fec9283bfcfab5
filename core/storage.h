//! @file
//! A reference-counted block of device memory. Tensors are views onto a
//! Storage (shape, strides, offset); several tensors may share one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "core/device.h"

namespace fluxion {

class Storage {
 public:
  /// Allocates `nbytes` on `device` through that device's backend.
  Storage(std::size_t nbytes, Device device);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  std::size_t nbytes() const { return nbytes_; }
  Device device() const { return device_; }
  /// Counts in-place writes, so autograd can tell when a tensor it saved for
  /// backward was changed after it was saved.
  std::uint64_t version() const { return version_; }
  void bump_version() { ++version_; }

 private:
  void* data_ = nullptr;
  std::size_t nbytes_ = 0;
  Device device_;
  std::uint64_t version_ = 0;
};

}  // namespace fluxion
