//! @file
//! Tensor: a shared handle to a strided view (shape, strides, offset, dtype) of
//! a Storage, plus the autograd fields (requires_grad, grad, grad_fn).
//!
//! Copying a Tensor copies the handle, not the data, as in PyTorch. Methods that
//! compute (views, math) are recorded by autograd and live in autograd/; the
//! in-place methods here (copy_, fill_, add_, ...) are not, and refuse to touch a
//! tensor that autograd is tracking.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <ostream>
#include <type_traits>
#include <vector>

#include "core/device.h"
#include "core/dtype.h"
#include "core/error.h"
#include "core/shape.h"
#include "core/storage.h"

namespace fluxion {

struct Node;

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  Shape shape;
  Strides strides;          ///< in elements
  std::int64_t offset = 0;  ///< in elements, from storage->data()
  DType dtype = DType::float32;
  bool requires_grad = false;
  std::shared_ptr<TensorImpl> grad;  ///< accumulated by backward() for leaves
  std::shared_ptr<Node> grad_fn;     ///< the op that produced this tensor, if tracked
};

/// How to make a tensor: dtype, device, requires_grad. Chainable, as in libtorch:
///   zeros({2, 3}, TensorOptions().dtype(kFloat64).requires_grad(true))
///   zeros({2, 3}, kFloat64)
class TensorOptions {
 public:
  TensorOptions() = default;
  TensorOptions(DType dtype) : dtype_(dtype) {}     // NOLINT: implicit on purpose
  TensorOptions(Device device) : device_(device) {}  // NOLINT: implicit on purpose

  TensorOptions dtype(DType dtype) const { auto o = *this; o.dtype_ = dtype; return o; }
  TensorOptions device(Device device) const { auto o = *this; o.device_ = device; return o; }
  TensorOptions requires_grad(bool on) const { auto o = *this; o.requires_grad_ = on; return o; }
  DType dtype() const { return dtype_; }
  Device device() const { return device_; }
  bool requires_grad() const { return requires_grad_; }

