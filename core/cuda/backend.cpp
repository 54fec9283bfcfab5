#include "core/cuda.h"
#include "core/cuda/kernels.h"

namespace fluxion::cuda {

const Backend& backend() {
  static const Backend cuda_backend{.name = "cuda", FLUXION_BACKEND_KERNELS(FLUXION_BACKEND_ENTRY)};
  return cuda_backend;
}

}  // namespace fluxion::cuda
