//! @file
//! Data-parallel training across processes: `mpirun -np N fluxion train
//! --distributed`. Every rank holds a replica of the model, computes the
//! gradient of its share of each global batch, and the ranks sum their
//! (weighted) gradients before every optimizer step, so all replicas take the
//! same step. On CPU tensors the sums are MPI_Allreduce calls (Open MPI); on
//! CUDA tensors NCCL's, its communicator bootstrapped through MPI (rank 0
//! broadcasts the unique id). Optional at configure time, like CUDA: a build
//! without MPI refuses --distributed with a clear message. docs/distributed.md
//! says what is synchronised and what is not.
//!
//! Every collective waits at most the timeout (set_timeout): a rank that has
//! died or hung then stops the whole job with a message naming the
//! collective, instead of leaving the others waiting for ever.
#pragma once

#include <string>
#include <vector>

#include "core/tensor.h"

namespace fluxion::dist {

/// Whether this build has MPI (FLUXION_MPI), and NCCL for CUDA tensors.
bool built_with_mpi();
bool built_with_nccl();

/// This process's place among the ranks.
struct World {
  int rank = 0, size = 1;
  int local_rank = 0;  ///< among the ranks on this machine: picks its GPU
};

/// Starts MPI on the first call (finalised at exit) and returns this rank's
/// place. InputError when this build has no MPI.
World init();
/// Whether init() has run.
bool initialized();

/// The longest any collective waits for the other ranks before the job is
/// stopped (MPI_Abort). Default 600 s.
void set_timeout(double seconds);
double timeout();

/// In place: every tensor becomes the sum over ranks of that tensor. The
/// tensors must be of one floating dtype (float32; float64 on CPUs),
/// contiguous, on one device, and the same list on
/// every rank. They are packed into buckets of about 4 MB, each reduced as
/// soon as it is packed, so packing overlaps the previous bucket's reduction.
/// `what` names the collective in a timeout message.
void all_reduce_sum(const std::vector<Tensor>& tensors, const std::string& what);

/// Differentiable: a new tensor, the sum over ranks of `x`; its backward sums
/// the incoming gradients over the ranks too (each rank's output depends on
/// every rank's input). Every rank must call it, in the same order, and run
/// backward through it. Before init() (one process): `x` itself.
Tensor all_reduce_sum_differentiable(const Tensor& x);

/// Sums of a few numbers over ranks (losses, counts, flags), in double.
std::vector<double> all_reduce_sum(std::vector<double> values, const std::string& what);

/// In place: every tensor takes rank `root`'s values (any dtype, contiguous).
void broadcast(const std::vector<Tensor>& tensors, int root, const std::string& what);

/// Waits until every rank gets here.
void barrier(const std::string& what);

}  // namespace fluxion::dist
