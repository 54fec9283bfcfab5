//! @file
//! Errors. Every failure a user can cause (bad shapes, wrong dtypes, bad
//! arguments) throws fluxion::Error with a message that names the operation and
//! the values involved, so the message alone says what to fix.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace fluxion {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Thrown when the user's input is wrong (a data file, an option, a config
/// file) rather than Fluxion: the fix is on the user's side, and the command
/// line exits 2 on it.
struct InputError : Error {
  using Error::Error;
};

/// A tensor's memory could not be had (the machine's, a memory limit's or
/// ulimit -v's bound): the message says how much, and where. Fixed on the
/// user's side too, by a smaller batch or model, so the command line exits 2.
struct OutOfMemory : InputError {
  using InputError::InputError;
};

namespace detail {
template <class... Parts>
std::string concat(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}

// The items in order, separated by ", ": the lists of known names that
// error messages offer ("known models: resnet18, resnet34, ...").
inline std::string join(const std::vector<std::string>& items, std::string_view separator = ", ") {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += separator;
    out += items[i];
  }
  return out;
}
}  // namespace detail

}  // namespace fluxion

// FLUXION_CHECK(cond, "op: ", details...) throws fluxion::Error built from the
// streamed parts when cond is false. The parts are only formatted on failure.
#define FLUXION_CHECK(cond, ...)                                      \
  do {                                                                \
    if (!(cond)) throw ::fluxion::Error(::fluxion::detail::concat(__VA_ARGS__)); \
  } while (0)

// FLUXION_CHECK_INPUT(cond, "what: ", details...): the same, throwing
// fluxion::InputError, for checks of the user's input (files, options).
#define FLUXION_CHECK_INPUT(cond, ...)                                \
  do {                                                                \
    if (!(cond)) throw ::fluxion::InputError(::fluxion::detail::concat(__VA_ARGS__)); \
  } while (0)
