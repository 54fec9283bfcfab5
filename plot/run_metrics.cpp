#include "plot/run_metrics.h"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"
#include "core/json.h"

namespace fluxion::plot {

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// Everything wrong with a run directory is the user's input to fix.
template <class... Parts>
[[noreturn]] void fail(const Parts&... parts) {
  throw InputError(detail::concat(parts...));
}

// The whole file; throws naming it when it cannot be read.
std::string read_file(const fs::path& path, const char* what) {
  std::error_code ec;
  const bool exists = fs::exists(path, ec);
  if (ec) fail("cannot access '", path.string(), "': ", ec.message());
  if (!exists) fail("'", path.string(), "' not found", what);
  if (fs::is_directory(path, ec)) fail("'", path.string(), "' is a directory, not a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot read '", path.string(), "': ", std::strerror(errno));
  std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (in.bad()) fail("cannot read '", path.string(), "': read error");
  return text;
}

fs::path checked_run_dir(const std::string& run_dir) {
  std::error_code ec;
  const fs::path dir(run_dir);
  if (run_dir.empty()) fail("empty run directory name");
  const bool exists = fs::exists(dir, ec);
  if (ec) fail("cannot access run directory '", run_dir, "': ", ec.message());
  if (!exists) fail("run directory '", run_dir, "' does not exist");
  if (!fs::is_directory(dir, ec)) fail("'", run_dir, "' is not a directory (expected a run directory)");
  return dir;
}

// nlohmann's message without its "[json.exception.parse_error.101] " prefix.
std::string parse_message(const json::exception& e) {
  std::string m = e.what();
  const auto end = m.find("] ");
  return end == std::string::npos ? m : m.substr(end + 2);
}

const char* type_name(const json& v) { return v.type_name(); }

}  // namespace

std::vector<EpochMetrics> read_metrics(const std::string& run_dir, std::vector<std::string>* warnings) {
  const fs::path path = checked_run_dir(run_dir) / "metrics.jsonl";
  const std::string where = path.string();
  const std::string text = read_file(path, " (is this a run directory written by `fluxion train`?)");

  struct NonFinite {
    int lines = 0, first_line = 0;
  };
  std::map<std::string, NonFinite> non_finite;  // key -> where it was null or overflowed
  std::vector<EpochMetrics> epochs;

  std::size_t begin = 0;
  for (int line_no = 1; begin < text.size(); ++line_no) {
    const std::size_t newline = text.find('\n', begin);
    const bool complete = newline != std::string::npos;
    std::string line = text.substr(begin, complete ? newline - begin : std::string::npos);
    begin = complete ? newline + 1 : text.size();
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;

    const std::string at = where + ":" + std::to_string(line_no) + ": ";
    json row;
    try {
      row = json::parse(line);
    } catch (const json::exception& e) {  // parse_error, or out_of_range for numbers like 1e999
      if (!complete) {  // the trainer is writing it right now (or died mid-line)
        if (warnings) warnings->push_back(at + "the last line is incomplete (is the run still writing?); skipped");
        break;
      }
      const bool nan_literal = line.find("NaN") != std::string::npos || line.find("Infinity") != std::string::npos;
      fail(at, "malformed line, not JSON: ", parse_message(e),
           nan_literal ? " (NaN and Infinity are not JSON; write null)" : "");
    }
    if (!row.is_object()) fail(at, "expected a JSON object, got ", type_name(row));

    EpochMetrics m;
    const auto& epoch = row.find("epoch");
    if (epoch == row.end()) fail(at, "missing key 'epoch'");
    if (!epoch->is_number_integer()) fail(at, "'epoch' must be an integer, got ", epoch->dump());
    const std::int64_t e = epoch->is_number_unsigned()
                               ? static_cast<std::int64_t>(std::min<std::uint64_t>(epoch->get<std::uint64_t>(),
                                                                                   std::uint64_t{INT_MAX} + 1))
                               : epoch->get<std::int64_t>();
    if (e < 1 || e > INT_MAX) fail(at, "'epoch' must be between 1 and ", INT_MAX, ", got ", epoch->dump());
    m.epoch = static_cast<int>(e);
    if (!epochs.empty() && m.epoch <= epochs.back().epoch) {
      fail(at, "epoch ", m.epoch, " comes after epoch ", epochs.back().epoch, " (epochs must increase)");
    }

    const auto number = [&](const char* key, double& out, bool fraction) {
      const auto& v = row.find(key);
      if (v == row.end()) fail(at, "missing key '", key, "'");
      if (!v->is_null() && !v->is_number()) fail(at, "'", key, "' must be a number, got ", v->dump());
      out = v->is_null() ? std::nan("") : v->get<double>();
      if (!std::isfinite(out)) {
        out = std::nan("");
        NonFinite& n = non_finite[key];
        if (n.lines++ == 0) n.first_line = line_no;
        return;
      }
      if (fraction && !(out >= 0 && out <= 1)) {
        fail(at, "'", key, "' must be a fraction in [0, 1], got ", v->dump(), out > 1 ? " (a percentage?)" : "");
      }
    };
    number("train_loss", m.train_loss, false);
    number("train_error", m.train_error, true);
    number("test_loss", m.test_loss, false);
    number("test_error", m.test_error, true);
    number("lr", m.lr, false);
    number("images_per_s", m.images_per_s, false);
    number("seconds", m.seconds, false);
    epochs.push_back(m);
  }

  if (epochs.empty()) fail("'", where, "' holds no epochs", text.empty() ? " (the file is empty)" : "");
  if (warnings) {
    for (const auto& [key, n] : non_finite) {
      warnings->push_back(detail::concat(where, ":", n.first_line, ": '", key, "' is null or not finite (the run ",
                                         "diverged?)", n.lines > 1 ? detail::concat(" there and on ", n.lines - 1,
                                                                                    " later lines") : "",
                                         "; such points are left out of plots"));
    }
  }
  return epochs;
}

std::string run_label(const std::string& run_dir) {
  const fs::path dir = checked_run_dir(run_dir);
  // "runs/a/" names "a"; "." names the current directory.
  fs::path named = dir.lexically_normal();
  if (named.filename().empty()) named = named.parent_path();
  if (named.filename() == "." || named.filename() == ".." || named.empty()) {
    std::error_code ec;
    named = fs::weakly_canonical(dir, ec);
    if (ec) named = fs::absolute(dir).lexically_normal();
  }
  std::string label = named.filename().string();
  if (label.empty()) label = named.string();  // "/"

  const fs::path config_path = dir / "config.json";
  std::error_code ec;
  if (!fs::exists(config_path, ec)) return label;
  const std::string text = read_file(config_path, "");
  json config;
  try {
    config = parse_json_bounded(text);
  } catch (const json::exception& e) {
    fail("'", config_path.string(), "': malformed JSON: ", parse_message(e));
  } catch (const JsonTooDeep& e) {
    fail("'", config_path.string(), "': ", e.what());
  }
  if (!config.is_object()) fail("'", config_path.string(), "': expected a JSON object, got ", type_name(config));

  const auto name_of = [&](const char* key) -> std::string {
    const auto& v = config.find(key);
    if (v == config.end()) return "";
    if (v->is_string()) return v->get<std::string>();
    if (v->is_object() && v->contains("name") && (*v)["name"].is_string()) return (*v)["name"].get<std::string>();
    return "";
  };
  std::string details = name_of("optimizer");
  const std::string model = name_of("model");
  if (!details.empty() && !model.empty()) details += ", ";
  details += model;
  return details.empty() ? label : label + " (" + details + ")";
}

}  // namespace fluxion::plot
