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
  std::string header, row;
  for (const MetricColumn& column : epoch_metric_columns(optional)) {
    const double value = column.value(m);
    if (column.whole_number) line[column.key] = static_cast<std::int64_t>(value);
    else line[column.key] = value;
    if (!header.empty()) header += ',', row += ',';
    header += column.key;
    row += csv_cell(column, value);
  }
  append_line(dir / "metrics.jsonl", line.dump());
  const fs::path csv = dir / "metrics.csv";
  if (!fs::exists(csv)) append_line(csv, header);
  append_line(csv, row);
}

void truncate_metrics(const fs::path& dir, std::int64_t epochs) {
  for (const std::string name : kMetricsFiles) {
    const fs::path path = dir / name;
    if (!fs::exists(path)) continue;
    std::ifstream in(path);
    std::string kept, line;
    const std::int64_t keep = epochs + (name == "metrics.csv" ? 1 : 0);  // the CSV's header
    for (std::int64_t i = 0; i < keep && std::getline(in, line); ++i) kept += line + "\n";
    in.close();
    write_file_atomically(path.string(), kept, "fluxion train");
  }
}

}  // namespace fluxion::train
