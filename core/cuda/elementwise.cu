// Elementwise kernels: fill, copy (broadcast + dtype conversion), binary and
// unary ops, where. One thread per output element in a grid-stride loop;
// operands are addressed through an Indexer, so any strides work. The binary
// and unary ops' arithmetic is core/elementwise.h's, shared with the CPU; the
// op is a runtime switch inside the kernel (apply_binary, apply_unary):
// every thread takes the same branch, and one kernel per dtype keeps compile
// time down.
#include "core/cuda/common.h"
#include "core/cuda/indexer.h"
#include "core/cuda/kernels.h"

namespace fluxion::cuda {
namespace {

template <int N, class Body>
__global__ void elementwise_kernel(std::int64_t n, Indexer<N> indexer, Body body) {
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    std::int64_t off[N];
    indexer.offsets(i, off);
    body(off);
  }
}

template <int N, class Body>
void launch(const Tensor& out, const std::array<Strides, N>& strides, const char* op, Body body) {
  const std::int64_t n = out.numel();
  if (n == 0) return;
  const int device = out.device().index;
  DeviceGuard guard(device);
  const Indexer<N> indexer = make_indexer<N>(out.shape(), strides, op);
  elementwise_kernel<N><<<blocks_for(n), kThreads, 0, stream(device)>>>(n, indexer, body);
  FLUXION_CUDA_CHECK_LAUNCH();
}

void check_cuda(const char* op, std::initializer_list<const Tensor*> tensors) {
  const Device device = (*tensors.begin())->device();
  for (const Tensor* t : tensors)
    FLUXION_CHECK(t->device().is_cuda() && t->device() == device, op,
                  ": expected every tensor on one CUDA device, got ", device, " and ", t->device());
}

// --- bodies (device functors: one per kernel shape) ---------------------------------

template <class T>
struct FillBody {
  T* out;
  T value;
  __device__ void operator()(const std::int64_t* off) const { out[off[0]] = value; }
};

template <class Out, class In>
struct CopyBody {
  Out* out;
  const In* in;
  __device__ void operator()(const std::int64_t* off) const { out[off[0]] = static_cast<Out>(in[off[1]]); }
};

template <class T>
struct BinaryBody {
  BinaryOp op;
  T* out;
  const T* a;
  const T* b;
  __device__ void operator()(const std::int64_t* off) const { out[off[0]] = apply_binary(op, a[off[1]], b[off[2]]); }
};

template <class T>
struct UnaryBody {
  UnaryOp op;
  UnaryParams params;
  T* out;
  const T* a;
  __device__ void operator()(const std::int64_t* off) const { out[off[0]] = apply_unary(op, a[off[1]], params); }
};

template <class T>
struct WhereBody {
  T* out;
  const T* cond;
  const T* a;
  const T* b;
  __device__ void operator()(const std::int64_t* off) const {
    out[off[0]] = cond[off[1]] != T(0) ? a[off[2]] : b[off[3]];
  }
};

}  // namespace

void fill(const Tensor& out, double value) {
  check_cuda("fill", {&out});
  visit_dtype(out.dtype(), [&]<class T>() {
    launch<1>(out, {out.strides()}, "fill", FillBody<T>{out.data<T>(), static_cast<T>(value)});
  });
}

void copy(const Tensor& src, const Tensor& dst) {
  check_cuda("copy", {&src, &dst});
  FLUXION_CHECK(src.device() == dst.device(), "copy: ", src.device(), " to ", dst.device(),
                " goes through copy_between_devices");
  visit_dtype(dst.dtype(), [&]<class Out>() {
    visit_dtype(src.dtype(), [&]<class In>() {
      launch<2>(dst, {dst.strides(), broadcast_strides(src, dst.shape())}, "copy",
                CopyBody<Out, In>{dst.data<Out>(), src.data<In>()});
    });
  });
}

void binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) {
  check_cuda("binary op", {&a, &b, &out});
  check_op_dtype(op, out.dtype());
  visit_dtype(out.dtype(), [&]<class T>() {
    launch<3>(out, {out.strides(), broadcast_strides(a, out.shape()), broadcast_strides(b, out.shape())}, "binary op",
              BinaryBody<T>{op, out.data<T>(), a.data<T>(), b.data<T>()});
  });
}

void unary(UnaryOp op, const Tensor& a, const Tensor& out, UnaryParams params) {
  check_cuda("unary op", {&a, &out});
  check_op_dtype(op, out.dtype());
  visit_dtype(out.dtype(), [&]<class T>() {
    launch<2>(out, {out.strides(), broadcast_strides(a, out.shape())}, "unary op",
              UnaryBody<T>{op, params, out.data<T>(), a.data<T>()});
  });
}

void where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out) {
  check_cuda("where", {&cond, &a, &b, &out});
  visit_dtype(out.dtype(), [&]<class T>() {
    launch<4>(out,
              {out.strides(), broadcast_strides(cond, out.shape()), broadcast_strides(a, out.shape()),
               broadcast_strides(b, out.shape())},
              "where", WhereBody<T>{out.data<T>(), cond.data<T>(), a.data<T>(), b.data<T>()});
  });
}

}  // namespace fluxion::cuda
