#include "core/version.h"

#include "core/cpu/blas.h"

namespace fluxion {

const char* version() { return FLUXION_VERSION; }
const char* blas_backend() { return cpu::blas_name(); }
bool cuda_enabled() { return FLUXION_WITH_CUDA != 0; }
const char* git_commit() { return FLUXION_GIT_COMMIT; }

}  // namespace fluxion
