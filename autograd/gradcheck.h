//! @file
//! Finite-difference gradient check, reused by the tests of every op and layer.
//!
//! gradcheck(fn, inputs) compares the gradients backward() computes for
//! f = sum(fn(inputs) * r), with r a fixed random tensor (so every output
//! element is tested), against central differences of f with the five-point
//! stencil  f'(x) ~ (8 (f(x+h) - f(x-h)) - (f(x+2h) - f(x-2h))) / 12h,
//! whose error is O(h^4). Inputs must be float64 leaves; those that require
//! grad are checked, element by element, whatever their strides.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "autograd/node.h"

namespace fluxion {

struct GradcheckOptions {
  double step = 1e-4;   ///< h
  double rtol = 1e-6;   ///< an element passes when |analytic - numeric| <= atol + rtol * |numeric|
  double atol = 1e-9;
  std::uint64_t seed = 7;  ///< for the random output weights r
};

struct GradcheckResult {
  bool ok = true;
  /// max over elements of |analytic - numeric| / (|numeric| + atol / rtol): below rtol exactly when ok.
  double max_relative_error = 0.0;
  std::string message;  ///< the worst element, when !ok
  explicit operator bool() const { return ok; }
};

using GradcheckFn = std::function<Tensor(const TensorList& inputs)>;

GradcheckResult gradcheck(const GradcheckFn& fn, const TensorList& inputs, GradcheckOptions options = {});

}  // namespace fluxion
