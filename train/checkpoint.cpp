#include "train/checkpoint.h"

#include <cmath>
#include <cstdio>
#include <optional>
#include <tuple>
#include <stdexcept>
#include <string>

#include "core/random.h"
#include "core/safetensors.h"
#include "core/version.h"

namespace fluxion::train {
namespace {

constexpr const char* kFormat = "fluxion-training-checkpoint-1";
const std::string kModel = "model.", kOptimizer = "optimizer.", kEma = "ema.";

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

// The tensors under `prefix`, with it removed.
TensorMap under(const TensorMap& tensors, const std::string& prefix) {
  TensorMap out;
  for (const auto& [name, t] : tensors)
    if (starts_with(name, prefix)) out.emplace(name.substr(prefix.size()), t);
  return out;
}

// The file, every problem with it reported as the user's (InputError).
SafetensorsFile read_file(const std::string& path) {
  try {
    return load_safetensors(path);
  } catch (const InputError&) {
    throw;
  } catch (const Error& e) {
    throw InputError(e.what());
  }
}

std::string metadata_at(const SafetensorsFile& file, const std::string& key, const std::string& path) {
  auto it = file.metadata.find(key);
  FLUXION_CHECK_INPUT(it != file.metadata.end(), path, ": not a Fluxion training checkpoint (no \"", key,
                      "\" in its metadata)");
  return it->second;
}

// An error rate as the metadata holds it: every bit, or "inf".
std::string error_text(double error) {
  char text[32];
  std::snprintf(text, sizeof text, "%.17g", error);
  return text;
}

}  // namespace

void save_checkpoint(const std::string& path, const nn::Module& model, const optim::Optimizer& optimizer,
                     const CheckpointInfo& info, const nn::Module* ema) {
  TensorMap tensors;
  for (const auto& [name, t] : model.named_state()) tensors.emplace(kModel + name, t);
  for (const auto& [name, t] : optimizer.state_dict()) tensors.emplace(kOptimizer + name, t);
  Metadata metadata = {{"format", kFormat},
                       {"fluxion_version", version()},
                       {"epochs_done", std::to_string(info.epochs_done)},
                       {"scheduler_step", std::to_string(info.scheduler_step < 0 ? info.epochs_done : info.scheduler_step)},
                       {"loader_position", "epoch " + std::to_string(info.epochs_done) + ", batch 0"},
                       {"best_test_error", error_text(info.best_test_error)},
                       {"config", info.config_json},
                       {"generator_state", info.generator_state}};
  if (!info.schedule_state.empty()) metadata["schedule_state"] = info.schedule_state;
  if (ema) {
    for (const auto& [name, t] : ema->named_state()) tensors.emplace(kEma + name, t);
    metadata["ema_updates"] = std::to_string(info.ema_updates);
    metadata["best_ema_test_error"] = error_text(info.best_ema_test_error);
  }
  save_safetensors(path, tensors, metadata);
}

namespace {

// A count as the metadata holds it: digits only; nullopt otherwise.
std::optional<std::int64_t> count_in(const std::string& text) {
  std::size_t used = 0;
  std::int64_t value = -1;
  try {
    value = std::stoll(text, &used);
  } catch (const std::logic_error&) {
    return std::nullopt;
  }
  if (used != text.size() || value < 0) return std::nullopt;
  return value;
}

// An error rate: a fraction, or inf before the first evaluation. A NaN
// would compare false with every error, and the best model would never be
// written again.
std::optional<double> error_rate_in(const std::string& text) {
  std::size_t used = 0;
  double value = NAN;
  try {
    value = std::stod(text, &used);
  } catch (const std::logic_error&) {
    return std::nullopt;
  }
  if (used != text.size() || !(value == INFINITY || (value >= 0 && value <= 1))) return std::nullopt;
  return value;
}

// A whole count and an error rate from the metadata, checked together (the
// run's epochs and best error, or the EMA's updates and best error).
std::pair<std::int64_t, double> count_and_error(const SafetensorsFile& file, const std::string& path,
                                                const char* count_key, const char* error_key) {
  const std::string count_value = metadata_at(file, count_key, path), error_value = metadata_at(file, error_key, path);
  const std::optional<std::int64_t> count = count_in(count_value);
  const std::optional<double> error = error_rate_in(error_value);
  FLUXION_CHECK_INPUT(count && error, path, ": malformed metadata: ", count_key, " '", count_value,
                      "' (expected a whole number >= 0), ", error_key, " '", error_value,
                      "' (expected a fraction from 0 to 1, or inf before any evaluation)");
  return {*count, *error};
}

// The checkpoint's metadata, checked.
CheckpointInfo checkpoint_info(const SafetensorsFile& file, const std::string& path) {
  FLUXION_CHECK_INPUT(metadata_at(file, "format", path) == kFormat, path, ": checkpoint format '",
                      file.metadata.at("format"), "', expected '", kFormat, "'");
  CheckpointInfo info;
  std::tie(info.epochs_done, info.best_test_error) = count_and_error(file, path, "epochs_done", "best_test_error");
  info.config_json = metadata_at(file, "config", path);
  info.generator_state = metadata_at(file, "generator_state", path);
  if (const auto it = file.metadata.find("schedule_state"); it != file.metadata.end()) info.schedule_state = it->second;
  try {
    Generator().set_state(info.generator_state);  // parse it now, while the file can be named
  } catch (const Error& e) {
    throw InputError(detail::concat(path, ": malformed generator_state in the metadata: ", e.what()));
  }
  return info;
}

// A run with an EMA continues it: its update count (the warmup's step) and
// best error.
void read_ema_info(const SafetensorsFile& file, const std::string& path, CheckpointInfo& info) {
  FLUXION_CHECK_INPUT(file.metadata.count("ema_updates") == 1, path,
                      ": holds no weight EMA (no \"ema_updates\" in its metadata), which this run (--ema) continues");
  std::tie(info.ema_updates, info.best_ema_test_error) =
      count_and_error(file, path, "ema_updates", "best_ema_test_error");
}

}  // namespace

CheckpointInfo read_checkpoint_info(const std::string& path) { return checkpoint_info(read_file(path), path); }

CheckpointInfo load_checkpoint(const std::string& path, nn::Module& model, optim::Optimizer& optimizer,
                               nn::Module* ema) {
  const SafetensorsFile file = read_file(path);
  CheckpointInfo info = checkpoint_info(file, path);
  if (ema) read_ema_info(file, path, info);
  try {
    model.load_state_dict(under(file.tensors, kModel), true, path);
    optimizer.load_state_dict(under(file.tensors, kOptimizer), path);
    if (ema) ema->load_state_dict(under(file.tensors, kEma), true, path);
  } catch (const InputError&) {
    throw;
  } catch (const Error& e) {
    throw InputError(e.what());
  }
  return info;
}

void save_model(const std::string& path, const nn::Module& model, const std::string& config_json) {
  save_safetensors(path, model.state_dict(), {{"fluxion_version", version()}, {"config", config_json}});
}

std::string read_config_json(const std::string& path) {
  const std::optional<std::string> config = find_config_json(read_file(path));
  FLUXION_CHECK_INPUT(config.has_value(), path,
                      ": no training configuration in its metadata (was it written by fluxion train?)");
  return *config;
}

std::optional<std::string> find_config_json(const SafetensorsFile& file) {
  auto it = file.metadata.find("config");
  if (it == file.metadata.end()) return std::nullopt;
  return it->second;
}

SafetensorsFile read_model_file(const std::string& path) {
  SafetensorsFile file = read_file(path);
  const auto format = file.metadata.find("format");  // PyTorch's writer puts "pt" there
  if (format != file.metadata.end() && format->second == kFormat) file.tensors = under(file.tensors, kModel);
  return file;
}

void load_model_weights(const std::string& path, nn::Module& model) {
  try {
    model.load_state_dict(read_model_file(path).tensors, true, path);
  } catch (const InputError&) {
    throw;
  } catch (const Error& e) {
    throw InputError(e.what());
  }
}

}  // namespace fluxion::train
