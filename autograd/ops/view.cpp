// Views share storage with their input and only change shape, strides and
// offset; their backward maps the gradient back to the input's layout.
// contiguous, clone and to_dtype copy.
#include <numeric>

#include "autograd/ops/common.h"

namespace fluxion {
using namespace ops_detail;

namespace {

// Replaces one -1 in `shape` by the size that keeps numel() unchanged.
Shape infer_shape(const Shape& shape, std::int64_t count, const char* op) {
  Shape out = shape;
  std::int64_t known = 1, infer_at = -1;
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (out[i] == -1) {
      FLUXION_CHECK(infer_at < 0, op, ": only one dimension can be -1 in shape ", to_string(shape));
      infer_at = static_cast<std::int64_t>(i);
    } else {
      FLUXION_CHECK(out[i] >= 0, op, ": invalid size ", out[i], " in shape ", to_string(shape));
      known *= out[i];
    }
  }
  if (infer_at >= 0) {
    FLUXION_CHECK(known != 0 && count % known == 0, op, ": shape ", to_string(shape), " is invalid for a tensor of ",
                  count, " elements");
    out[infer_at] = count / known;
  }
  FLUXION_CHECK(numel(out) == count, op, ": shape ", to_string(shape), " is invalid for a tensor of ", count,
                " elements");
  return out;
}

// Records the backward of a view whose gradient is the incoming one reshaped.
Tensor reshape_view(const Tensor& a, const Shape& shape, const char* op) {
  Tensor out = make_view(a, shape, contiguous_strides(shape), a.offset());
  record(out, op, {a}, [in = a.shape()](const Tensor& g) -> TensorList { return {g.reshape(in)}; });
  return out;
}

}  // namespace

Tensor view(const Tensor& a, const Shape& shape) {
  Shape target = infer_shape(shape, a.numel(), "view");
  FLUXION_CHECK(a.is_contiguous(), "view: the tensor is not contiguous (shape ", to_string(a.shape()), ", strides ",
                to_string(a.strides()), "); use reshape() or contiguous() first");
  return reshape_view(a, target, "view");
}

Tensor reshape(const Tensor& a, const Shape& shape) {
  Shape target = infer_shape(shape, a.numel(), "reshape");
  if (target == a.shape()) return a;
  return reshape_view(a.is_contiguous() ? a : contiguous(a), target, "reshape");
}

Tensor permute(const Tensor& a, const std::vector<std::int64_t>& dims) {
  const std::int64_t nd = a.dim();
  FLUXION_CHECK(static_cast<std::int64_t>(dims.size()) == nd, "permute: got ", dims.size(),
                " dims for a tensor with ", nd, " dimensions");
  Shape shape(nd), strides(nd);
  std::vector<std::int64_t> inverse(nd, -1), order(nd);
  for (std::int64_t i = 0; i < nd; ++i) {
    std::int64_t d = normalize_dim(dims[i], nd, "permute");
    order[i] = d;
    FLUXION_CHECK(inverse[d] < 0, "permute: dimension ", dims[i], " appears more than once");
    inverse[d] = i;
    shape[i] = a.shape()[d];
    strides[i] = a.strides()[d];
  }
  Tensor out = make_view(a, shape, strides, a.offset());
  record(out, "permute", {a}, [inverse](const Tensor& g) -> TensorList { return {permute(g, inverse)}; },
         OpAttributes().ints("dims", order));
  return out;
}

Tensor transpose(const Tensor& a, std::int64_t dim0, std::int64_t dim1) {
  if (a.dim() == 0) return a;
  std::vector<std::int64_t> dims(a.dim());
  std::iota(dims.begin(), dims.end(), 0);
  std::swap(dims[normalize_dim(dim0, a.dim(), "transpose")], dims[normalize_dim(dim1, a.dim(), "transpose")]);
  return permute(a, dims);
}

Tensor slice(const Tensor& a, std::int64_t dim, std::int64_t start, std::int64_t end, std::int64_t step) {
  FLUXION_CHECK(a.dim() > 0, "slice: cannot slice a 0-d tensor");
  const std::int64_t d = normalize_dim(dim, a.dim(), "slice");
  FLUXION_CHECK(step > 0, "slice: step must be positive, got ", step);
  const std::int64_t size = a.shape()[d];
  // Python slice rules: negative bounds count from the end; out-of-range
  // bounds are clamped.
  auto clamp_index = [size](std::int64_t i) { return std::clamp<std::int64_t>(i < 0 ? i + size : i, 0, size); };
  start = clamp_index(start);
  end = std::max(start, clamp_index(end));
  Shape shape = a.shape();
  Strides strides = a.strides();
  shape[d] = (end - start + step - 1) / step;
  strides[d] *= step;
  Tensor out = make_view(a, shape, strides, a.offset() + start * a.strides()[d]);
  record(out, "slice", {a}, [in = a.shape(), d, start, end, step](const Tensor& g) -> TensorList {
    Tensor grad = zeros(in, g.options());
    backend(g.device()).copy(g, grad.slice(d, start, end, step));
    return {grad};
  }, OpAttributes().ints("dim", {d}).ints("start", {start}).ints("end", {end}).ints("step", {step}));
  return out;
}

