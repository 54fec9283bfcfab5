// 2-D convolution on the CPU as GEMMs over im2col matrices.
//
// For a chunk of `nb` samples and one group, im2col lays the input patches out
// as a matrix `col` [K = C/g * kh * kw, nb * Ho * Wo]: row (c, i, j) holds, for
// every output position, the input pixel that kernel tap (i, j) of channel c
// sees there (0 in the padding). Then
//   forward          out [O/g, cols]  = W [O/g, K] @ col
//   backward weight  dW  [O/g, K]    += dY [O/g, cols] @ col^T
//   backward input   dcol [K, cols]   = W^T @ dY, scattered back by col2im.
// The batch is lowered in chunks so `col` stays a few MiB (a whole-batch
// im2col of a first-stage ResNet conv is 300 MB) while each GEMM still has
// enough columns (~1024) to run near peak when the images are small.
//
// The three kernels the backend table names (conv2d, conv2d_backward_input,
// conv2d_backward_weight) send 3x3 stride-1 convs with 16+ channels to
// Winograd's algorithm instead (core/cpu/winograd.cpp); this path is the
// reference, and the one every other conv takes.
#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>

#include "core/cpu/blas.h"
#include "core/cpu/kernels.h"
#include "core/factory.h"
#include "core/parallel.h"
#include "core/profiler.h"

