// 3x3 stride-1 convolution by Winograd's minimal filtering F(2x2, 3x3)
// (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", 2016).
//
// Each 2x2 block of outputs ("tile") depends on a 4x4 patch d of the input.
// With the weight g of one (output, input) channel pair transformed once to
// U = G g G^T, and the patch to V = B^T d B (both 4x4), the tile is
//   Y = A^T [ sum over input channels of U (.) V ] A
// where (.) is the elementwise product. Over all channels and tiles that sum
// is 16 independent GEMMs, one per position xi of the 4x4 grid:
//   M[xi] [O, tiles] = U[xi] [O, C] @ V[xi] [C, tiles]
// 16 multiplies per 4 outputs instead of 36: the GEMMs do 2.25x fewer flops
// than im2col's, and V (16 values per tile, 4 per input pixel) is less than
// half the memory of an im2col matrix (9 per pixel). The transforms are
// additions only. The input gradient of such a conv is itself one (the
// output gradient convolved with the weight rotated 180 degrees and its
// channels swapped, padded by 2 - pad), so backward-input runs here too.
//
// The batch is processed in chunks of samples, each thread taking whole
// chunks with its own buffers, like the im2col path (core/cpu/conv.cpp),
// which stays the reference: tests compare the two.
#include <algorithm>
#include <map>
#include <mutex>

#include "core/cpu/blas.h"
#include "core/cpu/kernels.h"
#include "core/cpu/small_gemm.h"
#include "core/factory.h"
#include "core/parallel.h"
#include "core/profiler.h"

