// Gradient sums of CUDA tensors with NCCL (dist/nccl.h). NCCL moves the data
// GPU to GPU (NVLink, PCIe, InfiniBand) without the host; MPI only carries
// the communicator's unique id at start-up.
#include "dist/nccl.h"

// The C API only (MPI's C++ bindings are deprecated).
#define OMPI_SKIP_MPICXX 1
#include <mpi.h>
#include <nccl.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "autograd/ops.h"
#include "core/cuda/common.h"
#include "core/error.h"
#include "core/grad_mode.h"
#include "dist/distributed.h"

namespace fluxion::dist {
namespace {

ncclComm_t g_comm = nullptr;
int g_comm_device = -1;

void check(ncclResult_t rc, const char* call) {
  FLUXION_CHECK(rc == ncclSuccess, call, " failed: ", ncclGetErrorString(rc));
}

ncclComm_t communicator(int device, const World& world) {
  if (g_comm) {
    FLUXION_CHECK(g_comm_device == device, "dist: NCCL was set up on cuda:", g_comm_device, ", not cuda:", device);
    return g_comm;
  }
  ncclUniqueId id;
  if (world.rank == 0) check(ncclGetUniqueId(&id), "ncclGetUniqueId");
  MPI_Bcast(&id, sizeof id, MPI_BYTE, 0, MPI_COMM_WORLD);
  cuda::DeviceGuard guard(device);  // the communicator belongs to the current device
  check(ncclCommInitRank(&g_comm, world.size, id, world.rank), "ncclCommInitRank");
  g_comm_device = device;
  return g_comm;
}

}  // namespace

bool built_with_nccl() { return true; }

void nccl_all_reduce_sum(const std::vector<Tensor>& tensors, Device device, const std::string& what, double timeout) {
  const World world = init();
  NoGradGuard no_grad;
  ncclComm_t comm = communicator(device.index, world);
  // One flat buffer: one NCCL call per step, whatever the number of tensors.
  TensorList parts;
  for (const Tensor& t : tensors) parts.push_back(t.flatten());
  Tensor flat = cat(parts).contiguous();
  cudaStream_t stream = cuda::stream(device.index);
  check(ncclAllReduce(flat.raw_data(), flat.raw_data(), static_cast<std::size_t>(flat.numel()), ncclFloat32, ncclSum,
                      comm, stream),
        "ncclAllReduce");
  // Wait on the stream, at most `timeout`: a rank that died leaves NCCL
  // waiting for ever, so poll and abort the communicator and the job.
  const auto start = std::chrono::steady_clock::now();
  for (;;) {
    const cudaError_t state = cudaStreamQuery(stream);
    if (state == cudaSuccess) break;
    FLUXION_CHECK(state == cudaErrorNotReady, "CUDA error during ", what, ": ", cudaGetErrorString(state));
    ncclResult_t async = ncclSuccess;
    ncclCommGetAsyncError(comm, &async);
    const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (async != ncclSuccess || waited > timeout) {
      std::fprintf(stderr, "fluxion: error: rank %d of %d: %s (NCCL) %s after %.0f s; stopping all ranks\n",
                   world.rank, world.size, what.c_str(),
                   async != ncclSuccess ? ncclGetErrorString(async) : "waited for the other ranks", waited);
      std::fflush(stderr);
      ncclCommAbort(comm);
      MPI_Abort(MPI_COMM_WORLD, 1);
    }
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
  std::int64_t offset = 0;
  for (const Tensor& t : tensors) {
    const std::int64_t n = t.numel();
    Tensor(t).copy_(flat.slice(0, offset, offset + n).view(t.shape()));
    offset += n;
  }
}

}  // namespace fluxion::dist
