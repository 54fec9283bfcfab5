//! @file
//! The CUDA half of dist/distributed.h: gradient sums with NCCL (dist/nccl.cpp,
//! built when CUDA and NCCL are; dist/mpi.cpp calls it for CUDA tensors).
#pragma once

#include <string>
#include <vector>

#include "core/device.h"
#include "core/tensor.h"

namespace fluxion::dist {

/// In place, the sum over ranks of float32 CUDA tensors on `device`, through
/// one flat buffer and ncclAllReduce on Fluxion's stream of that device. The
/// communicator is made on the first call: rank 0's ncclUniqueId goes to the
/// others over MPI. Waits at most `timeout` seconds, then aborts the job.
void nccl_all_reduce_sum(const std::vector<Tensor>& tensors, Device device, const std::string& what, double timeout);

}  // namespace fluxion::dist
