#include "core/storage.h"

#include <cstdio>
#include <new>

#include "core/backend.h"
#include "core/error.h"

namespace fluxion {

Storage::Storage(std::size_t nbytes, Device device) : nbytes_(nbytes), device_(device) {
  try {
    data_ = backend(device).allocate(nbytes, device.index);
  } catch (const std::bad_alloc&) {
    char size[32];
    std::snprintf(size, sizeof size, "%.1f MiB", static_cast<double>(nbytes) / (1 << 20));
    throw OutOfMemory(detail::concat("out of memory: a tensor of ", size, " on ", device, " could not be allocated"));
  }
}

Storage::~Storage() { backend(device_).deallocate(data_, nbytes_, device_.index); }

}  // namespace fluxion
