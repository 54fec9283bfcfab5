//! @file
//! FLUXION_HOST_DEVICE marks a function that both the CPU code (g++) and the
//! CUDA kernels (nvcc) compile and run: the optimizers' update rules, pooling
//! windows, the strided indexer. One definition, so the two backends cannot
//! drift apart, and the CPU test suite exercises the GPU's arithmetic.
#pragma once

#if defined(__CUDACC__)
#define FLUXION_HOST_DEVICE __host__ __device__
#else
#define FLUXION_HOST_DEVICE
#endif
