#include "core/factory.h"

#include <cmath>
#include <cstring>
#include <type_traits>

#include "core/backend.h"

namespace fluxion {
namespace {

// Runs `make(i)` for every element, in order, into a CPU buffer of dtype T,
// then moves the result to its device. Random factories use this so that a
// seed gives the same values whatever the thread count, and the same on a GPU
// as on the CPU.
template <class Make>
Tensor generate(const Shape& shape, TensorOptions options, Make make) {
  Tensor host = empty(shape, TensorOptions(options.dtype()));
  visit_dtype(options.dtype(), [&]<class T>() {
    T* p = host.data<T>();
    for (std::int64_t i = 0, n = host.numel(); i < n; ++i) p[i] = static_cast<T>(make(i));
  });
  Tensor t = host.to(options.device());  // host itself on the CPU
  if (options.requires_grad()) t.requires_grad_(true);
  return t;
}

}  // namespace

Tensor full(const Shape& shape, double value, TensorOptions options) {
  Tensor t = empty(shape, options.requires_grad(false));
  backend(t.device()).fill(t, value);
  if (options.requires_grad()) t.requires_grad_(true);
  return t;
}
Tensor zeros(const Shape& shape, TensorOptions options) { return full(shape, 0.0, options); }
Tensor ones(const Shape& shape, TensorOptions options) { return full(shape, 1.0, options); }
Tensor zeros_like(const Tensor& t) { return zeros(t.shape(), t.options()); }
Tensor ones_like(const Tensor& t) { return ones(t.shape(), t.options()); }
Tensor full_like(const Tensor& t, double value) { return full(t.shape(), value, t.options()); }
Tensor empty_like(const Tensor& t) { return empty(t.shape(), t.options()); }
Tensor scalar_tensor(double value, TensorOptions options) { return full({}, value, options); }

Tensor arange(double end, TensorOptions options) { return arange(0.0, end, 1.0, options); }

Tensor arange(double start, double end, double step, TensorOptions options) {
  FLUXION_CHECK(step != 0.0 && std::isfinite(start) && std::isfinite(end) && std::isfinite(step),
                "arange: expected finite start, end and a non-zero step, got start=", start, " end=", end,
                " step=", step);
  const double count = std::ceil((end - start) / step);
  const auto n = static_cast<std::int64_t>(std::max(0.0, count));
  return generate({n}, options, [&](std::int64_t i) { return start + static_cast<double>(i) * step; });
}

Tensor uniform(const Shape& shape, double low, double high, TensorOptions options, Generator* generator) {
  FLUXION_CHECK(low <= high, "uniform: expected low <= high, got low=", low, " high=", high);
  Generator& gen = generator ? *generator : default_generator();
  return visit_floating(options.dtype(), "uniform", [&]<class T>() {
    // Draw and scale in the output type, so rounding can never reach `high`.
    const T lo = static_cast<T>(low), hi = static_cast<T>(high);
    return generate(shape, options, [&](std::int64_t) {
      const T unit = std::is_same_v<T, float> ? gen.uniform_float() : static_cast<T>(gen.uniform());
      const T value = lo + (hi - lo) * unit;
      return value < hi || lo == hi ? value : std::nextafter(hi, lo);
    });
  });
}

Tensor rand(const Shape& shape, TensorOptions options, Generator* generator) {
  return uniform(shape, 0.0, 1.0, options, generator);
}

Tensor randn(const Shape& shape, TensorOptions options, Generator* generator) {
  FLUXION_CHECK(is_floating(options.dtype()), "randn: expected a floating dtype, got ", options.dtype());
  Generator& gen = generator ? *generator : default_generator();
  return generate(shape, options, [&](std::int64_t) { return gen.normal(); });
}

Tensor randint(std::int64_t low, std::int64_t high, const Shape& shape, TensorOptions options, Generator* generator) {
  FLUXION_CHECK(low < high, "randint: expected low < high, got low=", low, " high=", high);
  Generator& gen = generator ? *generator : default_generator();
  const auto range = static_cast<std::uint64_t>(high - low);
  // Modulo bias is below 2^-40 for any range under 2^24 and irrelevant here.
  return generate(shape, options, [&](std::int64_t) { return static_cast<double>(low + static_cast<std::int64_t>(gen.next_u64() % range)); });
}

Tensor tensor(std::initializer_list<double> values, TensorOptions options) {
  return tensor(std::vector<double>(values), {static_cast<std::int64_t>(values.size())}, options);
}

Tensor tensor(const std::vector<double>& values, const Shape& shape, TensorOptions options) {
  FLUXION_CHECK(static_cast<std::int64_t>(values.size()) == numel(shape), "tensor: ", values.size(),
                " values cannot fill shape ", to_string(shape), " (", numel(shape), " elements)");
  return generate(shape, options, [&](std::int64_t i) { return values[static_cast<std::size_t>(i)]; });
}

template <class T>
Tensor from_vector(const std::vector<T>& values, const Shape& shape, Device device) {
  FLUXION_CHECK(static_cast<std::int64_t>(values.size()) == numel(shape), "from_vector: ", values.size(),
                " values cannot fill shape ", to_string(shape), " (", numel(shape), " elements)");
  Tensor t = empty(shape, TensorOptions(dtype_of<T>::value));
  if (!values.empty()) std::memcpy(t.data<T>(), values.data(), values.size() * sizeof(T));
  return t.to(device);
}
template Tensor from_vector<float>(const std::vector<float>&, const Shape&, Device);
template Tensor from_vector<double>(const std::vector<double>&, const Shape&, Device);
template Tensor from_vector<std::int64_t>(const std::vector<std::int64_t>&, const Shape&, Device);

}  // namespace fluxion