Tensor unsqueeze(const Tensor& a, std::int64_t dim) {
  const std::int64_t nd = a.dim();
  FLUXION_CHECK(dim >= -(nd + 1) && dim <= nd, "unsqueeze: dimension ", dim, " out of range for a tensor with ", nd,
                " dimensions (expected in [", -(nd + 1), ", ", nd, "])");
  const std::int64_t d = dim < 0 ? dim + nd + 1 : dim;
  Shape shape = a.shape();
  Strides strides = a.strides();
  shape.insert(shape.begin() + d, 1);
  strides.insert(strides.begin() + d, d < nd ? a.strides()[d] * a.shape()[d] : 1);
  Tensor out = make_view(a, shape, strides, a.offset());
  record(out, "unsqueeze", {a}, [in = a.shape()](const Tensor& g) -> TensorList { return {g.reshape(in)}; });
  return out;
}

Tensor squeeze(const Tensor& a, std::int64_t dim) {
  if (a.dim() == 0) return a;
  const std::int64_t d = normalize_dim(dim, a.dim(), "squeeze");
  if (a.shape()[d] != 1) return a;  // as in PyTorch: only size-1 dims are removed
  Shape shape = a.shape();
  Strides strides = a.strides();
  shape.erase(shape.begin() + d);
  strides.erase(strides.begin() + d);
  Tensor out = make_view(a, shape, strides, a.offset());
  record(out, "squeeze", {a}, [in = a.shape()](const Tensor& g) -> TensorList { return {g.reshape(in)}; });
  return out;
}

Tensor expand(const Tensor& a, const Shape& shape) {
  FLUXION_CHECK(shape.size() >= a.shape().size(), "expand: cannot expand shape ", to_string(a.shape()), " to ",
                to_string(shape), " (fewer dimensions)");
  const std::size_t lead = shape.size() - a.shape().size();
  Shape target = shape;
  Strides strides(shape.size(), 0);
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i < lead) {
      FLUXION_CHECK(shape[i] >= 0, "expand: invalid size ", shape[i], " for a new leading dimension");
      continue;
    }
    const std::int64_t have = a.shape()[i - lead];
    if (target[i] == -1) target[i] = have;
    FLUXION_CHECK(have == target[i] || have == 1, "expand: cannot expand shape ", to_string(a.shape()), " to ",
                  to_string(shape), " (dimension ", i, ": ", have, " vs ", target[i], ")");
    strides[i] = have == target[i] ? a.strides()[i - lead] : 0;
  }
  if (target == a.shape()) return a;
  Tensor out = make_view(a, target, strides, a.offset());
  record(out, "expand", {a}, [in = a.shape()](const Tensor& g) -> TensorList { return {sum_to(g, in)}; });
  return out;
}

Tensor contiguous(const Tensor& a) { return a.is_contiguous() ? a : clone(a); }

Tensor clone(const Tensor& a) {
  Tensor out = empty(a.shape(), a.options());
  backend(a.device()).copy(a, out);
  record(out, "clone", {a}, [](const Tensor& g) -> TensorList { return {g}; });
  return out;
}

Tensor to_dtype(const Tensor& a, DType dtype) {
  if (a.dtype() == dtype) return a;
  Tensor out = empty(a.shape(), TensorOptions(dtype).device(a.device()));
  backend(a.device()).copy(a, out);
  if (is_floating(dtype))
    record(out, "to", {a}, [from = a.dtype()](const Tensor& g) -> TensorList { return {to_dtype(g, from)}; });
  return out;
}

Tensor to_device(const Tensor& a, Device device) {
  if (a.device() == device) return a;
  Tensor out = empty(a.shape(), TensorOptions(a.dtype()).device(device));
  copy_between_devices(a, out);
  record(out, "to", {a}, [from = a.device()](const Tensor& g) -> TensorList { return {to_device(g, from)}; });
  return out;
}

}  // namespace fluxion
