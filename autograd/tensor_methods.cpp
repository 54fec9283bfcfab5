// Tensor's computing methods: thin forwards to the ops in autograd/ops.h, so
// `x.sum({1})` and `sum(x, {1})` are the same recorded op.
#include "autograd/ops.h"

namespace fluxion {

Tensor Tensor::contiguous() const { return fluxion::contiguous(*this); }
Tensor Tensor::clone() const { return fluxion::clone(*this); }
Tensor Tensor::to(DType dtype) const { return to_dtype(*this, dtype); }
Tensor Tensor::to(Device device) const { return to_device(*this, device); }

Tensor Tensor::view(const Shape& shape) const { return fluxion::view(*this, shape); }
Tensor Tensor::reshape(const Shape& shape) const { return fluxion::reshape(*this, shape); }
Tensor Tensor::transpose(std::int64_t dim0, std::int64_t dim1) const { return fluxion::transpose(*this, dim0, dim1); }
Tensor Tensor::permute(const std::vector<std::int64_t>& dims) const { return fluxion::permute(*this, dims); }
Tensor Tensor::slice(std::int64_t dim, std::int64_t start, std::int64_t end, std::int64_t step) const {
  return fluxion::slice(*this, dim, start, end, step);
}
Tensor Tensor::unsqueeze(std::int64_t dim) const { return fluxion::unsqueeze(*this, dim); }
Tensor Tensor::squeeze(std::int64_t dim) const { return fluxion::squeeze(*this, dim); }
Tensor Tensor::expand(const Shape& shape) const { return fluxion::expand(*this, shape); }

Tensor Tensor::t() const {
  FLUXION_CHECK(dim() <= 2, "t: expects a tensor with at most 2 dimensions, got shape ", to_string(shape()),
                "; use transpose(dim0, dim1)");
  return dim() < 2 ? *this : transpose(0, 1);
}

Tensor Tensor::flatten(std::int64_t start_dim, std::int64_t end_dim) const {
  if (dim() == 0) return reshape({1});
  const std::int64_t s = normalize_dim(start_dim, dim(), "flatten"), e = normalize_dim(end_dim, dim(), "flatten");
  FLUXION_CHECK(s <= e, "flatten: start_dim ", start_dim, " comes after end_dim ", end_dim);
  Shape target(shape().begin(), shape().begin() + s);
  std::int64_t merged = 1;
  for (std::int64_t d = s; d <= e; ++d) merged *= shape()[d];
  target.push_back(merged);
  target.insert(target.end(), shape().begin() + e + 1, shape().end());
  return reshape(target);
}

Tensor Tensor::select(std::int64_t dim, std::int64_t index) const {
  FLUXION_CHECK(this->dim() > 0, "select: cannot select from a 0-d tensor");
  const std::int64_t d = normalize_dim(dim, this->dim(), "select");
  const std::int64_t size = shape()[d];
  FLUXION_CHECK(index >= -size && index < size, "select: index ", index, " is out of range for dimension ", dim,
                " with size ", size);
  const std::int64_t i = index < 0 ? index + size : index;
  return slice(d, i, i + 1).squeeze(d);
}

Tensor Tensor::sum() const { return fluxion::sum(*this); }
Tensor Tensor::sum(const std::vector<std::int64_t>& dims, bool keepdim) const { return fluxion::sum(*this, dims, keepdim); }
Tensor Tensor::mean() const { return fluxion::mean(*this); }
Tensor Tensor::mean(const std::vector<std::int64_t>& dims, bool keepdim) const { return fluxion::mean(*this, dims, keepdim); }
Tensor Tensor::exp() const { return fluxion::exp(*this); }
Tensor Tensor::log() const { return fluxion::log(*this); }
Tensor Tensor::sqrt() const { return fluxion::sqrt(*this); }
Tensor Tensor::abs() const { return fluxion::abs(*this); }
Tensor Tensor::pow(double exponent) const { return fluxion::pow(*this, exponent); }
Tensor Tensor::relu() const { return fluxion::relu(*this); }
Tensor Tensor::sigmoid() const { return fluxion::sigmoid(*this); }
Tensor Tensor::tanh() const { return fluxion::tanh(*this); }
Tensor Tensor::matmul(const Tensor& other) const { return fluxion::matmul(*this, other); }

}  // namespace fluxion
