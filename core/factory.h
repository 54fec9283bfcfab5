//! @file
//! Making tensors: constants, ranges, random values, and from C++ values.
//! Random factories draw from default_generator() (see manual_seed) unless a
//! Generator is passed.
#pragma once

#include <initializer_list>
#include <vector>

#include "core/random.h"
#include "core/tensor.h"

namespace fluxion {

Tensor zeros(const Shape& shape, TensorOptions options = {});
Tensor ones(const Shape& shape, TensorOptions options = {});
Tensor full(const Shape& shape, double value, TensorOptions options = {});
Tensor zeros_like(const Tensor& t);
Tensor ones_like(const Tensor& t);
Tensor full_like(const Tensor& t, double value);
Tensor empty_like(const Tensor& t);

/// start, start + step, ... < end. int64 by default, like PyTorch's arange
/// with integer arguments; pass a floating dtype for a floating range.
Tensor arange(double end, TensorOptions options = TensorOptions(kInt64));
Tensor arange(double start, double end, double step = 1.0, TensorOptions options = TensorOptions(kInt64));

/// Uniform in [low, high).
Tensor rand(const Shape& shape, TensorOptions options = {}, Generator* generator = nullptr);
Tensor uniform(const Shape& shape, double low, double high, TensorOptions options = {},
               Generator* generator = nullptr);
/// Normal with mean 0 and standard deviation 1.
Tensor randn(const Shape& shape, TensorOptions options = {}, Generator* generator = nullptr);
/// Integers uniform in [low, high), int64 unless options say otherwise.
Tensor randint(std::int64_t low, std::int64_t high, const Shape& shape,
               TensorOptions options = TensorOptions(kInt64), Generator* generator = nullptr);

/// A 1-D tensor holding `values`, converted to options.dtype():
///   tensor({1.0, 2.0, 3.0})   tensor({0, 2, 1}, kInt64)
Tensor tensor(std::initializer_list<double> values, TensorOptions options = {});
/// A tensor of the given shape holding `values` in row-major order.
Tensor tensor(const std::vector<double>& values, const Shape& shape, TensorOptions options = {});
/// A tensor holding `values` with their own dtype (float32, float64 or int64).
template <class T>
Tensor from_vector(const std::vector<T>& values, const Shape& shape, Device device = kCPU);
/// A zero-dimensional tensor holding one value.
Tensor scalar_tensor(double value, TensorOptions options = {});

}  // namespace fluxion