namespace fluxion::cpu {
namespace {

struct ConvGeometry {
  std::int64_t n, c, h, w;    // input
  std::int64_t o, kh, kw;     // weight
  std::int64_t ho, wo;        // output
  std::int64_t cg, og, k;     // per group: input channels, output channels, GEMM depth
  std::int64_t spatial;       // ho * wo
  std::int64_t chunk;         // samples lowered together
  bool direct;                // 1x1, stride 1, no padding: the input already is `col`
  Conv2dParams p;
};

// The GEMMs' multiply-adds of one pass (forward, or either gradient): each
// output value is a sum over the group's k = cg * kh * kw inputs.
double multiply_adds(const ConvGeometry& conv) {
  return static_cast<double>(conv.n) * static_cast<double>(conv.o) * static_cast<double>(conv.spatial) *
         static_cast<double>(conv.k);
}

ConvGeometry geometry(const Tensor& x, const Tensor& weight, const Tensor& out, Conv2dParams p, std::size_t elem) {
  ConvGeometry conv{};
  conv.n = x.size(0), conv.c = x.size(1), conv.h = x.size(2), conv.w = x.size(3);
  conv.o = weight.size(0), conv.kh = weight.size(2), conv.kw = weight.size(3);
  conv.ho = out.size(2), conv.wo = out.size(3);
  conv.cg = conv.c / p.groups, conv.og = conv.o / p.groups, conv.k = conv.cg * conv.kh * conv.kw;
  conv.spatial = conv.ho * conv.wo;
  conv.p = p;
  constexpr std::int64_t kTargetColumns = 1024;
  constexpr std::int64_t kMaxColBytes = 8 << 20;
  const std::int64_t by_columns = (kTargetColumns + conv.spatial - 1) / std::max<std::int64_t>(conv.spatial, 1);
  const std::int64_t by_bytes =
      kMaxColBytes / std::max<std::int64_t>(1, conv.spatial * conv.k * static_cast<std::int64_t>(elem));
  conv.chunk = std::clamp<std::int64_t>(std::min(by_columns, by_bytes), 1, std::max<std::int64_t>(conv.n, 1));
  conv.direct = conv.kh == 1 && conv.kw == 1 && p.stride_h == 1 && p.stride_w == 1 && p.pad_h == 0 && p.pad_w == 0;
  if (conv.direct) conv.chunk = 1;  // then col is a view of the input: nothing to lower
  return conv;
}

// col [k, ld] gets the patches of samples [n0, n0 + nb), group `grp`, placed
// at column s * spatial for sample s of the chunk.
template <class T>
void im2col(const T* x, const ConvGeometry& conv, std::int64_t n0, std::int64_t nb, std::int64_t grp, T* col) {
  const std::int64_t ld = nb * conv.spatial, taps = conv.kh * conv.kw;
  parallel_for(0, conv.k, 8, [&](std::int64_t r0, std::int64_t r1) {
    for (std::int64_t r = r0; r < r1; ++r) {
      const std::int64_t c = r / taps, ki = (r % taps) / conv.kw, kj = r % conv.kw;
      const std::int64_t row_off = ki * conv.p.dilation_h - conv.p.pad_h;
      const std::int64_t col_off = kj * conv.p.dilation_w - conv.p.pad_w;
      for (std::int64_t s = 0; s < nb; ++s) {
        const T* plane = x + ((n0 + s) * conv.c + grp * conv.cg + c) * conv.h * conv.w;
        T* dst = col + r * ld + s * conv.spatial;
        for (std::int64_t oh = 0; oh < conv.ho; ++oh, dst += conv.wo) {
          const std::int64_t ih = oh * conv.p.stride_h + row_off;
          if (ih < 0 || ih >= conv.h) {
            std::fill(dst, dst + conv.wo, T(0));
            continue;
          }
          const T* src = plane + ih * conv.w;
          if (conv.p.stride_w == 1) {  // a run of the row, zeros where it hangs over the edges
            const std::int64_t lo = std::clamp<std::int64_t>(-col_off, 0, conv.wo);
            const std::int64_t hi = std::clamp<std::int64_t>(conv.w - col_off, lo, conv.wo);
            std::fill(dst, dst + lo, T(0));
            if (hi > lo) std::copy(src + lo + col_off, src + hi + col_off, dst + lo);
            std::fill(dst + hi, dst + conv.wo, T(0));
          } else {
            for (std::int64_t ow = 0; ow < conv.wo; ++ow) {
              const std::int64_t iw = ow * conv.p.stride_w + col_off;
              dst[ow] = iw >= 0 && iw < conv.w ? src[iw] : T(0);
            }
          }
        }
      }
    }
  });
}

// The adjoint of im2col: dx[...] += dcol[...] for every tap. Each thread owns
// whole input channels, so no two threads write the same element.
template <class T>
void col2im(const T* dcol, const ConvGeometry& conv, std::int64_t n0, std::int64_t nb, std::int64_t grp, T* dx) {
  const std::int64_t ld = nb * conv.spatial, taps = conv.kh * conv.kw;
  parallel_for(0, conv.cg * nb, 1, [&](std::int64_t i0, std::int64_t i1) {
    for (std::int64_t i = i0; i < i1; ++i) {
      const std::int64_t c = i / nb, s = i % nb;
      T* plane = dx + ((n0 + s) * conv.c + grp * conv.cg + c) * conv.h * conv.w;
      for (std::int64_t t = 0; t < taps; ++t) {
        const std::int64_t ki = t / conv.kw, kj = t % conv.kw;
        const std::int64_t row_off = ki * conv.p.dilation_h - conv.p.pad_h;
        const std::int64_t col_off = kj * conv.p.dilation_w - conv.p.pad_w;
        const T* src = dcol + (c * taps + t) * ld + s * conv.spatial;
        for (std::int64_t oh = 0; oh < conv.ho; ++oh, src += conv.wo) {
          const std::int64_t ih = oh * conv.p.stride_h + row_off;
          if (ih < 0 || ih >= conv.h) continue;
          T* dst = plane + ih * conv.w;
          if (conv.p.stride_w == 1) {  // the run of outputs whose tap lands inside the row: a plain vector add
            const std::int64_t lo = std::clamp<std::int64_t>(-col_off, 0, conv.wo);
            const std::int64_t hi = std::clamp<std::int64_t>(conv.w - col_off, lo, conv.wo);
            for (std::int64_t ow = lo; ow < hi; ++ow) dst[ow + col_off] += src[ow];
          } else {
            for (std::int64_t ow = 0; ow < conv.wo; ++ow) {
              const std::int64_t iw = ow * conv.p.stride_w + col_off;
              if (iw >= 0 && iw < conv.w) dst[iw] += src[ow];
            }
          }
        }
      }
    }
  });
}

// Copies rows [o, s * spatial...] of a chunk matrix [og, nb * spatial] to or
// from the NCHW tensor t (channels grp * og onward of samples n0...).
template <class T>
void chunk_to_nchw(const T* m, const ConvGeometry& conv, std::int64_t n0, std::int64_t nb, std::int64_t grp, T* t) {
  for (std::int64_t s = 0; s < nb; ++s)
    for (std::int64_t o = 0; o < conv.og; ++o)
      std::memcpy(t + ((n0 + s) * conv.o + grp * conv.og + o) * conv.spatial,
                  m + o * nb * conv.spatial + s * conv.spatial, sizeof(T) * conv.spatial);
}
template <class T>
void nchw_to_chunk(const T* t, const ConvGeometry& conv, std::int64_t n0, std::int64_t nb, std::int64_t grp, T* m) {
  for (std::int64_t s = 0; s < nb; ++s)
    for (std::int64_t o = 0; o < conv.og; ++o)
      std::memcpy(m + o * nb * conv.spatial + s * conv.spatial,
                  t + ((n0 + s) * conv.o + grp * conv.og + o) * conv.spatial, sizeof(T) * conv.spatial);
}

// Per-thread work buffers for one run over the chunks.
struct Scratch {
  Tensor col;     // [k, chunk * spatial]: im2col, or dcol in backward
  Tensor matrix;  // [og, chunk * spatial]: a chunk's output (or output gradient) in GEMM layout
  Tensor dw;      // [o, k]: this thread's share of the weight gradient
};

// The chunk's `col` matrix for group grp: the input itself when the conv is
// direct (1x1, stride 1, unpadded), else its im2col lowering in scratch.col.
template <class T>
const T* lowered(const T* x, const ConvGeometry& conv, std::int64_t n0, std::int64_t nb, std::int64_t grp,
                 Scratch& scratch) {
  if (conv.direct) return x + (n0 * conv.c + grp * conv.cg) * conv.spatial;
  im2col(x, conv, n0, nb, grp, scratch.col.data<T>());
  return scratch.col.data<T>();
}

// The chunk's output gradient for group grp as a GEMM operand [og, nb * spatial]:
// the NCHW tensor itself for a single sample, else gathered into scratch.matrix.
template <class T>
const T* chunk_matrix(const T* dy, const ConvGeometry& conv, std::int64_t n0, std::int64_t nb, std::int64_t grp,
                      Scratch& scratch) {
  if (nb == 1) return dy + (n0 * conv.o + grp * conv.og) * conv.spatial;
  nchw_to_chunk(dy, conv, n0, nb, grp, scratch.matrix.data<T>());
  return scratch.matrix.data<T>();
}

// The buffers each thread needs; an empty shape means none.
struct ScratchShapes {
  Shape col, matrix, dw;
  TensorOptions options;
};

// col for a lowered chunk, matrix for a chunk of several samples.
ScratchShapes chunk_buffers(const ConvGeometry& conv, const TensorOptions& options) {
  ScratchShapes shapes;
  shapes.options = options;
  if (!conv.direct) shapes.col = {conv.k, conv.chunk * conv.spatial};
  if (conv.chunk > 1) shapes.matrix = {conv.og, conv.chunk * conv.spatial};
  return shapes;
}

// Runs body(n0, nb, scratch) over the batch in chunks of conv.chunk samples.
// With at least as many chunks as threads, each thread takes whole chunks
// with its own buffers and runs its GEMMs single-threaded (OpenBLAS and Eigen
// do inside an OpenMP region): no thread waits on another mid-layer, which
// beats splitting every small GEMM over threads. With fewer chunks (a small
// batch), chunks run in turn and each im2col and GEMM uses every thread.
// finish(first_chunk, scratch) runs once per thread after its last chunk.
template <class Body, class Finish>
void for_each_chunk(const ConvGeometry& conv, const ScratchShapes& shapes, const Body& body, const Finish& finish) {
  const std::int64_t chunks = (conv.n + conv.chunk - 1) / conv.chunk;
  const std::int64_t grain = chunks >= get_num_threads() ? 1 : chunks;
  parallel_for(0, chunks, grain, [&](std::int64_t c0, std::int64_t c1) {
    Scratch scratch;
    if (!shapes.col.empty()) scratch.col = empty(shapes.col, shapes.options);
    if (!shapes.matrix.empty()) scratch.matrix = empty(shapes.matrix, shapes.options);
    if (!shapes.dw.empty()) scratch.dw = zeros(shapes.dw, shapes.options);
    for (std::int64_t c = c0; c < c1; ++c) body(c * conv.chunk, std::min(conv.chunk, conv.n - c * conv.chunk), scratch);
    finish(c0, scratch);
  });
}

}  // namespace

void conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& out, Conv2dParams p) {
  if (out.numel() == 0) return;
  if (winograd_applies(x.size(1), weight.size(0), weight, p)) {
    winograd_conv2d(x, weight, out, p);
  } else {
    conv2d_im2col(x, weight, out, p);
  }
  if (!bias.defined()) return;
  visit_floating(x.dtype(), "conv2d", [&]<class T>() {
    const std::int64_t n = out.size(0), o = out.size(1), spatial = out.size(2) * out.size(3);
    const T* pb = bias.data<T>();
    T* py = out.data<T>();
    parallel_for(0, n * o, 16, [&](std::int64_t i0, std::int64_t i1) {
      for (std::int64_t i = i0; i < i1; ++i) {
        T* row = py + i * spatial;
        const T b = pb[i % o];
        for (std::int64_t j = 0; j < spatial; ++j) row[j] += b;
      }
    });
  });
}

