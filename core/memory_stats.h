//! @file
//! How much tensor memory a device's caching allocator holds, on any device
//! (PyTorch's torch.cuda.memory_stats, for the CPU as well): what programs
//! such as `fluxion bench` report, without reaching into the dispatch table.
//!
//!   fluxion::reset_peak_memory_stats(device);
//!   ... a training step ...
//!   std::size_t peak = fluxion::memory_stats(device).peak_in_use_bytes;
#pragma once

#include "core/caching_allocator.h"
#include "core/device.h"

namespace fluxion {

/// The figures of `device`'s caching allocator: bytes in use by tensors and
/// their peak, bytes cached for reuse, cache hits and misses. On the CPU they
/// count the blocks of 1 MiB and more (smaller ones are not cached); on a
/// GPU, every block. Throws Error when this build has no backend for the
/// device.
CachingAllocator::Stats memory_stats(Device device);

/// Starts `device`'s peak_in_use_bytes again from the bytes in use now.
void reset_peak_memory_stats(Device device);

}  // namespace fluxion
