// CLI11 validators whose messages read as people write ranges: "--lr:
// expected a number >= 0, got -1". CLI11's own Range, NonNegativeNumber and
// PositiveNumber print their bounds with six decimals (the largest double as
// 309 digits), call text that is not a number "not in range", and say that
// 0 is not in the range "0 to ..." of a positive number. Every fluxion flag
// uses these instead (tests/layering_test.sh keeps CLI11's out of apps/).
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>

namespace fluxion::apps {

/// A whole number in [min, max], as typed: "1.5", "abc", "1e3" are refused.
/// A max of INT64_MAX reads ">= min".
CLI::Validator whole_number_in(std::int64_t min, std::int64_t max);
/// Digits within 64 unsigned bits, as typed: "-1" and 2^64 are refused,
/// not wrapped or clamped (CLI11 would).
extern const CLI::Validator unsigned_64;
/// A finite number in [min, max].
CLI::Validator number_in(double min, double max);
/// A finite number > min.
CLI::Validator number_above(double min);
/// A finite number in [min, max): a decay below 1, say.
CLI::Validator number_from_below(double min, double max);
/// A finite number >= 0.
extern const CLI::Validator non_negative_number;
/// A finite number > 0.
extern const CLI::Validator positive_number;

}  // namespace fluxion::apps
