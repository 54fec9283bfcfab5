#include "apps/flag_checks.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>

namespace fluxion::apps {
namespace {

// The whole text as a T, or nothing: from_chars takes no sign-less "+",
// no spaces and no trailing characters, which is what a flag's value is.
template <class T>
bool parse_all(const std::string& text, T& value) {
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return !text.empty() && error == std::errc() && end == text.data() + text.size();
}

// %g: 1e+308 rather than 309 digits, 0.01 rather than 0.010000.
std::string shortest(double x) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", x);
  return text;
}

CLI::Validator number_check(std::string expected, std::string description, bool (*accept)(double, double, double),
                            double min, double max) {
  return CLI::Validator(
      [=](std::string& text) -> std::string {
        double value = 0;
        if (parse_all(text, value) && std::isfinite(value) && accept(value, min, max)) return "";
        return "expected " + expected + ", got " + text;
      },
      description);
}

}  // namespace

CLI::Validator whole_number_in(std::int64_t min, std::int64_t max) {
  const std::string range = max == std::numeric_limits<std::int64_t>::max()
                                ? ">= " + std::to_string(min)
                                : "from " + std::to_string(min) + " to " + std::to_string(max);
  return CLI::Validator(
      [=](std::string& text) -> std::string {
        std::int64_t value = 0;
        if (parse_all(text, value) && value >= min && value <= max) return "";
        return "expected a whole number " + range + ", got " + text;
      },
      range);
}

const CLI::Validator unsigned_64(
    [](std::string& text) -> std::string {
      std::uint64_t value = 0;
      if (parse_all(text, value)) return "";
      return "expected a whole number from 0 to 18446744073709551615, got " + text;
    },
    "");

CLI::Validator number_in(double min, double max) {
  const std::string range = "from " + shortest(min) + " to " + shortest(max);
  return number_check(
      "a number " + range, range, [](double x, double lo, double hi) { return x >= lo && x <= hi; }, min, max);
}

CLI::Validator number_above(double min) {
  return number_check(
      "a number > " + shortest(min), "> " + shortest(min), [](double x, double lo, double) { return x > lo; }, min,
      min);
}

CLI::Validator number_from_below(double min, double max) {
  const std::string range = ">= " + shortest(min) + " and < " + shortest(max);
  return number_check(
      "a number " + range, range, [](double x, double lo, double hi) { return x >= lo && x < hi; }, min, max);
}

const CLI::Validator non_negative_number =
    number_check("a number >= 0", ">= 0", [](double x, double, double) { return x >= 0; }, 0, 0);
const CLI::Validator positive_number =
    number_check("a number > 0", "> 0", [](double x, double, double) { return x > 0; }, 0, 0);

}  // namespace fluxion::apps
