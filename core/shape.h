//! @file
//! Shapes and strides, and the broadcasting rules shared by every op.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace fluxion {

using Shape = std::vector<std::int64_t>;
using Strides = std::vector<std::int64_t>;

/// Number of elements of a tensor of this shape (1 for a scalar shape {}).
std::int64_t numel(const Shape& shape);

/// Row-major strides, in elements, for a contiguous tensor of this shape.
Strides contiguous_strides(const Shape& shape);

/// "[2, 3, 4]"
std::string to_string(const Shape& shape);

/// Maps a possibly negative dimension into [0, ndim); throws naming `op` when
/// out of range.
std::int64_t normalize_dim(std::int64_t dim, std::int64_t ndim, const char* op);

/// NumPy/PyTorch broadcasting: aligns trailing dimensions; each pair must be
/// equal or contain a 1. Throws naming `op` and both shapes otherwise.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

/// Strides that read a tensor of (shape, strides) as if it had `target` shape:
/// broadcast dimensions get stride 0. `target` must be a broadcast of `shape`.
Strides broadcast_strides(const Shape& shape, const Strides& strides, const Shape& target);

}  // namespace fluxion
