// dist/distributed.h over MPI (Open MPI). Only the main thread calls MPI
// (MPI_THREAD_FUNNELED): Fluxion's OpenMP threads compute, the main thread
// communicates.
// The C API only (MPI's C++ bindings are deprecated).
#define OMPI_SKIP_MPICXX 1
#include <mpi.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "autograd/ops.h"
#include "core/error.h"
#include "core/grad_mode.h"
#include "dist/distributed.h"
#include "dist/nccl.h"

namespace fluxion::dist {
namespace {

World g_world;
bool g_initialized = false;
double g_timeout = 600;

// Waits for `requests` to finish, at most the timeout; past it, stops every
// rank: a collective that never completes means another rank died or hung,
// and waiting longer helps no one.
void wait_all(std::vector<MPI_Request>& requests, const std::string& what) {
  const auto start = std::chrono::steady_clock::now();
  for (int spins = 0;; ++spins) {
    int done = 0;
    MPI_Testall(static_cast<int>(requests.size()), requests.data(), &done, MPI_STATUSES_IGNORE);
    if (done) return;
    const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (waited > g_timeout) {
      std::fprintf(stderr,
                   "fluxion: error: rank %d of %d: %s waited %.0f s for the other ranks (--collective-timeout): "
                   "a rank has died, hung or is far behind; stopping all ranks\n",
                   g_world.rank, g_world.size, what.c_str(), waited);
      std::fflush(stderr);
      MPI_Abort(MPI_COMM_WORLD, 1);
    }
    // Spin briefly (a step's reduction takes microseconds to milliseconds),
    // then sleep so a long wait does not burn a core.
    if (spins > 1000) std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
}

void finalize_at_exit() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

constexpr std::int64_t kBucketBytes = 4 << 20;

}  // namespace

bool built_with_mpi() { return true; }

World init() {
  if (g_initialized) return g_world;
  int already = 0;
  MPI_Initialized(&already);
  if (!already) {
    int provided = 0;
    MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
    FLUXION_CHECK(provided >= MPI_THREAD_FUNNELED, "MPI: the library does not support MPI_THREAD_FUNNELED");
    std::atexit(finalize_at_exit);
  }
  // Errors come back as codes (checked below), not as a silent abort.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Comm_rank(MPI_COMM_WORLD, &g_world.rank);
  MPI_Comm_size(MPI_COMM_WORLD, &g_world.size);
  MPI_Comm local;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, g_world.rank, MPI_INFO_NULL, &local);
  MPI_Comm_rank(local, &g_world.local_rank);
  MPI_Comm_free(&local);
  g_initialized = true;
  return g_world;
}

bool initialized() { return g_initialized; }

void set_timeout(double seconds) {
  FLUXION_CHECK_INPUT(seconds > 0, "--collective-timeout: expected a positive number of seconds, got ", seconds);
  g_timeout = seconds;
}

double timeout() { return g_timeout; }

void all_reduce_sum(const std::vector<Tensor>& tensors, const std::string& what) {
  FLUXION_CHECK(g_initialized, "dist::all_reduce_sum before dist::init");
  if (tensors.empty() || g_world.size == 1) return;
  NoGradGuard no_grad;
  const Device device = tensors.front().device();
  const DType dtype = tensors.front().dtype();
  for (const Tensor& t : tensors)
    FLUXION_CHECK((dtype == kFloat32 || dtype == kFloat64) && t.dtype() == dtype && t.device() == device &&
                      t.is_contiguous(),
                  "dist::all_reduce_sum: expected contiguous tensors of one floating dtype on one device");
  if (device.is_cuda()) {
    FLUXION_CHECK(dtype == kFloat32, "dist::all_reduce_sum: CUDA tensors must be float32");
    return nccl_all_reduce_sum(tensors, device, what, g_timeout);
  }
  const MPI_Datatype type = dtype == kFloat32 ? MPI_FLOAT : MPI_DOUBLE;
  const auto element = static_cast<std::int64_t>(element_size(dtype));

  // Buckets of consecutive tensors; each one is sent as soon as it is packed.
  std::vector<std::pair<std::size_t, std::size_t>> ranges;  // [first, last) tensor indices
  std::vector<Tensor> packed;
  std::vector<MPI_Request> requests;
  for (std::size_t first = 0; first < tensors.size();) {
    std::size_t last = first;
    std::int64_t bytes = 0;
    TensorList parts;
    while (last < tensors.size() && (parts.empty() || bytes < kBucketBytes)) {
      parts.push_back(tensors[last].flatten());
      bytes += tensors[last].numel() * element;
      ++last;
    }
    Tensor flat = cat(parts).contiguous();
    requests.emplace_back();
    const int rc = MPI_Iallreduce(MPI_IN_PLACE, flat.raw_data(), static_cast<int>(flat.numel()), type, MPI_SUM,
                                  MPI_COMM_WORLD, &requests.back());
    FLUXION_CHECK(rc == MPI_SUCCESS, "MPI_Iallreduce failed (", what, ")");
    packed.push_back(flat);
    ranges.emplace_back(first, last);
    first = last;
  }
  wait_all(requests, what);
  for (std::size_t b = 0; b < packed.size(); ++b) {
    std::int64_t offset = 0;
    for (std::size_t i = ranges[b].first; i < ranges[b].second; ++i) {
      Tensor target = tensors[i];
      const std::int64_t n = target.numel();
      target.copy_(packed[b].slice(0, offset, offset + n).view(target.shape()));
      offset += n;
    }
  }
}

std::vector<double> all_reduce_sum(std::vector<double> values, const std::string& what) {
  FLUXION_CHECK(g_initialized, "dist::all_reduce_sum before dist::init");
  if (g_world.size == 1 || values.empty()) return values;
  std::vector<MPI_Request> requests(1);
  const int rc = MPI_Iallreduce(MPI_IN_PLACE, values.data(), static_cast<int>(values.size()), MPI_DOUBLE, MPI_SUM,
                                MPI_COMM_WORLD, &requests[0]);
  FLUXION_CHECK(rc == MPI_SUCCESS, "MPI_Iallreduce failed (", what, ")");
  wait_all(requests, what);
  return values;
}

void broadcast(const std::vector<Tensor>& tensors, int root, const std::string& what) {
  FLUXION_CHECK(g_initialized, "dist::broadcast before dist::init");
  if (g_world.size == 1) return;
  NoGradGuard no_grad;
  std::vector<Tensor> hosts;
  std::vector<MPI_Request> requests;
  for (const Tensor& t : tensors) {
    FLUXION_CHECK(t.is_contiguous(), "dist::broadcast: expected contiguous tensors");
    // Through host memory: broadcasts happen once per run or epoch, not per step.
    Tensor host = t.device().is_cuda() ? t.to(Device::cpu()) : t;
    requests.emplace_back();
    const int rc = MPI_Ibcast(host.raw_data(), static_cast<int>(host.numel() * static_cast<std::int64_t>(element_size(host.dtype()))), MPI_BYTE,
                              root, MPI_COMM_WORLD, &requests.back());
    FLUXION_CHECK(rc == MPI_SUCCESS, "MPI_Ibcast failed (", what, ")");
    hosts.push_back(host);
  }
  wait_all(requests, what);
  for (std::size_t i = 0; i < tensors.size(); ++i)
    if (tensors[i].device().is_cuda()) Tensor(tensors[i]).copy_(hosts[i]);
}

void barrier(const std::string& what) {
  FLUXION_CHECK(g_initialized, "dist::barrier before dist::init");
  if (g_world.size == 1) return;
  std::vector<MPI_Request> requests(1);
  MPI_Ibarrier(MPI_COMM_WORLD, &requests[0]);
  wait_all(requests, what);
}

}  // namespace fluxion::dist
