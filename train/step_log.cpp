#include "train/step_log.h"

#include <nlohmann/json.hpp>

#include <fstream>

#include "core/atomic_file.h"
#include "core/error.h"

namespace fluxion::train {
namespace fs = std::filesystem;

namespace {

double as_double(std::int64_t v) { return static_cast<double>(v); }

constexpr StepColumn kColumns[] = {
    {"step", [](const StepRecord& r) { return as_double(r.step); }, true, false},
    {"epoch", [](const StepRecord& r) { return as_double(r.epoch); }, true, false},
    {"batch", [](const StepRecord& r) { return as_double(r.batch); }, true, false},
    {"loss", [](const StepRecord& r) { return r.loss; }, false, false},
    {"lr", [](const StepRecord& r) { return r.lr; }, false, false},
    {"grad_norm", [](const StepRecord& r) { return r.grad_norm; }, false, false},
    {"step_seconds", [](const StepRecord& r) { return r.step_seconds; }, false, false},
    {"median_posterior_variance", [](const StepRecord& r) { return r.regimes->median_posterior_variance; }, false, true},
    {"share_low_data", [](const StepRecord& r) { return r.regimes->share_low_data; }, false, true},
    {"share_sgd_like", [](const StepRecord& r) { return r.regimes->share_sgd_like; }, false, true},
    {"share_high_data", [](const StepRecord& r) { return r.regimes->share_high_data; }, false, true},
    {"share_adam_like", [](const StepRecord& r) { return r.regimes->share_adam_like; }, false, true},
};

}  // namespace

std::span<const StepColumn> step_log_columns() { return kColumns; }

std::string step_line(const StepRecord& record) {
  nlohmann::ordered_json line;  // the columns' order, not the keys' alphabetical one
  for (const StepColumn& column : kColumns) {
    if (column.adabayes_only && !record.regimes) continue;
    const double value = column.value(record);
    if (column.whole_number) line[column.key] = static_cast<std::int64_t>(value);
    else line[column.key] = value;
  }
  return line.dump();
}

void append_step(const fs::path& dir, const StepRecord& record) {
  const fs::path path = dir / kStepLogFile;
  std::ofstream file(path, std::ios::app);
  file << step_line(record) << "\n";
  file.flush();  // a killed run leaves whole lines behind
  FLUXION_CHECK_INPUT(file.good(), "cannot append to ", path.string());
}

void truncate_steps(const fs::path& dir, std::int64_t last_step) {
  const fs::path path = dir / kStepLogFile;
  if (!fs::exists(path)) return;
  std::ifstream in(path);
  std::string kept, line;
  while (std::getline(in, line)) {
    const nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("step") || !j["step"].is_number_integer()) break;
    if (j["step"].get<std::int64_t>() > last_step) break;
    kept += line + "\n";
  }
  in.close();
  write_file_atomically(path.string(), kept, "fluxion train");
}

}  // namespace fluxion::train
