// What this build of Fluxion is: version and configuration, for `fluxion version`.
#pragma once

namespace fluxion {

const char* version();       // "0.1.0"
const char* blas_backend();  // "openblas" or "eigen"
bool cuda_enabled();         // configured with FLUXION_CUDA

}  // namespace fluxion
