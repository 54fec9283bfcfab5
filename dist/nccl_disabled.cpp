// A build with MPI but without NCCL: CUDA tensors cannot be summed across
// ranks; the message says how to get a build that can.
#include "core/error.h"
#include "dist/distributed.h"
#include "dist/nccl.h"

namespace fluxion::dist {

bool built_with_nccl() { return false; }

void nccl_all_reduce_sum(const std::vector<Tensor>&, Device, const std::string& what, double) {
  throw InputError(detail::concat(
      "--distributed on a GPU needs NCCL, and this fluxion was built without it (", what,
      "); install NCCL where CMake finds it (/usr/local/cuda/lib64, or NCCL_ROOT) and rebuild, or train on the CPU"));
}

}  // namespace fluxion::dist
