//! @file
//! Optimizer options, built with FLUXION_ARG (core/options.h). Each options
//! struct also lists its fields in visit(), which gives state_dict,
//! make_optimizer's by-name options and the range checks one place to look.
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

/// Range checks shared by the optimizers' constructors; `who` is the
/// optimizer's name, `option` the option's.
inline void check_at_least(const char* who, const char* option, double value, double low) {
  FLUXION_CHECK(std::isfinite(value) && value >= low, who, ": option ", option, " must be a finite number >= ", low,
                ", got ", value);
}
inline void check_unit_interval(const char* who, const char* option, double value) {
  FLUXION_CHECK(value >= 0.0 && value < 1.0, who, ": option ", option, " must be in [0, 1), got ", value);
}

}  // namespace fluxion::optim
