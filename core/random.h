//! @file
//! Random numbers. One seeded default generator (manual_seed) makes every run
//! reproducible; factories take an optional Generator for independent streams.
//! The engine is std::mt19937_64 and the conversions to uniform and normal
//! values are written out here, so a seed gives the same numbers on every
//! platform and standard library.
#pragma once

#include <cstdint>
#include <random>
#include <string>

namespace fluxion {

class Generator {
 public:
  explicit Generator(std::uint64_t seed = 0) { manual_seed(seed); }
  void manual_seed(std::uint64_t seed);
  std::uint64_t next_u64() { return engine_(); }
  double uniform();        ///< in [0, 1), 53 random bits
  float uniform_float();   ///< in [0, 1), 24 random bits: exact in float, never rounds up to 1
  double normal();   ///< standard normal (Box-Muller)

  /// The whole state as text (the engine's words and the cached normal), for
  /// checkpoints; set_state restores it exactly and throws on malformed text.
  std::string state() const;
  void set_state(const std::string& state);

 private:
  std::mt19937_64 engine_;
  double spare_normal_ = 0.0;
  bool has_spare_ = false;
};

/// The generator used when none is passed.
Generator& default_generator();
/// Reseeds the default generator.
void manual_seed(std::uint64_t seed);

}  // namespace fluxion
