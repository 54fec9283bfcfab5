//! @file
//! A pair of sizes (height, width) that also accepts one number for both, as
//! PyTorch's kernel_size=3 or stride=(2, 1).
#pragma once

#include <cstdint>
#include <string>

namespace fluxion::nn {

struct Size2 {
  std::int64_t h = 0, w = 0;
  Size2(std::int64_t both) : h(both), w(both) {}  // NOLINT: implicit on purpose
  Size2(std::int64_t h_, std::int64_t w_) : h(h_), w(w_) {}
  bool operator==(const Size2&) const = default;
  /// "(3, 3)". Built by appending: GCC 12 warns falsely (-Wrestrict) on "(" + string.
  std::string str() const {
    std::string s = "(";
    s.append(std::to_string(h)).append(", ").append(std::to_string(w)).append(")");
    return s;
  }
};

}  // namespace fluxion::nn
