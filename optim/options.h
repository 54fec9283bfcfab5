//! @file
//! What optimizer options share: each options struct is one FLUXION_OPTIONS
//! list (core/options.h) whose entries end with one of the checks below, the
//! values the option allows; and options travel by name as doubles
//! (state_dict, make_optimizer, the command line).
#pragma once

#include <cmath>
#include <string>
#include <type_traits>

#include "core/error.h"
#include "core/options.h"

namespace fluxion::optim {

/// Options are saved and set by name as doubles. Flags must be 0 or 1 and
/// enums whole numbers (their range is checked by the options' validate()).
template <class Field>
Field option_from_double(const char* who, const std::string& option, double value) {
  if constexpr (std::is_same_v<Field, bool>) {
    FLUXION_CHECK(value == 0.0 || value == 1.0, who, ": option ", option, " is a flag: expected 0 or 1, got ", value);
    return value == 1.0;
  } else if constexpr (std::is_enum_v<Field>) {
    FLUXION_CHECK(std::isfinite(value) && value == std::floor(value) && std::fabs(value) < 1e6, who, ": option ",
                  option, " expects a whole number, got ", value);
    return static_cast<Field>(static_cast<int>(value));
  } else {
    return static_cast<Field>(value);
  }
}

// The checks of the options lists. Each is a check(who, option, value) that
// throws naming the optimizer (`who`) and the option.

/// A finite number >= low.
inline auto at_least(double low) {
  return [low](const char* who, const char* option, double value) {
    FLUXION_CHECK(std::isfinite(value) && value >= low, who, ": option ", option, " must be a finite number >= ", low,
                  ", got ", value);
  };
}
/// A finite number > 0.
inline auto positive() {
  return [](const char* who, const char* option, double value) {
    FLUXION_CHECK(std::isfinite(value) && value > 0.0, who, ": option ", option, " must be > 0, got ", value);
  };
}
/// In [0, 1): a moving average's decay.
inline auto unit_interval() {
  return [](const char* who, const char* option, double value) {
    FLUXION_CHECK(value >= 0.0 && value < 1.0, who, ": option ", option, " must be in [0, 1), got ", value);
  };
}
/// In (0, 1).
inline auto open_unit_interval() {
  return [](const char* who, const char* option, double value) {
    FLUXION_CHECK(value > 0.0 && value < 1.0, who, ": option ", option, " must be in (0, 1), got ", value);
  };
}
/// A whole number >= low (kept as a double, as options travel).
inline auto whole_number_at_least(double low) {
  return [low](const char* who, const char* option, double value) {
    FLUXION_CHECK(value >= low && value == std::floor(value), who, ": option ", option, " must be an integer >= ",
                  low, ", got ", value);
  };
}
/// Any value of the option's type (a flag: option_from_double has checked it is 0 or 1).
inline auto any_value() {
  return [](const char*, const char*, const auto&) {};
}

}  // namespace fluxion::optim
