//! @file
//! Options structs in libtorch's manner: AdamOptions().lr(1e-3).beta2(0.99),
//! Conv2dOptions(3, 64, 3).padding(1).bias(false). Each option is declared
//! once, with its default: FLUXION_ARG for a plain field, FLUXION_REQUIRED_ARG
//! for one the struct's constructor takes, and, where options are also set
//! by name and range-checked (the optimizers'), one FLUXION_OPTIONS list that
//! gives the fields, visit() and validate().
#pragma once

#include <type_traits>

/// A chainable setter name(value) and a getter name() of the field `name_`.
#define FLUXION_ARG_ACCESSORS(type, name) \
 public:                                  \
  auto& name(type value) {                \
    name##_ = value;                      \
    return *this;                         \
  }                                       \
  type name() const { return name##_; }   \
                                          \
 private:

/// An option: the field `name_`, `default_value` unless set, with its setter and getter.
#define FLUXION_ARG(type, name, default_value) \
  FLUXION_ARG_ACCESSORS(type, name)            \
  type name##_ = default_value

/// An option without a default: the struct's constructor sets it (a layer's channels).
#define FLUXION_REQUIRED_ARG(type, name) \
  FLUXION_ARG_ACCESSORS(type, name)      \
  type name##_

/// Every option of a struct from one list, each written once as
/// X(type, name, default, check), one per line of the list's macro:
///
///     #define FLUXION_ADAM_OPTIONS(X) X(double, lr, 1e-3, at_least(0.0)) X(bool, amsgrad, false, any_value())
///     struct AdamOptions {
///       FLUXION_OPTIONS(FLUXION_ADAM_OPTIONS)
///     };
///
/// Each entry is a FLUXION_ARG. The struct also gets visit(f), calling
/// f("name", field) for each option in the list's order (what state_dict and
/// options by name use), and validate(who), calling check(who, "name", value)
/// for each, or check(who, "name", value, options) where a check relates
/// options (SGD's nesterov needs momentum).
#define FLUXION_OPTIONS(list)                   \
  list(FLUXION_OPTIONS_FIELD)                   \
                                                \
 public:                                        \
  template <class F>                            \
  void visit(F&& f) {                           \
    list(FLUXION_OPTIONS_VISIT)                 \
  }                                             \
  void validate(const char* who) const { list(FLUXION_OPTIONS_CHECK) }

#define FLUXION_OPTIONS_FIELD(type, name, default_value, check) FLUXION_ARG(type, name, default_value);
#define FLUXION_OPTIONS_VISIT(type, name, default_value, check) f(#name, name##_);
#define FLUXION_OPTIONS_CHECK(type, name, default_value, check) \
  ::fluxion::detail::check_option(check, who, #name, name##_, *this);

namespace fluxion::detail {

/// Runs one option's check, with the whole options struct if it takes it.
template <class Check, class T, class Options>
void check_option(const Check& check, const char* who, const char* option, const T& value, const Options& options) {
  if constexpr (std::is_invocable_v<const Check&, const char*, const char*, const T&, const Options&>)
    check(who, option, value, options);
  else
    check(who, option, value);
}

}  // namespace fluxion::detail