void conv2d_im2col(const Tensor& x, const Tensor& weight, const Tensor& out, Conv2dParams p) {
  if (out.numel() == 0) return;
  visit_floating(x.dtype(), "conv2d", [&]<class T>() {
    const ConvGeometry conv = geometry(x, weight, out, p, sizeof(T));
    profiler::add_multiply_adds(multiply_adds(conv));
    const T* px = x.data<T>();
    const T* pw = weight.data<T>();
    T* py = out.data<T>();
    const ScratchShapes buffers = chunk_buffers(conv, x.options());
    auto body = [&](std::int64_t n0, std::int64_t nb, Scratch& scratch) {
      const std::int64_t cols = nb * conv.spatial;
      for (std::int64_t grp = 0; grp < p.groups; ++grp) {
        const T* col = lowered(px, conv, n0, nb, grp, scratch);
        const T* w = pw + grp * conv.og * conv.k;
        if (nb == 1) {
          gemm<T>(false, false, conv.og, cols, conv.k, T(1), w, conv.k, col, cols, T(0),
                  py + (n0 * conv.o + grp * conv.og) * conv.spatial, cols);
        } else {
          gemm<T>(false, false, conv.og, cols, conv.k, T(1), w, conv.k, col, cols, T(0), scratch.matrix.data<T>(),
                  cols);
          chunk_to_nchw(scratch.matrix.data<T>(), conv, n0, nb, grp, py);
        }
      }
    };
    for_each_chunk(conv, buffers, body, [](std::int64_t, Scratch&) {});
  });
}

