#include "core/tensor.h"

#include "core/backend.h"
#include "core/factory.h"
#include "core/grad_mode.h"

namespace fluxion {

std::int64_t Tensor::size(std::int64_t d) const {
  FLUXION_CHECK(dim() > 0, "size: a 0-d tensor has no dimension ", d);
  return shape()[normalize_dim(d, dim(), "size")];
}
std::int64_t Tensor::stride(std::int64_t d) const {
  FLUXION_CHECK(dim() > 0, "stride: a 0-d tensor has no dimension ", d);
  return strides()[normalize_dim(d, dim(), "stride")];
}

bool Tensor::is_contiguous() const {
  std::int64_t expected = 1;
  for (std::int64_t d = dim() - 1; d >= 0; --d) {
    if (shape()[d] == 1) continue;  // the stride of a size-1 dim never matters
    if (strides()[d] != expected) return false;
    expected *= shape()[d];
  }
  return true;
}

void* Tensor::raw_data() const {
  return static_cast<char*>(storage()->data()) + offset() * static_cast<std::int64_t>(element_size(dtype()));
}

Tensor& Tensor::requires_grad_(bool on) {
  FLUXION_CHECK(!on || is_floating(dtype()), "requires_grad_: only floating-point tensors can require gradients, got ",
                dtype());
  FLUXION_CHECK(is_leaf(), "requires_grad_: can only be set on a leaf tensor (one not produced by a tracked op); "
                           "use detach() first");
  impl_->requires_grad = on;
  return *this;
}

void Tensor::set_grad(const Tensor& grad) const {
  FLUXION_CHECK(!grad.defined() || grad.shape() == shape(), "set_grad: gradient shape ", to_string(grad.shape()),
                " does not match tensor shape ", to_string(shape()));
  FLUXION_CHECK(!grad.defined() || (grad.dtype() == dtype() && grad.device() == device()), "set_grad: gradient is ",
                grad.dtype(), " on ", grad.device(), " but the tensor is ", dtype(), " on ", device());
  checked();
  impl_->grad = grad.impl_ptr();
}

Tensor Tensor::detach() const {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = storage();
  impl->shape = shape();
  impl->strides = strides();
  impl->offset = offset();
  impl->dtype = dtype();
  return Tensor(std::move(impl));
}

double Tensor::item() const {
  FLUXION_CHECK(numel() == 1, "item: expected a tensor with one element, got shape ", to_string(shape()));
  return to_vector<double>()[0];
}

template <class T>
std::vector<T> Tensor::to_vector() const {
  std::vector<T> values(static_cast<std::size_t>(numel()));
  if (values.empty()) return values;
  // The copy gathers the strided elements (and converts them), from
  // whichever device this tensor is on.
  Tensor dst = empty(shape(), TensorOptions(dtype_of<T>::value));
  copy_between_devices(*this, dst);
  const T* p = dst.data<T>();
  std::copy(p, p + values.size(), values.begin());
  return values;
}
template std::vector<float> Tensor::to_vector<float>() const;
template std::vector<double> Tensor::to_vector<double>() const;
template std::vector<std::int64_t> Tensor::to_vector<std::int64_t>() const;

void Tensor::check_inplace(const char* op) const {
  FLUXION_CHECK(!(requires_grad() && is_grad_enabled()), op,
                ": in-place operation on a tensor that requires grad while gradients are being recorded; "
                "wrap it in NoGradGuard (as optimizers do) or use detach()");
  for (std::int64_t d = 0; d < dim(); ++d)
    FLUXION_CHECK(strides()[d] != 0 || shape()[d] <= 1, op,
                  ": more than one element of the written-to tensor refers to a single memory location "
                  "(dimension ", d, " has stride 0, e.g. from expand()); clone() it first");
}

Tensor& Tensor::copy_(const Tensor& src) {
  check_inplace("copy_");
  FLUXION_CHECK(broadcast_shapes(src.shape(), shape(), "copy_") == shape(), "copy_: source shape ",
                to_string(src.shape()), " cannot be broadcast to destination shape ", to_string(shape()));
  copy_between_devices(src, *this);
  storage()->bump_version();
  return *this;
}

void Tensor::set_data(const Tensor& src) {
  FLUXION_CHECK(is_leaf() && src.defined(), "set_data: needs a leaf tensor and a defined source");
  FLUXION_CHECK(!requires_grad() || is_floating(src.dtype()), "set_data: a tensor that requires grad needs a "
                "floating-point source, got ", src.dtype());
  TensorImpl& self = *impl_;
  self.storage = src.storage();
  self.shape = src.shape();
  self.strides = src.strides();
  self.offset = src.offset();
  self.dtype = src.dtype();
  if (self.grad && (self.grad->shape != self.shape || self.grad->storage->device() != src.device() ||
                    self.grad->dtype != self.dtype))
    self.grad.reset();
}

Tensor& Tensor::fill_(double value) {
  check_inplace("fill_");
  backend(device()).fill(*this, value);
  storage()->bump_version();
  return *this;
}

namespace {
Tensor& inplace_binary(Tensor& self, BinaryOp op, const Tensor& other, const char* name) {
  FLUXION_CHECK(other.dtype() == self.dtype(), name, ": dtype mismatch: ", self.dtype(), " and ", other.dtype());
  FLUXION_CHECK(other.device() == self.device(), name, ": device mismatch: ", self.device(), " and ", other.device());
  FLUXION_CHECK(broadcast_shapes(self.shape(), other.shape(), name) == self.shape(), name, ": shape ",
                to_string(other.shape()), " cannot be broadcast to the destination shape ", to_string(self.shape()));
  backend(self.device()).binary(op, self, other, self);
  self.storage()->bump_version();
  return self;
}

}  // namespace

Tensor& Tensor::add_(const Tensor& other) { check_inplace("add_"); return inplace_binary(*this, BinaryOp::add, other, "add_"); }
Tensor& Tensor::sub_(const Tensor& other) { check_inplace("sub_"); return inplace_binary(*this, BinaryOp::sub, other, "sub_"); }
Tensor& Tensor::mul_(const Tensor& other) { check_inplace("mul_"); return inplace_binary(*this, BinaryOp::mul, other, "mul_"); }
Tensor& Tensor::div_(const Tensor& other) { check_inplace("div_"); return inplace_binary(*this, BinaryOp::div, other, "div_"); }
Tensor& Tensor::add_(double value) { return add_(scalar_tensor(value, options())); }
Tensor& Tensor::mul_(double value) { return mul_(scalar_tensor(value, options())); }

Tensor empty(const Shape& shape, TensorOptions options) {
  // Sizes are checked before multiplying, so a huge shape is an error, not a wrapped byte count.
  std::uint64_t count = 1;
  const std::uint64_t limit = (std::uint64_t{1} << 62) / element_size(options.dtype());
  for (auto s : shape) {
    FLUXION_CHECK(s >= 0, "empty: negative dimension in shape ", to_string(shape));
    FLUXION_CHECK(s == 0 || count <= limit / static_cast<std::uint64_t>(s), "empty: shape ", to_string(shape),
                  " has too many elements to allocate");
    count *= static_cast<std::uint64_t>(s);
  }
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(static_cast<std::size_t>(numel(shape)) * element_size(options.dtype()),
                                            options.device());
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = options.dtype();
  Tensor t(std::move(impl));
  if (options.requires_grad()) t.requires_grad_(true);
  return t;
}

Tensor make_view(const Tensor& base, Shape shape, Strides strides, std::int64_t offset) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = base.storage();
  impl->shape = std::move(shape);
  impl->strides = std::move(strides);
  impl->offset = offset;
  impl->dtype = base.dtype();
  return Tensor(std::move(impl));
}

}  // namespace fluxion
