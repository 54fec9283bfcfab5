#include "data/spirals.h"

#include <cmath>
#include <numbers>
#include <vector>

#include "core/factory.h"

namespace fluxion::data {

Spirals make_spirals(std::int64_t n, Generator& gen, double noise) {
  FLUXION_CHECK(n >= 1, "make_spirals: expected n >= 1 points per spiral, got ", n);
  FLUXION_CHECK(noise >= 0.0, "make_spirals: expected noise >= 0, got ", noise);
  std::vector<double> xy;
  std::vector<double> labels;
  for (int cls = 0; cls < 2; ++cls) {
    for (std::int64_t i = 0; i < n; ++i) {
      const double t = 0.25 + 3.5 * std::numbers::pi * static_cast<double>(i) / static_cast<double>(n);
      const double r = t / (3.75 * std::numbers::pi);
      const double sign = cls == 0 ? 1.0 : -1.0;  // the second spiral is the first rotated by 180 degrees
      xy.push_back(sign * r * std::cos(t) + noise * gen.normal());
      xy.push_back(sign * r * std::sin(t) + noise * gen.normal());
      labels.push_back(cls);
    }
  }
  return {tensor(xy, {2 * n, 2}), tensor(labels, {2 * n}, kInt64)};
}

}  // namespace fluxion::data
