#include "train/checkpoint.h"

#include <cmath>

#include "core/random.h"
#include "core/safetensors.h"
#include "core/version.h"

namespace fluxion::train {
namespace {

constexpr const char* kFormat = "fluxion-training-checkpoint-1";
const std::string kModel = "model.", kOptimizer = "optimizer.";

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

}  // namespace

void save_checkpoint(const std::string& path, const nn::Module& model, const optim::Optimizer& optimizer,
                     const CheckpointInfo& info) {
  TensorMap tensors;
  for (const auto& [name, t] : model.named_state()) tensors.emplace(kModel + name, t);
  for (const auto& [name, t] : optimizer.state_dict()) tensors.emplace(kOptimizer + name, t);
  char best[32];
  std::snprintf(best, sizeof best, "%.17g", info.best_test_error);
  std::map<std::string, std::string> metadata = {
      {"format", kFormat},
      {"fluxion_version", version()},
      {"epochs_done", std::to_string(info.epochs_done)},
      {"scheduler_step", std::to_string(info.scheduler_step < 0 ? info.epochs_done : info.scheduler_step)},
      {"loader_position", "epoch " + std::to_string(info.epochs_done) + ", batch 0"},
      {"best_test_error", best},
      {"config", info.config_json},
      {"generator_state", info.generator_state}};
  if (!info.schedule_state.empty()) metadata["schedule_state"] = info.schedule_state;
  save_safetensors(path, tensors, metadata);
}

namespace {

// The checkpoint's metadata, checked.
CheckpointInfo checkpoint_info(const SafetensorsFile& file, const std::string& path) {
  FLUXION_CHECK_INPUT(metadata_at(file, "format", path) == kFormat, path, ": checkpoint format '",
                      file.metadata.at("format"), "', expected '", kFormat, "'");
  CheckpointInfo info;
  const std::string epochs = metadata_at(file, "epochs_done", path), best = metadata_at(file, "best_test_error", path);
  std::size_t used_epochs = 0, used_best = 0;
  try {
    info.epochs_done = std::stoll(epochs, &used_epochs);
    info.best_test_error = std::stod(best, &used_best);
  } catch (const std::logic_error&) {
    used_epochs = used_best = 0;
  }
  // best_test_error is a fraction, or inf before the first evaluation; a NaN
  // would compare false with every error, and best.safetensors would never
  // be written again.
  const bool best_valid = info.best_test_error == INFINITY || (info.best_test_error >= 0 && info.best_test_error <= 1);
  FLUXION_CHECK_INPUT(used_epochs == epochs.size() && info.epochs_done >= 0 && used_best == best.size() && best_valid,
                      path, ": malformed metadata: epochs_done '", epochs, "' (expected a whole number >= 0), "
                      "best_test_error '", best, "' (expected a fraction from 0 to 1, or inf before any evaluation)");
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

}  // namespace

CheckpointInfo read_checkpoint_info(const std::string& path) { return checkpoint_info(read_file(path), path); }

CheckpointInfo load_checkpoint(const std::string& path, nn::Module& model, optim::Optimizer& optimizer) {
  const SafetensorsFile file = read_file(path);
  const CheckpointInfo info = checkpoint_info(file, path);
  try {
    model.load_state_dict(under(file.tensors, kModel), true, path);
    optimizer.load_state_dict(under(file.tensors, kOptimizer), path);
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
