//! @file
//! Training checkpoints: one safetensors file holding the model's state_dict
//! under "model.", the optimizer's under "optimizer.", and in its metadata
//! what else a resumed run needs: epochs done (from which the schedule's
//! step and the loader's position follow: checkpoints are taken between epochs, and
//! the loader's batches follow from seed, epoch and batch alone), the default
//! generator's state, the best test error so far, the run's configuration and
//! a plateau schedule's state. A run with a weight EMA (--ema) adds the
//! averaged model's state_dict under "ema.", and its update count and best
//! test error to the metadata. Written atomically
//! (core/safetensors.h), so a crash leaves the previous checkpoint whole.
#pragma once

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>

#include "core/safetensors.h"
#include "layers/module.h"
#include "optim/optimizer.h"

namespace fluxion::train {

struct CheckpointInfo {
  std::int64_t epochs_done = 0;  ///< the next epoch starts at its batch 0; the schedule has stepped this often
  double best_test_error = INFINITY;  ///< none yet
  std::string config_json;     ///< the run's configuration (train/config.h to_json)
  std::string generator_state; ///< default_generator().state()
  /// The lr schedule's step count (epochs_done, or epochs_done x batches per
  /// epoch when it steps per batch; < 0: epochs_done): written for the
  /// reader, not read back.
  std::int64_t scheduler_step = -1;
  /// train::RunSchedule::state(): a plateau schedule's state as JSON; empty
  /// for the other schedules (and in checkpoints of older versions).
  std::string schedule_state;
  std::int64_t ema_updates = 0;           ///< with an EMA: its updates so far (the warmup's step)
  double best_ema_test_error = INFINITY;  ///< with an EMA: its lowest test error so far
};

/// `ema`: the run's averaged model (train/model_ema.h), or nullptr for a
/// run without one, whose file is then as before EMAs existed.
void save_checkpoint(const std::string& path, const nn::Module& model, const optim::Optimizer& optimizer,
                     const CheckpointInfo& info, const nn::Module* ema = nullptr);
/// Restores model and optimizer (strictly: every key must fit), and with
/// `ema` the averaged model, and returns the metadata. Throws InputError
/// naming the file when it is not a Fluxion training checkpoint, does not
/// fit the model, or holds no EMA where one is asked for.
CheckpointInfo load_checkpoint(const std::string& path, nn::Module& model, optim::Optimizer& optimizer,
                               nn::Module* ema = nullptr);
/// The metadata alone, checked as load_checkpoint checks it.
CheckpointInfo read_checkpoint_info(const std::string& path);

/// The model alone, with PyTorch's state_dict keys (loads into the PyTorch
/// model directly) and the configuration in the metadata: OUT/best.safetensors.
void save_model(const std::string& path, const nn::Module& model, const std::string& config_json);
/// The configuration stored in either kind of file.
std::string read_config_json(const std::string& path);
/// The configuration in a file's metadata, or nullopt when it has none (a
/// state_dict written by PyTorch or another tool).
std::optional<std::string> find_config_json(const SafetensorsFile& file);
/// The model's tensors (a training checkpoint's "model." entries with the
/// prefix removed; every tensor of a model file) and the file's metadata.
/// InputError naming the file when it cannot be read.
SafetensorsFile read_model_file(const std::string& path);
/// Loads the model's weights from either kind of file.
void load_model_weights(const std::string& path, nn::Module& model);

}  // namespace fluxion::train