 private:
  DType dtype_ = DType::float32;
  Device device_ = kCPU;
  bool requires_grad_ = false;
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // --- metadata -----------------------------------------------------------
  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return checked().shape; }
  const Strides& strides() const { return checked().strides; }
  std::int64_t offset() const { return checked().offset; }
  std::int64_t dim() const { return static_cast<std::int64_t>(shape().size()); }
  std::int64_t size(std::int64_t dim) const;    ///< negative dims count from the end
  std::int64_t stride(std::int64_t dim) const;
  std::int64_t numel() const { return fluxion::numel(shape()); }
  DType dtype() const { return checked().dtype; }
  Device device() const { return checked().storage->device(); }
  TensorOptions options() const { return TensorOptions(dtype()).device(device()); }
  bool is_contiguous() const;
  const std::shared_ptr<Storage>& storage() const { return checked().storage; }
  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }

  /// Pointer to the first element. T must match dtype(); for backends, tests
  /// and I/O, never layers.
  template <class T>
  T* data() const {
    FLUXION_CHECK(dtype() == dtype_of<T>::value, "Tensor::data: tensor has dtype ", dtype(),
                  " but the requested element type is ", dtype_of<T>::value);
    return static_cast<T*>(storage()->data()) + offset();
  }
  void* raw_data() const;

  // --- autograd -------------------------------------------------------------
  bool requires_grad() const { return checked().requires_grad; }
  /// Marks a leaf as a parameter whose gradient backward() accumulates.
  Tensor& requires_grad_(bool on = true);
  bool is_leaf() const { return checked().grad_fn == nullptr; }
  Tensor grad() const { return Tensor(checked().grad); }
  void set_grad(const Tensor& grad) const;  ///< replaces grad(); undefined clears it
  const std::shared_ptr<Node>& grad_fn() const { return checked().grad_fn; }
  /// Accumulates d(this)/d(leaf) into every leaf's grad(). A non-scalar tensor
  /// needs `gradient` (same shape). The graph is freed afterwards unless
  /// retain_graph is set.
  void backward(const Tensor& gradient = Tensor(), bool retain_graph = false) const;
  /// Same data, cut from the graph: no grad_fn, requires_grad false.
  Tensor detach() const;

  // --- values ---------------------------------------------------------------
  double item() const;  ///< the single element of a one-element tensor
  /// The single element as T; exact for int64 (item() goes through double).
  template <class T>
  T item() const {
    if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double> || std::is_same_v<T, std::int64_t>) {
      FLUXION_CHECK(numel() == 1, "item: expected a tensor with one element, got shape ", to_string(shape()));
      return to_vector<T>()[0];
    } else {
      return static_cast<T>(item());
    }
  }
  template <class T> std::vector<T> to_vector() const;  ///< converted to T, row-major

  // --- copies and conversions (recorded by autograd) --------------------------
  Tensor contiguous() const;
  Tensor clone() const;
  Tensor to(DType dtype) const;
  /// The same values on `device` (this tensor itself when already there);
  /// gradients flow back to this device.
  Tensor to(Device device) const;
  Tensor cpu() const { return to(Device::cpu()); }
  Tensor cuda(int index = 0) const { return to(Device::cuda(index)); }

  // --- views (recorded by autograd; share storage) -----------------------------
  Tensor view(const Shape& shape) const;     ///< needs contiguous data; -1 infers one dim
  Tensor reshape(const Shape& shape) const;  ///< view when possible, else a copy
  Tensor flatten(std::int64_t start_dim = 0, std::int64_t end_dim = -1) const;
  Tensor transpose(std::int64_t dim0, std::int64_t dim1) const;
  Tensor permute(const std::vector<std::int64_t>& dims) const;
  Tensor t() const;  ///< transpose of a 2-D tensor
  /// Elements start, start+step, ... < end along dim (PyTorch's x[..., start:end:step]).
  Tensor slice(std::int64_t dim, std::int64_t start, std::int64_t end, std::int64_t step = 1) const;
  Tensor select(std::int64_t dim, std::int64_t index) const;  ///< removes dim
  Tensor unsqueeze(std::int64_t dim) const;
  Tensor squeeze(std::int64_t dim) const;
  Tensor expand(const Shape& shape) const;  ///< size-1 dims repeat without copying

  // --- math (recorded by autograd; see autograd/ops.h) -------------------------
  Tensor sum() const;
  Tensor sum(const std::vector<std::int64_t>& dims, bool keepdim = false) const;
  Tensor mean() const;
  Tensor mean(const std::vector<std::int64_t>& dims, bool keepdim = false) const;
  Tensor exp() const;
  Tensor log() const;
  Tensor sqrt() const;
  Tensor abs() const;
  Tensor pow(double exponent) const;
  Tensor relu() const;
  Tensor sigmoid() const;
  Tensor tanh() const;
  Tensor matmul(const Tensor& other) const;

  // --- in-place (not recorded; refuse tensors autograd is tracking) ------------
  /// src broadcast to this shape, converted to this dtype; src may be on
  /// another device.
  Tensor& copy_(const Tensor& src);
  Tensor& fill_(double value);
  Tensor& zero_() { return fill_(0.0); }
  Tensor& add_(const Tensor& other);
  Tensor& sub_(const Tensor& other);
  Tensor& mul_(const Tensor& other);
  Tensor& div_(const Tensor& other);
  Tensor& add_(double value);
  Tensor& mul_(double value);
  /// Makes this leaf tensor hold `src`'s data (storage, shape, dtype, device)
  /// while keeping its identity: every handle to it, a module's parameter
  /// list and an optimizer's, sees the change. What Module::to(device) uses.
  /// Its gradient is dropped unless it matches the new shape and device.
  void set_data(const Tensor& src);

 private:
  const TensorImpl& checked() const {
    FLUXION_CHECK(impl_ != nullptr, "Tensor: operation on an undefined tensor");
    return *impl_;
  }
  void check_inplace(const char* op) const;

  std::shared_ptr<TensorImpl> impl_;
};

/// A new tensor with uninitialised memory (used by ops for their outputs).
Tensor empty(const Shape& shape, TensorOptions options = {});
/// A tensor that views `storage` with the given geometry (the building block of views).
Tensor make_view(const Tensor& base, Shape shape, Strides strides, std::int64_t offset);

/// PyTorch-like printing: values, then dtype and requires_grad when not default.
std::ostream& operator<<(std::ostream& out, const Tensor& tensor);

}  // namespace fluxion