namespace fluxion::cpu {
namespace {

struct WinogradGeometry {
  std::int64_t n, c, h, w;  // input
  std::int64_t o;           // output channels
  std::int64_t ho, wo;      // output
  std::int64_t pad_h, pad_w;
  std::int64_t tiles_h, tiles_w, tiles;  // 2x2 output tiles per sample
  std::int64_t ph, pw;                   // the zero-padded plane the tiles read: 2 * tiles + 2
  std::int64_t chunk;                    // samples per chunk
};

// The 16 GEMMs' multiply-adds of one pass: 16 per tile and channel pair,
// against 36 for the direct conv's 2x2 outputs (2.25x fewer).
double multiply_adds(const WinogradGeometry& conv) {
  return 16.0 * static_cast<double>(conv.n) * static_cast<double>(conv.tiles) * static_cast<double>(conv.c) *
         static_cast<double>(conv.o);
}

WinogradGeometry geometry(std::int64_t n, std::int64_t c, std::int64_t h, std::int64_t w, std::int64_t o,
                          std::int64_t ho, std::int64_t wo, std::int64_t pad_h, std::int64_t pad_w,
                          std::size_t elem) {
  WinogradGeometry conv{n, c, h, w, o, ho, wo, pad_h, pad_w, 0, 0, 0, 0, 0, 0};
  conv.tiles_h = (ho + 1) / 2, conv.tiles_w = (wo + 1) / 2, conv.tiles = conv.tiles_h * conv.tiles_w;
  conv.ph = 2 * conv.tiles_h + 2, conv.pw = 2 * conv.tiles_w + 2;
  // Enough tiles per chunk for GEMMs that run near peak, while V and M (16
  // values per tile for each input and output channel) stay a few MiB.
  constexpr std::int64_t kTargetTiles = 256;
  constexpr std::int64_t kMaxBytes = 16 << 20;
  const std::int64_t by_tiles = (kTargetTiles + conv.tiles - 1) / conv.tiles;
  const std::int64_t by_bytes = kMaxBytes / std::max<std::int64_t>(1, 16 * (c + o) * conv.tiles * std::int64_t(elem));
  conv.chunk = std::clamp<std::int64_t>(std::min(by_tiles, by_bytes), 1, std::max<std::int64_t>(n, 1));
  return conv;
}

// U[xi][o][c] = (G g G^T)[xi] for weight g = w[o][c] (3x3), G's rows being
// (1, 0, 0), (1/2, 1/2, 1/2), (1/2, -1/2, 1/2), (0, 0, 1). With `rotate`, g
// is the 180-degree rotation of w[c][o] (the input-gradient conv's weight).
template <class T>
void transform_weight(const T* w, std::int64_t o_count, std::int64_t c_count, bool rotate, T* u) {
  const std::int64_t plane = o_count * c_count;
  parallel_for(0, plane, 64, [&](std::int64_t i0, std::int64_t i1) {
    for (std::int64_t i = i0; i < i1; ++i) {
      const std::int64_t o = i / c_count, c = i % c_count;
      T g[3][3];
      for (int r = 0; r < 3; ++r)
        for (int s = 0; s < 3; ++s)
          g[r][s] = rotate ? w[(c * o_count + o) * 9 + (2 - r) * 3 + (2 - s)] : w[(o * c_count + c) * 9 + r * 3 + s];
      T t[4][3];  // G g
      for (int s = 0; s < 3; ++s) {
        t[0][s] = g[0][s];
        t[1][s] = T(0.5) * (g[0][s] + g[1][s] + g[2][s]);
        t[2][s] = T(0.5) * (g[0][s] - g[1][s] + g[2][s]);
        t[3][s] = g[2][s];
      }
      for (int r = 0; r < 4; ++r) {  // (G g) G^T
        T* dst = u + r * 4 * plane + i;
        dst[0 * plane] = t[r][0];
        dst[1 * plane] = T(0.5) * (t[r][0] + t[r][1] + t[r][2]);
        dst[2 * plane] = T(0.5) * (t[r][0] - t[r][1] + t[r][2]);
        dst[3 * plane] = t[r][2];
      }
    }
  });
}

// The leading dimension of V's and M's rows for a chunk of `cols` tiles:
// padded so that the 16 planes a transform reads or writes at once are not a
// power of two apart (which would map them to the same cache sets).
std::int64_t row_stride(std::int64_t cols) { return (cols + 15) / 16 * 16 + 16; }

// The transforms' inner loops, over n elements of unit-stride arrays that
// never overlap (__restrict tells the compiler so, which lets it vectorise).
// B^T's four combinations of rows or columns d0..d3 of a patch (the
// column form reads d0 = a[t], d1 = b[t], d2 = a[t + 1], d3 = b[t + 1]):
//   (d0 - d2, d1 + d2, d2 - d1, d1 - d3)
template <class T>
void bt_combine(std::int64_t n, const T* __restrict d0, const T* __restrict d1, const T* __restrict d2,
                const T* __restrict d3, T* __restrict o0, T* __restrict o1, T* __restrict o2, T* __restrict o3) {
  for (std::int64_t t = 0; t < n; ++t) {
    o0[t] = d0[t] - d2[t];
    o1[t] = d1[t] + d2[t];
    o2[t] = d2[t] - d1[t];
    o3[t] = d1[t] - d3[t];
  }
}

// A^T's two combinations of m0..m3: (m0 + m1 + m2, m1 - m2 - m3).
template <class T>
void at_combine(std::int64_t n, const T* __restrict m0, const T* __restrict m1, const T* __restrict m2,
                const T* __restrict m3, T* __restrict o0, T* __restrict o1) {
  for (std::int64_t t = 0; t < n; ++t) {
    o0[t] = m0[t] + m1[t] + m2[t];
    o1[t] = m1[t] - m2[t] - m3[t];
  }
}

// A's four combinations of a 2-vector (a, b) (the adjoint of A^T, for the
// weight gradient): (a, a + b, a - b, -b).
template <class T>
void a_expand(std::int64_t n, const T* __restrict a, const T* __restrict b, T* __restrict o0, T* __restrict o1,
              T* __restrict o2, T* __restrict o3) {
  for (std::int64_t t = 0; t < n; ++t) {
    o0[t] = a[t];
    o1[t] = a[t] + b[t];
    o2[t] = a[t] - b[t];
    o3[t] = -b[t];
  }
}

// a[t] = src[2 t] and b[t] = src[2 t + 1] for t < pairs: a row split into
// its even and odd columns in one pass (the loads shuffled in registers).
template <class T>
void deinterleave(const T* __restrict src, std::int64_t pairs, T* __restrict a, T* __restrict b) {
  for (std::int64_t t = 0; t < pairs; ++t) {
    a[t] = src[2 * t];
    b[t] = src[2 * t + 1];
  }
}

// A row of w values into a padded row's even and odd columns (padded column
// pc = 2 t or 2 t + 1 holds source column pc - pad). The callers' planes are
// 2 ceil(wo / 2) + 2 >= w + 2 pad columns wide (the input's) or 2 ceil(wo / 2)
// (the output gradient's, pad 0), so every source column lands inside; the
// padding keeps the zeros it was filled with.
template <class T>
void split_row(const T* src, std::int64_t w, std::int64_t pad, T* even, T* odd) {
  // Source column c goes to padded column c + pad: even source columns to
  // the even half when pad is even, else to the odd one.
  T* from_even = (pad % 2 == 0 ? even : odd) + pad / 2;
  T* from_odd = (pad % 2 == 0 ? odd : even) + (pad + 1) / 2;
  deinterleave(src, w / 2, from_even, from_odd);
  if (w % 2 == 1) from_even[w / 2] = src[w - 1];
}

// V[xi][c][s * tiles + t] = (B^T d B)[xi] for the 4x4 patch d of tile t of
// sample n0 + s, B^T's rows being (1, 0, -1, 0), (0, 1, 1, 0), (0, -1, 1, 0),
// (0, 1, 0, -1). Arranged so every loop is unit-stride and long enough to
// vectorise:
//  1. each (channel, sample) plane is copied into a zero-padded buffer with
//     its even and odd columns apart (a tile starting at padded column 2t
//     reads even[t], odd[t], even[t + 1], odd[t + 1]);
//  2. d B along every padded row once (neighbouring tiles share rows), the
//     results kept with even and odd rows apart;
//  3. B^T (d B) over all the plane's tiles in one flat loop per output:
//     tile row ty reads padded rows 2ty..2ty+3, which are even[ty],
//     odd[ty], even[ty + 1], odd[ty + 1].
template <class T>
void transform_input(const T* x, const WinogradGeometry& conv, std::int64_t n0, std::int64_t nb, std::int64_t ld,
                     T* v) {
  const std::int64_t plane = conv.c * ld, tw = conv.tiles_w, half = tw + 1, pairs = conv.tiles_h + 1;
  parallel_for(0, conv.c * nb, 1, [&](std::int64_t i0, std::int64_t i1) {
    // [parity of column][padded row][half] and [j][parity of row][pair][tw].
    std::vector<T> split(static_cast<std::size_t>(2 * conv.ph * half));
    std::vector<T> rows(static_cast<std::size_t>(4 * 2 * pairs * tw));
    for (std::int64_t i = i0; i < i1; ++i) {
      const std::int64_t c = i / nb, s = i % nb;
      const T* src = x + ((n0 + s) * conv.c + c) * conv.h * conv.w;
      T *even = split.data(), *odd = even + conv.ph * half;
      std::fill(split.begin(), split.end(), T(0));
      for (std::int64_t r = 0; r < conv.h; ++r) {
        const std::int64_t pr = r + conv.pad_h;
        split_row(src + r * conv.w, conv.w, conv.pad_w, even + pr * half, odd + pr * half);
      }
      const std::int64_t stride = 2 * pairs * tw;  // between the four column combinations
      for (std::int64_t pr = 0; pr < conv.ph; ++pr) {
        const T *ev = even + pr * half, *od = odd + pr * half;
        T* e = rows.data() + ((pr % 2) * pairs + pr / 2) * tw;
        bt_combine(tw, ev, od, ev + 1, od + 1, e, e + stride, e + 2 * stride, e + 3 * stride);
      }
      T* dst = v + c * ld + s * conv.tiles;
      for (int j = 0; j < 4; ++j) {
        const T* re = rows.data() + j * stride;  // even padded rows, then odd ones
        const T* ro = re + pairs * tw;
        T* v0 = dst + j * plane;
        bt_combine(conv.tiles, re, ro, re + tw, ro + tw, v0, v0 + 4 * plane, v0 + 8 * plane, v0 + 12 * plane);
      }
    }
  });
}

// out tile = A^T m A for m = M[.][o][s * tiles + t], A^T's rows being
// (1, 1, 1, 0) and (0, 1, -1, -1): A^T m in flat loops over the plane's
// tiles, then (A^T m) A into the even and odd output columns of each row;
// tiles hanging over the output's edge write only their inside part.
template <class T>
void transform_output(const T* m, const WinogradGeometry& conv, std::int64_t n0, std::int64_t nb, std::int64_t ld,
                      T* out) {
  const std::int64_t plane = conv.o * ld, tw = conv.tiles_w, tiles = conv.tiles;
  parallel_for(0, conv.o * nb, 1, [&](std::int64_t i0, std::int64_t i1) {
    std::vector<T> rows(static_cast<std::size_t>(8 * tiles));  // (A^T m)[r][j] over the tiles
    std::vector<T> cols(static_cast<std::size_t>(2 * tiles));  // one output row's even and odd columns
    for (std::int64_t i = i0; i < i1; ++i) {
      const std::int64_t o = i / nb, s = i % nb;
      const T* src = m + o * ld + s * tiles;
      for (int j = 0; j < 4; ++j) {
        const T* m0 = src + j * plane;
        T* t0 = rows.data() + j * tiles;
        at_combine(tiles, m0, m0 + 4 * plane, m0 + 8 * plane, m0 + 12 * plane, t0, t0 + 4 * tiles);
      }
      T* dst = out + ((n0 + s) * conv.o + o) * conv.ho * conv.wo;
      for (int r = 0; r < 2; ++r) {
        const T* a0 = rows.data() + 4 * r * tiles;
        T *ye = cols.data(), *yo = ye + tiles;
        at_combine(tiles, a0, a0 + tiles, a0 + 2 * tiles, a0 + 3 * tiles, ye, yo);
        for (std::int64_t ty = 0; ty < conv.tiles_h && 2 * ty + r < conv.ho; ++ty) {
          T* row = dst + (2 * ty + r) * conv.wo;
          const T *e = ye + ty * tw, *od = yo + ty * tw;
          for (std::int64_t tx = 0; tx < conv.wo / 2; ++tx) {
            row[2 * tx] = e[tx];
            row[2 * tx + 1] = od[tx];
          }
          if (conv.wo % 2 == 1) row[conv.wo - 1] = e[tw - 1];
        }
      }
    }
  });
}

// The weight gradient runs the forward's algebra backwards: with
// Y = A^T [U (.) V] A, dL/dU = (A dY A^T) (.) V summed over tiles and
// samples, and dL/dg = G^T (dL/dU) G. Ŷ[xi][o][s * tiles + t] = (A dy A^T)[xi]
// for the 2x2 output-gradient tile dy (zero where the tile hangs over the
// edge), in the same flat loops as transform_input: even and odd columns
// apart, then A along rows, then A along columns.
template <class T>
void transform_grad_output(const T* dy, const WinogradGeometry& conv, std::int64_t n0, std::int64_t nb, std::int64_t ld,
                           T* yhat) {
  const std::int64_t plane = conv.o * ld, tw = conv.tiles_w, th = conv.tiles_h, tiles = conv.tiles;
  parallel_for(0, conv.o * nb, 1, [&](std::int64_t i0, std::int64_t i1) {
    // [parity of column][row 0 .. 2 th)[tw] and [j][parity of row][th][tw].
    std::vector<T> split(static_cast<std::size_t>(2 * 2 * th * tw));
    std::vector<T> rows(static_cast<std::size_t>(4 * 2 * tiles));
    for (std::int64_t i = i0; i < i1; ++i) {
      const std::int64_t o = i / nb, s = i % nb;
      const T* src = dy + ((n0 + s) * conv.o + o) * conv.ho * conv.wo;
      T *even = split.data(), *odd = even + 2 * th * tw;
      std::fill(split.begin(), split.end(), T(0));
      for (std::int64_t r = 0; r < conv.ho; ++r) {
        split_row(src + r * conv.wo, conv.wo, 0, even + r * tw, odd + r * tw);
      }
      for (std::int64_t r = 0; r < 2 * th; ++r) {
        T* e = rows.data() + ((r % 2) * th + r / 2) * tw;
        a_expand(tw, even + r * tw, odd + r * tw, e, e + 2 * tiles, e + 4 * tiles, e + 6 * tiles);
      }
      T* dst = yhat + o * ld + s * tiles;
      for (int j = 0; j < 4; ++j) {
        const T* re = rows.data() + j * 2 * tiles;  // tile rows' first output row, then their second
        T* y0 = dst + j * plane;
        a_expand(tiles, re, re + tiles, y0, y0 + 4 * plane, y0 + 8 * plane, y0 + 12 * plane);
      }
    }
  });
}

// dw[o][c] (3x3) = G^T du G for du = du[.][o][c] (4x4), G^T's rows being
// (1, 1/2, 1/2, 0), (0, 1/2, -1/2, 0), (0, 1/2, 1/2, 1).
template <class T>
void transform_weight_gradient(const T* du, std::int64_t o_count, std::int64_t c_count, T* dw) {
  const std::int64_t plane = o_count * c_count;
  for (std::int64_t i = 0; i < plane; ++i) {
    T u[4][4];
    for (int xi = 0; xi < 16; ++xi) u[xi / 4][xi % 4] = du[xi * plane + i];
    T t[3][4];  // G^T du
    for (int k = 0; k < 4; ++k) {
      t[0][k] = u[0][k] + T(0.5) * (u[1][k] + u[2][k]);
      t[1][k] = T(0.5) * (u[1][k] - u[2][k]);
      t[2][k] = T(0.5) * (u[1][k] + u[2][k]) + u[3][k];
    }
    T* out = dw + i * 9;
    for (int r = 0; r < 3; ++r) {  // (G^T du) G
      out[r * 3 + 0] = t[r][0] + T(0.5) * (t[r][1] + t[r][2]);
      out[r * 3 + 1] = T(0.5) * (t[r][1] - t[r][2]);
      out[r * 3 + 2] = T(0.5) * (t[r][1] + t[r][2]) + t[r][3];
    }
  }
}

// out [N, O, Ho, Wo] = conv of x [N, C, H, W] with the 3x3 weights whose
// transform is u [16, O, C], stride 1, padding (pad_h, pad_w).
template <class T>
void run(const T* x, const T* u, T* out, const WinogradGeometry& conv, const TensorOptions& options) {
  const std::int64_t chunks = (conv.n + conv.chunk - 1) / conv.chunk;
  const std::int64_t grain = chunks >= get_num_threads() ? 1 : chunks;
  const std::int64_t max_ld = row_stride(conv.chunk * conv.tiles);
  // M[xi] [O, cols] = U[xi] [O, C] @ V[xi] [C, cols], U the small operand.
  const bool small = small_gemm_suits(conv.o, conv.c, sizeof(T));
  parallel_for(0, chunks, grain, [&](std::int64_t c0, std::int64_t c1) {
    const Tensor v = empty({16, conv.c, max_ld}, options);
    const Tensor m = empty({16, conv.o, max_ld}, options);
    for (std::int64_t chunk = c0; chunk < c1; ++chunk) {
      const std::int64_t n0 = chunk * conv.chunk, nb = std::min(conv.chunk, conv.n - n0), cols = nb * conv.tiles;
      const std::int64_t ld = row_stride(cols);
      const auto multiply = [&](const T* ux, const T* vx, T* mx) {
        if (small) small_gemm_nn<T>(conv.o, cols, conv.c, ux, conv.c, vx, ld, mx, ld);
        else gemm<T>(false, false, conv.o, cols, conv.c, T(1), ux, conv.c, vx, ld, T(0), mx, ld);
      };
      transform_input(x, conv, n0, nb, ld, v.data<T>());
      for (std::int64_t xi = 0; xi < 16; ++xi)
        multiply(u + xi * conv.o * conv.c, v.data<T>() + xi * conv.c * ld, m.data<T>() + xi * conv.o * ld);
      transform_output(m.data<T>(), conv, n0, nb, ld, out);
    }
  });
}

}  // namespace

bool winograd_applies(std::int64_t channels, std::int64_t out_channels, const Tensor& weight, Conv2dParams p) {
  // Narrow convs (the 3-channel stem) have too few channels for the 16 GEMMs
  // to pay for the transforms; a padding above 2 has no input-gradient conv.
  return weight.size(2) == 3 && weight.size(3) == 3 && p.stride_h == 1 && p.stride_w == 1 && p.dilation_h == 1 &&
         p.dilation_w == 1 && p.groups == 1 && p.pad_h <= 2 && p.pad_w <= 2 && channels >= 16 && out_channels >= 16;
}

void winograd_conv2d(const Tensor& x, const Tensor& weight, const Tensor& out, Conv2dParams p) {
  visit_floating(x.dtype(), "winograd_conv2d", [&]<class T>() {
    const std::int64_t o = weight.size(0), c = weight.size(1);
    const WinogradGeometry conv = geometry(x.size(0), c, x.size(2), x.size(3), o, out.size(2), out.size(3), p.pad_h,
                                        p.pad_w, sizeof(T));
    profiler::add_multiply_adds(multiply_adds(conv));
    const Tensor u = empty({16, o, c}, x.options());
    transform_weight(weight.data<T>(), o, c, false, u.data<T>());
    run(x.data<T>(), u.data<T>(), out.data<T>(), conv, x.options());
  });
}

void winograd_conv2d_backward_input(const Tensor& grad_out, const Tensor& weight, const Tensor& grad_x,
                                    Conv2dParams p) {
  visit_floating(grad_x.dtype(), "winograd_conv2d_backward_input", [&]<class T>() {
    // The conv from grad_out [N, O, Ho, Wo] to grad_x [N, C, H, W]: weight
    // w'[c][o] = w[o][c] rotated, padding 2 - pad.
    const std::int64_t o = weight.size(0), c = weight.size(1);
    const WinogradGeometry conv = geometry(grad_out.size(0), o, grad_out.size(2), grad_out.size(3), c, grad_x.size(2),
                                        grad_x.size(3), 2 - p.pad_h, 2 - p.pad_w, sizeof(T));
    profiler::add_multiply_adds(multiply_adds(conv));
    const Tensor u = empty({16, c, o}, grad_x.options());
    transform_weight(weight.data<T>(), c, o, true, u.data<T>());
    run(grad_out.data<T>(), u.data<T>(), grad_x.data<T>(), conv, grad_x.options());
  });
}

void winograd_conv2d_backward_weight(const Tensor& grad_out, const Tensor& x, const Tensor& grad_weight,
                                     Conv2dParams p) {
  visit_floating(x.dtype(), "winograd_conv2d_backward_weight", [&]<class T>() {
    const std::int64_t o = grad_weight.size(0), c = grad_weight.size(1);
    const WinogradGeometry conv = geometry(x.size(0), c, x.size(2), x.size(3), o, grad_out.size(2), grad_out.size(3),
                                        p.pad_h, p.pad_w, sizeof(T));
    profiler::add_multiply_adds(multiply_adds(conv));
    const std::int64_t chunks = (conv.n + conv.chunk - 1) / conv.chunk;
    const std::int64_t grain = chunks >= get_num_threads() ? 1 : chunks;
    const std::int64_t max_ld = row_stride(conv.chunk * conv.tiles);
    // Each thread's share of dU by its first chunk, summed in chunk order
    // afterwards: the result does not depend on which thread finishes first.
    std::mutex mutex;
    std::map<std::int64_t, Tensor> partials;
    parallel_for(0, chunks, grain, [&](std::int64_t c0, std::int64_t c1) {
      const Tensor v = empty({16, conv.c, max_ld}, x.options());
      const Tensor yhat = empty({16, conv.o, max_ld}, x.options());
      const Tensor du = zeros({16, conv.o, conv.c}, x.options());
      for (std::int64_t chunk = c0; chunk < c1; ++chunk) {
        const std::int64_t n0 = chunk * conv.chunk, nb = std::min(conv.chunk, conv.n - n0), cols = nb * conv.tiles;
        const std::int64_t ld = row_stride(cols);
        transform_input(x.data<T>(), conv, n0, nb, ld, v.data<T>());
        transform_grad_output(grad_out.data<T>(), conv, n0, nb, ld, yhat.data<T>());
        for (std::int64_t xi = 0; xi < 16; ++xi)  // dU[xi] += Ŷ[xi] [O, cols] @ V[xi]^T [cols, C]
          gemm<T>(false, true, conv.o, conv.c, cols, T(1), yhat.data<T>() + xi * conv.o * ld, ld,
                  v.data<T>() + xi * conv.c * ld, ld, T(1), du.data<T>() + xi * conv.o * conv.c, conv.c);
      }
      std::lock_guard<std::mutex> lock(mutex);
      partials.emplace(c0, du);
    });
    Tensor total = partials.begin()->second;
    for (auto it = std::next(partials.begin()); it != partials.end(); ++it) {
      T* acc = total.data<T>();
      const T* part = it->second.data<T>();
      for (std::int64_t i = 0; i < total.numel(); ++i) acc[i] += part[i];
    }
    transform_weight_gradient(total.data<T>(), o, c, grad_weight.data<T>());
  });
}

}  // namespace fluxion::cpu
