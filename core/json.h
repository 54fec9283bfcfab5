//! @file
//! JSON from outside (config files, run records, checkpoint headers) parsed
//! with a bound on nesting. nlohmann's parser reads any depth, but copying,
//! comparing or converting the result recurses once per level, so a file
//! nested 100,000 levels deep would overflow the stack later, far from the
//! file. No file Fluxion reads nests beyond a few levels.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "core/error.h"

namespace fluxion {

/// Deeper than this, parse_json_bounded refuses the text.
inline constexpr int kMaxJsonDepth = 64;

/// Thrown by parse_json_bounded; callers add the file's name.
struct JsonTooDeep : InputError {
  JsonTooDeep() : InputError(detail::concat("JSON nested more than ", kMaxJsonDepth, " levels deep")) {}
};

/// nlohmann::json::parse(input) that throws JsonTooDeep past kMaxJsonDepth
/// levels (and nlohmann's own exceptions for malformed text).
template <class Input>
nlohmann::json parse_json_bounded(Input&& input) {
  return nlohmann::json::parse(std::forward<Input>(input),
                               [](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
                                 if (depth > kMaxJsonDepth) throw JsonTooDeep();
                                 return true;
                               });
}

}  // namespace fluxion
