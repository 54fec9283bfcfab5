#include "core/memory_stats.h"

#include "core/backend.h"

namespace fluxion {

CachingAllocator::Stats memory_stats(Device device) { return backend(device).memory_stats(device.index); }

void reset_peak_memory_stats(Device device) { backend(device).reset_peak_memory_stats(device.index); }

}  // namespace fluxion
