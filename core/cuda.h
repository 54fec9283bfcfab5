//! @file
//! The GPU as the user sees it: is there one, how many, how much memory the
//! caching allocator holds, and the explicit settings (TF32, determinism). Safe to call in
//! a build without CUDA: is_available() is then false and device_count() 0.
//!
//!   if (fluxion::cuda::is_available()) model->to(fluxion::Device::cuda());
#pragma once

#include <string>

#include "core/caching_allocator.h"
#include "core/device.h"

namespace fluxion::cuda {

/// The most GPUs one process addresses (cuda:0 to cuda:63).
inline constexpr int kMaxDevices = 64;

/// True when this build has the CUDA backend and a usable GPU and driver.
bool is_available();
/// GPUs visible to this process (0 without a driver, a GPU, or CUDA support).
int device_count();
/// Empty when tensors can live on `device` in this process; otherwise why
/// not: no CUDA in this build, no GPU visible, too few. Every check of a
/// device a user named (--device, cuda:N) reports this reason.
std::string unavailable_reason(Device device);
/// Waits until all work queued on `device` has finished (kernels run
/// asynchronously: time them only after this).
void synchronize(int device = 0);

/// The caching allocator of `device`: bytes in use by tensors, their peak,
/// bytes cached for reuse, and cache hits and misses (fresh cudaMalloc calls).
CachingAllocator::Stats memory_stats(int device = 0);
void reset_peak_memory_stats(int device = 0);
/// Returns every cached block on every device to the driver.
void empty_cache();

/// Whether float32 matmuls and convolutions may use TF32 tensor cores (10-bit
/// mantissa inputs, float32 accumulation), as PyTorch's allow_tf32 flags. On
/// by default (training speed); $FLUXION_ALLOW_TF32=0 starts a program with
/// it off; the parity tests turn it off.
void set_allow_tf32(bool allow);
bool allow_tf32();

/// Whether every CUDA kernel must give the same bits on every run, as
/// PyTorch's use_deterministic_algorithms(True) with cudnn.deterministic:
/// cuDNN convolutions use only the algorithms cuDNN marks deterministic
/// (an error names a convolution that has none), and scatter_add (the
/// backward of index_select and of cross-entropy's pick) sums each
/// destination in index order instead of with atomics. cuBLAS is
/// deterministic already (one stream per device, atomics not allowed). Off
/// by default (speed); `fluxion train --deterministic` turns it on. The CPU
/// backend is deterministic either way, for a given thread count.
void set_deterministic(bool on);
bool deterministic();

}  // namespace fluxion::cuda
