// The CUDA runtime side of the backend: errors, per-device streams and
// library handles, the caching allocator, and the public core/cuda.h calls.
#include <algorithm>
#include <array>
#include <cstdlib>
#include <string>
#include <atomic>
#include <mutex>
#include <new>

#include "core/cuda.h"
#include "core/cuda/common.h"
#include "core/cuda/kernels.h"

namespace fluxion::cuda {

void throw_cuda_error(const char* call, cudaError_t status, const char* file, int line) {
  throw Error(detail::concat("CUDA error: ", call, " failed with ", cudaGetErrorName(status), " (",
                             cudaGetErrorString(status), ") at ", file, ":", line));
}
void throw_cublas_error(const char* call, cublasStatus_t status, const char* file, int line) {
  throw Error(detail::concat("cuBLAS error: ", call, " failed with ", cublasGetStatusName(status), " (",
                             cublasGetStatusString(status), ") at ", file, ":", line));
}
void throw_cudnn_error(const char* call, cudnnStatus_t status, const char* file, int line) {
  throw Error(detail::concat("cuDNN error: ", call, " failed with ", cudnnGetErrorString(status), " at ", file, ":",
                             line));
}

namespace {

int checked_device_count() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();  // no driver or no GPU: not an error for the caller
    return 0;
  }
  return count;
}

void check_index(int device) {
  const std::string why = unavailable_reason(Device::cuda(device));
  FLUXION_CHECK(why.empty(), "cuda:", device, ": ", why);
}

// Per-device state, created on first use and kept for the process's life
// (destroying handles after main returns races with the driver's teardown).
struct DeviceState {
  std::once_flag once;
  cudaStream_t stream = nullptr;
  cublasHandle_t cublas = nullptr;
  cudnnHandle_t cudnn = nullptr;
  std::atomic<CachingAllocator*> allocator{nullptr};  // read by empty_cache() without the once flag
};
std::array<DeviceState, kMaxDevices>& states() {
  static auto* instance = new std::array<DeviceState, kMaxDevices>();
  return *instance;
}

// nullptr means out of memory (the caching allocator then releases its
// cache and retries); any other failure, e.g. the sticky error a faulting
// kernel leaves behind, is reported as itself.
void* raw_device_malloc(std::size_t nbytes) {
  void* ptr = nullptr;
  const cudaError_t status = cudaMalloc(&ptr, nbytes);
  if (status == cudaErrorMemoryAllocation) {
    cudaGetLastError();  // not sticky: clear it so later calls work
    return nullptr;
  }
  if (status != cudaSuccess) throw_cuda_error("cudaMalloc", status, __FILE__, __LINE__);
  return ptr;
}
void raw_device_free(void* ptr) { cudaFree(ptr); }

DeviceState& state(int device) {
  check_index(device);
  DeviceState& s = states()[static_cast<std::size_t>(device)];
  std::call_once(s.once, [&] {
    DeviceGuard guard(device);
    FLUXION_CUDA_CHECK(cudaStreamCreateWithFlags(&s.stream, cudaStreamNonBlocking));
    FLUXION_CUBLAS_CHECK(cublasCreate(&s.cublas));
    FLUXION_CUBLAS_CHECK(cublasSetStream(s.cublas, s.stream));
    FLUXION_CUDNN_CHECK(cudnnCreate(&s.cudnn));
    FLUXION_CUDNN_CHECK(cudnnSetStream(s.cudnn, s.stream));
    // Every size is cached: cudaMalloc and cudaFree synchronise the device,
    // so after the first step a training loop must not call them at all.
    // 512-byte granularity keeps small tensors from wasting whole pages.
    CachingAllocator::Options options;
    options.min_cached_bytes = 1;
    options.granularity = 512;
    s.allocator = new CachingAllocator(raw_device_malloc, raw_device_free, options);
  });
  return s;
}

// $FLUXION_ALLOW_TF32=0 turns TF32 off for programs that cannot call
// set_allow_tf32 (the fluxion command); anything else keeps the default, on.
bool tf32_default() {
  const char* env = std::getenv("FLUXION_ALLOW_TF32");
  return env == nullptr || std::string(env) != "0";
}
std::atomic<bool> tf32_allowed{tf32_default()};
std::atomic<bool> deterministic_kernels{false};

}  // namespace

