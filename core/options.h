//! @file
//! Options structs in libtorch's manner: AdamOptions().lr(1e-3).beta2(0.99),
//! Conv2dOptions(3, 64, 3).padding(1).bias(false). FLUXION_ARG declares a field
//! with a chainable setter and a getter of the same name.
#pragma once

#define FLUXION_ARG(type, name, default_value)      \
 public:                                           \
  auto& name(type value) {                         \
    name##_ = value;                               \
    return *this;                                  \
  }                                                \
  type name() const { return name##_; }            \
                                                   \
 private:                                          \
  type name##_ = default_value