void conv2d_backward_input(const Tensor& grad_out, const Tensor& weight, const Tensor& grad_x, Conv2dParams p) {
  if (grad_x.numel() > 0 && grad_out.numel() > 0 && winograd_applies(grad_x.size(1), weight.size(0), weight, p)) {
    winograd_conv2d_backward_input(grad_out, weight, grad_x, p);
  } else {
    conv2d_backward_input_im2col(grad_out, weight, grad_x, p);
  }
}

void conv2d_backward_input_im2col(const Tensor& grad_out, const Tensor& weight, const Tensor& grad_x,
                                  Conv2dParams p) {
  visit_floating(grad_x.dtype(), "conv2d_backward_input", [&]<class T>() {
    const ConvGeometry conv = geometry(grad_x, weight, grad_out, p, sizeof(T));
    profiler::add_multiply_adds(multiply_adds(conv));
    const T* pw = weight.data<T>();
    const T* pdy = grad_out.data<T>();
    T* pdx = grad_x.data<T>();
    if (conv.n == 0 || conv.spatial == 0 || conv.k == 0) {
      std::fill(pdx, pdx + grad_x.numel(), T(0));
      return;
    }
    const ScratchShapes buffers = chunk_buffers(conv, grad_x.options());
    auto body = [&](std::int64_t n0, std::int64_t nb, Scratch& scratch) {
      const std::int64_t cols = nb * conv.spatial;
      // col2im adds into this chunk's input gradient (a direct conv's GEMM writes it).
      const std::int64_t per_sample = conv.c * conv.h * conv.w;
      if (!conv.direct) std::fill(pdx + n0 * per_sample, pdx + (n0 + nb) * per_sample, T(0));
      for (std::int64_t grp = 0; grp < p.groups; ++grp) {
        const T* dy = chunk_matrix(pdy, conv, n0, nb, grp, scratch);
        const T* w = pw + grp * conv.og * conv.k;
        if (conv.direct) {  // dcol is the input gradient itself
          gemm<T>(true, false, conv.k, cols, conv.og, T(1), w, conv.k, dy, cols, T(0),
                  pdx + (n0 * conv.c + grp * conv.cg) * conv.spatial, cols);
        } else {
          T* dcol = scratch.col.data<T>();
          gemm<T>(true, false, conv.k, cols, conv.og, T(1), w, conv.k, dy, cols, T(0), dcol, cols);
          col2im(dcol, conv, n0, nb, grp, pdx);
        }
      }
    };
    for_each_chunk(conv, buffers, body, [](std::int64_t, Scratch&) {});
  });
}

