#include "core/cpu/blas.h"

#include <sys/resource.h>

#include <cstdlib>
#include <string>

#include <Eigen/Core>

#if FLUXION_USE_OPENBLAS
#include <cblas.h>
#endif

#include "core/error.h"

namespace fluxion::cpu {
namespace {

template <class T>
using RowMajor = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using ConstMap = Eigen::Map<const RowMajor<T>, 0, Eigen::OuterStride<>>;

template <class T>
void eigen_gemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, T alpha, const T* a,
                std::int64_t lda, const T* b, std::int64_t ldb, T beta, T* c, std::int64_t ldc) {
  // op(A) is [m, k]; stored A is [k, m] when transposed.
  ConstMap<T> A(a, trans_a ? k : m, trans_a ? m : k, Eigen::OuterStride<>(lda));
  ConstMap<T> B(b, trans_b ? n : k, trans_b ? k : n, Eigen::OuterStride<>(ldb));
  Eigen::Map<RowMajor<T>, 0, Eigen::OuterStride<>> C(c, m, n, Eigen::OuterStride<>(ldc));
  if (beta == T(0)) C.setZero(); else if (beta != T(1)) C *= beta;
  if (trans_a && trans_b) C.noalias() += alpha * (A.transpose() * B.transpose());
  else if (trans_a) C.noalias() += alpha * (A.transpose() * B);
  else if (trans_b) C.noalias() += alpha * (A * B.transpose());
  else C.noalias() += alpha * (A * B);
}

#if FLUXION_USE_OPENBLAS
// OpenBLAS's GEMM maps a 128 MiB buffer for each thread that calls it, the
// first time it does, and retries a failing mapping forever (its issue #5289):
// under an address-space limit (ulimit -v) that leaves no room for them, the
// program would hang in the middle of training. Eigen's GEMM allocates only
// what a call needs, and fails like any allocation. Whether the room will be
// there when a thread first calls OpenBLAS cannot be known in advance (the
// program's own tensors take from the same limit), so under any limit, or
// when $FLUXION_GEMM says so, GEMMs go to Eigen. Decided once.
bool choose_openblas() {
  if (const char* env = std::getenv("FLUXION_GEMM")) {
    const std::string choice = env;
    FLUXION_CHECK_INPUT(choice == "openblas" || choice == "eigen" || choice == "auto",
                        "FLUXION_GEMM: expected openblas, eigen or auto, got '", choice, "'");
    if (choice != "auto") return choice == "openblas";
  }
  rlimit limit{};
  return getrlimit(RLIMIT_AS, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY;
}

bool use_openblas() {
  static const bool chosen = choose_openblas();
  return chosen;
}
#endif

}  // namespace

#if FLUXION_USE_OPENBLAS
namespace {
// CBLAS names its GEMM by type; one overload each lets gemm<T> below be one body.
void cblas_gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, std::int64_t m, std::int64_t n, std::int64_t k, float alpha,
                const float* a, std::int64_t lda, const float* b, std::int64_t ldb, float beta, float* c,
                std::int64_t ldc) {
  cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
void cblas_gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, std::int64_t m, std::int64_t n, std::int64_t k, double alpha,
                const double* a, std::int64_t lda, const double* b, std::int64_t ldb, double beta, double* c,
                std::int64_t ldc) {
  cblas_dgemm(CblasRowMajor, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
}  // namespace
#endif

template <class T>
void gemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, T alpha, const T* a,
          std::int64_t lda, const T* b, std::int64_t ldb, T beta, T* c, std::int64_t ldc) {
#if FLUXION_USE_OPENBLAS
  if (use_openblas())
    return cblas_gemm(trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha, a,
                      lda, b, ldb, beta, c, ldc);
#endif
  eigen_gemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

template void gemm<float>(bool, bool, std::int64_t, std::int64_t, std::int64_t, float, const float*, std::int64_t,
                          const float*, std::int64_t, float, float*, std::int64_t);
template void gemm<double>(bool, bool, std::int64_t, std::int64_t, std::int64_t, double, const double*, std::int64_t,
                           const double*, std::int64_t, double, double*, std::int64_t);

// OpenBLAS says how it was built to thread: its OpenMP build shares Fluxion's
// OpenMP threads; its pthread build runs a second pool (slower; see CMakeLists.txt).
const char* blas_name() {
#if FLUXION_USE_OPENBLAS
  if (!use_openblas()) return "eigen (FLUXION_GEMM, or an address-space limit, which OpenBLAS's buffers may exceed)";
  switch (openblas_get_parallel()) {
    case 0: return "openblas (sequential)";
    case 1: return "openblas (pthreads)";
    case 2: return "openblas (openmp)";
    default: return "openblas";
  }
#else
  return "eigen";
#endif
}

void set_blas_threads(int n) {
#if FLUXION_USE_OPENBLAS
  use_openblas();  // decided here, on the thread that sets the count, not inside a parallel region
  openblas_set_num_threads(n);
#endif
  Eigen::setNbThreads(n);
}

}  // namespace fluxion::cpu