DeviceGuard::DeviceGuard(int device) {
  FLUXION_CUDA_CHECK(cudaGetDevice(&previous_));
  if (previous_ != device) {
    FLUXION_CUDA_CHECK(cudaSetDevice(device));
    changed_ = true;
  }
}
DeviceGuard::~DeviceGuard() {
  if (changed_) cudaSetDevice(previous_);
}

cudaStream_t stream(int device) { return state(device).stream; }
cublasHandle_t cublas(int device) { return state(device).cublas; }
cudnnHandle_t cudnn(int device) { return state(device).cudnn; }

void* allocate(std::size_t nbytes, int device) {
  if (nbytes == 0) return nullptr;
  DeviceState& s = state(device);
  DeviceGuard guard(device);
  try {
    return s.allocator.load()->allocate(nbytes);
  } catch (const std::bad_alloc&) {
    const CachingAllocator::Stats st = s.allocator.load()->stats();
    std::size_t free_bytes = 0, total_bytes = 0;
    cudaMemGetInfo(&free_bytes, &total_bytes);
    cudaGetLastError();
    constexpr double kMiB = 1024.0 * 1024.0;
    throw OutOfMemory(detail::concat("CUDA out of memory on cuda:", device, ": tried to allocate ",
                               static_cast<double>(nbytes) / kMiB, " MiB; ", static_cast<double>(st.in_use_bytes) / kMiB,
                               " MiB in use by tensors, ", static_cast<double>(st.cached_bytes) / kMiB,
                               " MiB cached (already returned and retried), ", static_cast<double>(free_bytes) / kMiB,
                               " MiB free of ", static_cast<double>(total_bytes) / kMiB,
                               " MiB on the device. Reduce the batch size or free tensors."));
  }
}

// Called from Storage's destructor, so it must not throw: a tensor freed
// while the process exits, after the CUDA runtime has shut down, is left to
// the driver (which frees everything with the process).
void deallocate(void* ptr, std::size_t nbytes, int device) noexcept {
  if (ptr == nullptr) return;
  int current = 0;
  if (cudaGetDevice(&current) != cudaSuccess || (current != device && cudaSetDevice(device) != cudaSuccess)) {
    cudaGetLastError();
    return;
  }
  try {
    states()[static_cast<std::size_t>(device)].allocator.load()->deallocate(ptr, nbytes);
  } catch (...) {  // the allocator's bookkeeping failed (bad_alloc): leak the block rather than terminate
  }
  if (current != device) cudaSetDevice(current);
}

Scratch::Scratch(std::size_t nbytes, int device) : nbytes_(nbytes), device_(device) {
  ptr_ = cuda::allocate(nbytes, device);
}
Scratch::~Scratch() { cuda::deallocate(ptr_, nbytes_, device_); }

// --- core/cuda.h ---------------------------------------------------------------

int device_count() {
  static const int count = checked_device_count();
  return count;
}
bool is_available() { return device_count() > 0; }

void synchronize(int device) {
  DeviceGuard guard(device);
  FLUXION_CUDA_CHECK(cudaStreamSynchronize(stream(device)));
}

CachingAllocator::Stats memory_stats(int device) { return state(device).allocator.load()->stats(); }
void reset_peak_memory_stats(int device) { state(device).allocator.load()->reset_peak(); }

void empty_cache() {
  for (int d = 0; d < std::min(device_count(), kMaxDevices); ++d) {
    DeviceState& s = states()[static_cast<std::size_t>(d)];
    CachingAllocator* allocator = s.allocator.load();
    if (allocator == nullptr) continue;
    DeviceGuard guard(d);
    allocator->empty_cache();
  }
}

void set_allow_tf32(bool allow) { tf32_allowed = allow; }
bool allow_tf32() { return tf32_allowed; }
void set_deterministic(bool on) { deterministic_kernels = on; }
bool deterministic() { return deterministic_kernels; }

}  // namespace fluxion::cuda
