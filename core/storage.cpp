#include "core/storage.h"

#include "core/backend.h"

namespace fluxion {

Storage::Storage(std::size_t nbytes, Device device) : nbytes_(nbytes), device_(device) {
  data_ = backend(device).allocate(nbytes, device.index);
}

Storage::~Storage() { backend(device_).deallocate(data_, nbytes_, device_.index); }

}  // namespace fluxion
