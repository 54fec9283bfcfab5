#include "train/metrics_log.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <string>

#include "core/atomic_file.h"
#include "core/error.h"

namespace fluxion::train {
namespace fs = std::filesystem;

namespace {

double as_double(std::int64_t v) { return static_cast<double>(v); }
bool with_ema(const OptionalColumns& optional) { return optional.ema; }

constexpr MetricColumn kColumns[] = {
    {"epoch", [](const EpochMetrics& m) { return as_double(m.epoch); }, true, true},
    {"train_loss", [](const EpochMetrics& m) { return m.train_loss; }, false, true},
    {"train_error", [](const EpochMetrics& m) { return m.train_error; }, false, true},
    {"test_loss", [](const EpochMetrics& m) { return m.test_loss; }, false, true},
    {"test_error", [](const EpochMetrics& m) { return m.test_error; }, false, true},
    {"ema_test_loss", [](const EpochMetrics& m) { return m.ema_test_loss; }, false, true, with_ema},
    {"ema_test_error", [](const EpochMetrics& m) { return m.ema_test_error; }, false, true, with_ema},
    {"lr", [](const EpochMetrics& m) { return m.lr; }, false, true},
    {"grad_norm", [](const EpochMetrics& m) { return m.grad_norm; }, false, true},
    {"images_per_s", [](const EpochMetrics& m) { return m.images_per_s; }, false, false},
    {"seconds", [](const EpochMetrics& m) { return m.seconds; }, false, false},
    {"skipped_batches", [](const EpochMetrics& m) { return as_double(m.skipped_batches); }, true, true},
};

std::string csv_cell(const MetricColumn& column, double value) {
  char cell[64];
  if (column.whole_number) std::snprintf(cell, sizeof cell, "%lld", static_cast<long long>(value));
  else std::snprintf(cell, sizeof cell, column.digits_matter ? "%.9g" : "%.6g", value);
  return cell;
}

std::string csv_header(const std::vector<MetricColumn>& columns) {
  std::string header;
  for (const MetricColumn& column : columns) {
    if (!header.empty()) header += ',';
    header += column.key;
  }
  return header;
}

void append_line(const fs::path& path, const std::string& line) {
  std::ofstream file(path, std::ios::app);
  file << line << "\n";
  FLUXION_CHECK_INPUT(file.good(), "cannot append to ", path.string());
}

}  // namespace

std::vector<MetricColumn> epoch_metric_columns(const OptionalColumns& optional) {
  std::vector<MetricColumn> columns;
  for (const MetricColumn& column : kColumns)
    if (column.present == nullptr || column.present(optional)) columns.push_back(column);
  return columns;
}

void append_metrics(const fs::path& dir, const EpochMetrics& m, const OptionalColumns& optional) {
  nlohmann::json line;
  std::string row;
  for (const MetricColumn& column : epoch_metric_columns(optional)) {
    const double value = column.value(m);
    if (column.whole_number) line[column.key] = static_cast<std::int64_t>(value);
    else line[column.key] = value;
    if (!row.empty()) row += ',';
    row += csv_cell(column, value);
  }
  append_line(dir / "metrics.jsonl", line.dump());
  const fs::path csv = dir / "metrics.csv";
  if (!fs::exists(csv)) append_line(csv, csv_header(epoch_metric_columns(optional)));
  append_line(csv, row);
}

namespace {

// The first `count` lines of a text file.
std::vector<std::string> first_lines(const fs::path& path, std::int64_t count) {
  std::vector<std::string> lines;
  std::ifstream in(path);
  std::string line;
  while (static_cast<std::int64_t>(lines.size()) < count && std::getline(in, line)) lines.push_back(line);
  return lines;
}

// A CSV row of the columns from one metrics.jsonl line: a column the line
// lacks (one added by a later version) is empty, a non-finite value (JSON
// null) "nan".
std::string csv_row(const std::vector<MetricColumn>& columns, const nlohmann::json& line) {
  std::string row;
  for (const MetricColumn& column : columns) {
    if (!row.empty()) row += ',';
    const auto it = line.find(column.key);
    if (it == line.end()) continue;
    row += it->is_number() ? csv_cell(column, it->get<double>()) : "nan";
  }
  return row;
}

}  // namespace

void truncate_metrics(const fs::path& dir, std::int64_t epochs, const OptionalColumns& optional) {
  const fs::path jsonl = dir / kMetricsFiles[0], csv = dir / kMetricsFiles[1];
  if (!fs::exists(jsonl)) return;
  const std::vector<std::string> kept = first_lines(jsonl, epochs);
  const std::vector<MetricColumn> columns = epoch_metric_columns(optional);
  std::string jsonl_text;
  std::string csv_text = csv_header(columns) + "\n";
  for (std::size_t i = 0; i < kept.size(); ++i) {
    const nlohmann::json line = nlohmann::json::parse(kept[i], nullptr, false);
    FLUXION_CHECK_INPUT(line.is_object(), jsonl.string(), ":", i + 1, ": not a JSON object; the run's metrics are damaged");
    jsonl_text += kept[i] + "\n";
    csv_text += csv_row(columns, line) + "\n";
  }
  write_file_atomically(jsonl.string(), jsonl_text, "fluxion train");
  write_file_atomically(csv.string(), csv_text, "fluxion train");
}

}  // namespace fluxion::train
