// Errors. Every failure a user can cause (bad shapes, wrong dtypes, bad
// arguments) throws fluxion::Error with a message that names the operation and
// the values involved, so the message alone says what to fix.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace fluxion {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

namespace detail {
template <class... Parts>
std::string concat(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}
}  // namespace detail

}  // namespace fluxion

// FLUXION_CHECK(cond, "op: ", details...) throws fluxion::Error built from the
// streamed parts when cond is false. The parts are only formatted on failure.
#define FLUXION_CHECK(cond, ...)                                      \
  do {                                                                \
    if (!(cond)) throw ::fluxion::Error(::fluxion::detail::concat(__VA_ARGS__)); \
  } while (0)
