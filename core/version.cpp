#include "core/version.h"

#include "core/cpu/blas.h"

namespace fluxion {

const char* version() { return FLUXION_VERSION; }
const char* blas_backend() { return cpu::blas_name(); }
bool cuda_enabled() { return FLUXION_WITH_CUDA != 0; }

}  // namespace fluxion
