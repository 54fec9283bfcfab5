// gather and scatter_add along one dim: the kernels behind index_select,
// cross_entropy's pick of the target class, and their backward passes.
#include "core/cpu/kernels.h"
#include "core/cpu/strided_loop.h"

namespace fluxion::cpu {
namespace {

// Strides of `t` with dim zeroed: the offset of the row that the index picks
// is added separately.
Strides without_dim(const Tensor& t, std::int64_t dim) {
  Strides s = t.strides();
  s[dim] = 0;
  return s;
}

[[noreturn]] void bad_index(const char* op, std::int64_t value, std::int64_t dim, std::int64_t size) {
  throw Error(detail::concat(op, ": index ", value, " is out of bounds for dimension ", dim, " with size ", size));
}

}  // namespace

void gather(const Tensor& src, std::int64_t dim, const Tensor& index, const Tensor& out) {
  const std::int64_t size = src.shape()[dim], step = src.strides()[dim];
  visit_dtype(src.dtype(), [&]<class T>() {
    const T* ps = src.data<T>();
    const std::int64_t* pi = index.data<std::int64_t>();
    T* po = out.data<T>();
    for_each_row<3>(index.shape(), {out.strides(), index.strides(), without_dim(src, dim)},
                    [&](const std::int64_t* off, std::int64_t n, const std::int64_t* st) {
                      for (std::int64_t i = 0; i < n; ++i) {
                        const std::int64_t j = pi[off[1] + i * st[1]];
                        if (j < 0 || j >= size) bad_index("gather", j, dim, size);
                        po[off[0] + i * st[0]] = ps[off[2] + i * st[2] + j * step];
                      }
                    });
  });
}

void scatter_add(const Tensor& dst, std::int64_t dim, const Tensor& index, const Tensor& src) {
  const std::int64_t size = dst.shape()[dim], step = dst.strides()[dim];
  visit_dtype(dst.dtype(), [&]<class T>() {
    T* pd = dst.data<T>();
    const std::int64_t* pi = index.data<std::int64_t>();
    const T* ps = src.data<T>();
    // Serial: two positions may add into the same destination element.
    const LoopGeometry<3> loop =
        make_geometry<3>(index.shape(), {src.strides(), index.strides(), without_dim(dst, dim)});
    for_each_row_range<3>(loop, 0, numel(index.shape()),
                          [&](const std::int64_t* off, std::int64_t n, const std::int64_t* st) {
                            for (std::int64_t i = 0; i < n; ++i) {
                              const std::int64_t j = pi[off[1] + i * st[1]];
                              if (j < 0 || j >= size) bad_index("scatter_add", j, dim, size);
                              pd[off[2] + i * st[2] + j * step] += ps[off[0] + i * st[0]];
                            }
                          });
  });
}

}  // namespace fluxion::cpu
