#include "core/backend.h"

#include "core/cpu/kernels.h"
#if FLUXION_WITH_CUDA
#include "core/cuda/kernels.h"
#endif

namespace fluxion {

const Backend& backend(Device device) {
  // Built on first use rather than by static registration, so that linking
  // the static library never silently drops a backend.
#if FLUXION_WITH_CUDA
  static const Backend* const table[kNumDeviceTypes] = {&cpu::backend(), &cuda::backend()};
#else
  static const Backend* const table[kNumDeviceTypes] = {&cpu::backend(), nullptr};
#endif
  const Backend* b = table[static_cast<int>(device.type)];
  FLUXION_CHECK(b != nullptr, "no backend for device ", device,
                ": this build of Fluxion was configured without it (see FLUXION_CUDA)");
  return *b;
}

void unsupported_kernel(const char* backend, const char* kernel) {
  throw Error(detail::concat(kernel, ": the ", backend, " backend does not have this kernel"));
}

SumGeometry sum_geometry(const Tensor& a, const Tensor& out) {
  SumGeometry geometry;
  for (std::int64_t d = 0; d < a.dim(); ++d) {
    if (out.shape()[d] == 1 && a.shape()[d] != 1) {
      geometry.reduced_shape.push_back(a.shape()[d]);
      geometry.reduced_a.push_back(a.strides()[d]);
    } else {
      geometry.kept_shape.push_back(a.shape()[d]);
      geometry.kept_a.push_back(a.strides()[d]);
      geometry.kept_out.push_back(out.strides()[d]);
    }
  }
  return geometry;
}

void copy_between_devices(const Tensor& src, const Tensor& dst) {
  if (src.device() == dst.device()) return backend(dst.device()).copy(src, dst);
  // Bring src to dst's device as it is laid out in dst's dtype (a contiguous
  // copy on src's side), then let dst's backend broadcast and scatter it.
  // Each staging copy is skipped when the tensor already has that form.
  Tensor staged = src;
  if (!src.is_contiguous() || src.dtype() != dst.dtype()) {
    staged = empty(src.shape(), TensorOptions(dst.dtype()).device(src.device()));
    backend(src.device()).copy(src, staged);
  }
  const bool direct = dst.is_contiguous() && dst.shape() == src.shape();
  Tensor arrived = direct ? dst : empty(src.shape(), TensorOptions(dst.dtype()).device(dst.device()));
  if (src.device().is_cpu()) {
    backend(dst.device()).copy_from_cpu(staged, arrived);
  } else if (dst.device().is_cpu()) {
    backend(src.device()).copy_to_cpu(staged, arrived);
  } else {  // GPU to GPU: through the host (rare, and never on a training step)
    Tensor host = empty(src.shape(), TensorOptions(dst.dtype()));
    backend(src.device()).copy_to_cpu(staged, host);
    backend(dst.device()).copy_from_cpu(host, arrived);
  }
  if (!direct) backend(dst.device()).copy(arrived, dst);
}

}  // namespace fluxion
