// What every file of the CUDA backend shares: checked calls, the stream and
// library handles of each device, and the device guard. Only core/cuda/,
// optim/fused_rules.cu and dist/nccl.cpp include this; everything else sees
// core/cuda.h.
//
// One stream per device carries all of Fluxion's work on it (kernels, cuBLAS,
// cuDNN, copies), so work is ordered without events, and memory freed to the
// caching allocator can be handed out again at once: any later use is queued
// behind every earlier one.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include <cstdint>

#include "core/error.h"

namespace fluxion::cuda {

// Throws fluxion::Error naming the call, the status, file and line.
[[noreturn]] void throw_cuda_error(const char* call, cudaError_t status, const char* file, int line);
[[noreturn]] void throw_cublas_error(const char* call, cublasStatus_t status, const char* file, int line);
[[noreturn]] void throw_cudnn_error(const char* call, cudnnStatus_t status, const char* file, int line);

// The stream, cuBLAS handle and cuDNN handle of `device`, created on first
// use (the handles are bound to the stream).
cudaStream_t stream(int device);
cublasHandle_t cublas(int device);
cudnnHandle_t cudnn(int device);

// Makes `device` current for the guard's lifetime (CUDA's current device is
// per thread); restores the previous one after.
class DeviceGuard {
 public:
  explicit DeviceGuard(int device);
  ~DeviceGuard();
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int previous_ = 0;
  bool changed_ = false;
};

// Launch geometry of a grid-stride loop over n elements: 256 threads a block,
// enough blocks to fill the GPU, never more than needed.
constexpr int kThreads = 256;
inline unsigned blocks_for(std::int64_t n) {
  const std::int64_t blocks = (n + kThreads - 1) / kThreads;
  return static_cast<unsigned>(blocks < 1 ? 1 : (blocks > 65535 * 8 ? 65535 * 8 : blocks));
}

// Scratch device memory from the caching allocator (cuDNN workspaces, error
// flags), freed when the guard ends. Safe to free before the work that uses
// it has run: reuse is queued on the same stream.
class Scratch {
 public:
  Scratch(std::size_t nbytes, int device);
  ~Scratch();
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  void* get() const { return ptr_; }

 private:
  void* ptr_ = nullptr;
  std::size_t nbytes_ = 0;
  int device_ = 0;
};

}  // namespace fluxion::cuda

#define FLUXION_CUDA_CHECK(call)                                                                 \
  do {                                                                                           \
    const cudaError_t fluxion_status_ = (call);                                                  \
    if (fluxion_status_ != cudaSuccess)                                                          \
      ::fluxion::cuda::throw_cuda_error(#call, fluxion_status_, __FILE__, __LINE__);             \
  } while (0)

#define FLUXION_CUBLAS_CHECK(call)                                                               \
  do {                                                                                           \
    const cublasStatus_t fluxion_status_ = (call);                                               \
    if (fluxion_status_ != CUBLAS_STATUS_SUCCESS)                                                \
      ::fluxion::cuda::throw_cublas_error(#call, fluxion_status_, __FILE__, __LINE__);           \
  } while (0)

#define FLUXION_CUDNN_CHECK(call)                                                                \
  do {                                                                                           \
    const cudnnStatus_t fluxion_status_ = (call);                                                \
    if (fluxion_status_ != CUDNN_STATUS_SUCCESS)                                                 \
      ::fluxion::cuda::throw_cudnn_error(#call, fluxion_status_, __FILE__, __LINE__);            \
  } while (0)

// After a kernel launch: a bad launch configuration shows up here, not later.
#define FLUXION_CUDA_CHECK_LAUNCH() FLUXION_CUDA_CHECK(cudaGetLastError())
