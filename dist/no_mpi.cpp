// A build without MPI: --distributed says so, and how to get one that has it.
#include "core/error.h"
#include "dist/distributed.h"

namespace fluxion::dist {
namespace {

[[noreturn]] void no_mpi() {
  throw InputError(
      "--distributed: this fluxion was built without MPI; apt-get install libopenmpi-dev openmpi-bin (scripts/setup.sh "
      "does) and reconfigure, then launch with mpirun -np N fluxion train --distributed ...");
}

}  // namespace

bool built_with_mpi() { return false; }
bool built_with_nccl() { return false; }
World init() { no_mpi(); }
bool initialized() { return false; }
void set_timeout(double) {}
double timeout() { return 0; }
void all_reduce_sum(const std::vector<Tensor>&, const std::string&) { no_mpi(); }
std::vector<double> all_reduce_sum(std::vector<double>, const std::string&) { no_mpi(); }
void broadcast(const std::vector<Tensor>&, int, const std::string&) { no_mpi(); }
void barrier(const std::string&) { no_mpi(); }

}  // namespace fluxion::dist
