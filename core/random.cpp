#include "core/random.h"

#include <cmath>
#include <bit>
#include <numbers>
#include <sstream>

#include "core/error.h"

namespace fluxion {

void Generator::manual_seed(std::uint64_t seed) {
  engine_.seed(seed);
  has_spare_ = false;
}

double Generator::uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
float Generator::uniform_float() { return static_cast<float>(engine_() >> 40) * 0x1.0p-24f; }

double Generator::normal() {
  if (has_spare_) {
    has_spare_ = false;
    return spare_normal_;
  }
  // Box-Muller: two uniforms give two independent normals; keep the second.
  double u1 = 1.0 - uniform();  // (0, 1], so log(u1) is finite
  double u2 = uniform();
  double radius = std::sqrt(-2.0 * std::log(u1));
  double angle = 2.0 * std::numbers::pi * u2;
  spare_normal_ = radius * std::sin(angle);
  has_spare_ = true;
  return radius * std::cos(angle);
}

std::string Generator::state() const {
  std::ostringstream out;
  out << engine_ << ' ' << has_spare_ << ' ' << std::bit_cast<std::uint64_t>(spare_normal_);
  return out.str();
}

void Generator::set_state(const std::string& state) {
  std::istringstream in(state);
  std::mt19937_64 engine;
  bool has_spare = false;
  std::uint64_t spare_bits = 0;
  in >> engine >> has_spare >> spare_bits;
  const bool parsed = !in.fail();
  std::string rest;
  in >> rest;
  FLUXION_CHECK(parsed && rest.empty(), "Generator::set_state: malformed generator state (",
                state.size(), " characters); expected what Generator::state() writes");
  engine_ = engine;
  has_spare_ = has_spare;
  spare_normal_ = std::bit_cast<double>(spare_bits);
}

Generator& default_generator() {
  static Generator generator(0);
  return generator;
}

void manual_seed(std::uint64_t seed) { default_generator().manual_seed(seed); }

}  // namespace fluxion
