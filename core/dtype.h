//! @file
//! Element types. float32 is the training type; float64 exists so gradient
//! checks are tight; int64 holds labels and indices.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>

#include "core/error.h"

namespace fluxion {

enum class DType : std::uint8_t { float32, float64, int64 };

inline constexpr DType kFloat32 = DType::float32;
inline constexpr DType kFloat64 = DType::float64;
inline constexpr DType kInt64 = DType::int64;

inline std::size_t element_size(DType dtype) {
  return dtype == DType::float32 ? 4 : 8;
}

inline const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::float32: return "float32";
    case DType::float64: return "float64";
    case DType::int64: return "int64";
  }
  return "unknown";
}

inline bool is_floating(DType dtype) { return dtype != DType::int64; }

inline std::ostream& operator<<(std::ostream& out, DType dtype) { return out << dtype_name(dtype); }

/// The C++ type stored for each dtype, and back.
template <class T> struct dtype_of;
template <> struct dtype_of<float> { static constexpr DType value = DType::float32; };
template <> struct dtype_of<double> { static constexpr DType value = DType::float64; };
template <> struct dtype_of<std::int64_t> { static constexpr DType value = DType::int64; };

/// Calls `fn.template operator()<T>()` with T the C++ type of `dtype`, as in
/// `visit_dtype(t.dtype(), [&]<class T>() { ... T* p = t.data<T>(); ... });`
template <class Fn>
decltype(auto) visit_dtype(DType dtype, Fn&& fn) {
  switch (dtype) {
    case DType::float32: return fn.template operator()<float>();
    case DType::float64: return fn.template operator()<double>();
    case DType::int64: return fn.template operator()<std::int64_t>();
  }
  throw Error("visit_dtype: unknown dtype");
}

/// Like visit_dtype, for kernels that only make sense on floating types; `op`
/// names the operation in the error.
template <class Fn>
decltype(auto) visit_floating(DType dtype, const char* op, Fn&& fn) {
  switch (dtype) {
    case DType::float32: return fn.template operator()<float>();
    case DType::float64: return fn.template operator()<double>();
    default: break;
  }
  throw Error(detail::concat(op, ": expected a floating-point tensor (float32 or float64), got ", dtype));
}

}  // namespace fluxion
