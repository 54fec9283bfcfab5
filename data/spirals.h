//! @file
//! The two-spirals problem: 2-D points on two interleaved spirals, one class
//! each. Small, generated, and not linearly separable: the classic first
//! dataset for a training loop (examples/mlp.cpp) and for checking that an
//! optimizer trains (tests/test_optim.cpp).
#pragma once

#include <cstdint>

#include "core/random.h"
#include "core/tensor.h"

namespace fluxion::data {

struct Spirals {
  Tensor points;  ///< [2n, 2] float32
  Tensor labels;  ///< [2n] int64: 0 for the first spiral, 1 for the second
};

/// n points per spiral, each spiral turning 1.75 times, with Gaussian noise
/// of standard deviation `noise` added to each coordinate.
Spirals make_spirals(std::int64_t n, Generator& generator, double noise = 0.01);

}  // namespace fluxion::data
