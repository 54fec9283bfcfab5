// The CUDA backend's kernels: every entry of the dispatch table, declared
// from its one list (FLUXION_BACKEND_KERNELS in core/backend.h, which
// documents each contract). Own kernels (.cu) for elementwise ops,
// reductions, softmax, indexing and pooling (elementwise.cu, reduce.cu,
// softmax.cu, index.cu, pool.cu); cuBLAS for matmul (matmul.cpp); cuDNN for
// convolution and batch normalisation (conv.cpp, batch_norm.cpp); memory in
// runtime.cpp, the copies to and from the CPU in transfer.cpp. No CUDA
// header here: ops and tests include this without the toolkit's.
#pragma once

#include "core/backend.h"

namespace fluxion::cuda {

const Backend& backend();  // backend.cpp

FLUXION_BACKEND_KERNELS(FLUXION_DECLARE_BACKEND_KERNEL)

}  // namespace fluxion::cuda
