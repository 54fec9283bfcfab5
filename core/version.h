//! @file
//! What this build of Fluxion is: version and configuration, for `fluxion version`.
#pragma once

namespace fluxion {

const char* version();       ///< "0.1.0"
const char* blas_backend();  ///< "openblas" or "eigen"
bool cuda_enabled();         ///< configured with FLUXION_CUDA
/// The source's git commit when the build was configured ("unknown" outside a
/// git checkout), with "-dirty" when it had uncommitted changes then.
const char* git_commit();

}  // namespace fluxion