void conv2d_backward_weight(const Tensor& grad_out, const Tensor& x, const Tensor& grad_weight, Conv2dParams p) {
  if (x.numel() > 0 && grad_out.numel() > 0 && winograd_applies(x.size(1), grad_weight.size(0), grad_weight, p)) {
    winograd_conv2d_backward_weight(grad_out, x, grad_weight, p);
  } else {
    conv2d_backward_weight_im2col(grad_out, x, grad_weight, p);
  }
}

void conv2d_backward_weight_im2col(const Tensor& grad_out, const Tensor& x, const Tensor& grad_weight,
                                   Conv2dParams p) {
  visit_floating(x.dtype(), "conv2d_backward_weight", [&]<class T>() {
    const ConvGeometry conv = geometry(x, grad_weight, grad_out, p, sizeof(T));
    profiler::add_multiply_adds(multiply_adds(conv));
    const T* px = x.data<T>();
    const T* pdy = grad_out.data<T>();
    T* pdw = grad_weight.data<T>();
    std::fill(pdw, pdw + grad_weight.numel(), T(0));
    if (conv.n == 0 || conv.spatial == 0 || conv.k == 0) return;
    ScratchShapes buffers = chunk_buffers(conv, x.options());
    buffers.dw = grad_weight.shape();
    auto body = [&](std::int64_t n0, std::int64_t nb, Scratch& scratch) {
      const std::int64_t cols = nb * conv.spatial;
      for (std::int64_t grp = 0; grp < p.groups; ++grp) {
        const T* dy = chunk_matrix(pdy, conv, n0, nb, grp, scratch);
        const T* col = lowered(px, conv, n0, nb, grp, scratch);
        gemm<T>(false, true, conv.og, conv.k, cols, T(1), dy, cols, col, cols, T(1),
                scratch.dw.data<T>() + grp * conv.og * conv.k, conv.k);
      }
    };
    // Each thread's share of the weight gradient, by its first chunk; summed
    // in chunk order afterwards so the result does not depend on which
    // thread finishes first (a resumed run must repeat a run bit for bit).
    std::mutex dw_mutex;
    std::map<std::int64_t, Tensor> partials;
    auto finish = [&](std::int64_t first_chunk, Scratch& scratch) {
      std::lock_guard<std::mutex> lock(dw_mutex);
      partials.emplace(first_chunk, scratch.dw);
    };
    for_each_chunk(conv, buffers, body, finish);
    for (const auto& entry : partials) {
      const T* pp = entry.second.data<T>();
      for (std::int64_t i = 0; i < grad_weight.numel(); ++i) pdw[i] += pp[i];
    }
  });
}

}  // namespace fluxion::cpu
