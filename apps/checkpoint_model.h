// Which model a checkpoint holds, for the commands that load one (eval,
// export, predict): from its run record when fluxion train wrote it, else
// from --model and --classes (a state_dict written by PyTorch or any other
// tool that uses the models' PyTorch key names).
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <string>

#include "layers/models/registry.h"
#include "train/config.h"
#include "train/run_data.h"

namespace fluxion::apps {

/// The flags that name a model for a checkpoint without a run record.
struct CheckpointModelFlags {
  std::string model;         ///< --model; "" when not given
  std::int64_t classes = 0;  ///< --classes; 0 when not given
  std::string dataset;       ///< --dataset; "" when not given
  std::string mean, std;     ///< --mean, --std (eval): "" when not given
};

/// Registers --checkpoint (required, into `checkpoint`), --model, --classes
/// and --dataset on cmd: the flags of every command that loads a
/// checkpoint's model. `dataset_help` says what the command takes from the
/// dataset.
void add_checkpoint_model_flags(CLI::App* cmd, std::string& checkpoint, CheckpointModelFlags& flags,
                                const std::string& dataset_help);

struct CheckpointModel {
  std::string model;                    ///< the registry name
  nn::ModelOptions options;             ///< classes, input channels and size
  std::optional<train::TrainConfig> run;  ///< the run record, when the file has one
  std::string dataset;                  ///< --dataset, else the record's; "" when neither names one
  /// The dataset's shape, normalisation and class names: an image folder's
  /// as its run recorded them, a built-in dataset's from the registry;
  /// --mean and --std over them. Empty when no dataset is named.
  train::RecordedData data;
};

/// Reads which model `path` holds. With a run record: the record's model,
/// dataset and classes (--model, when given, must agree; --dataset, when
/// given, replaces the record's for the input shape and classes; an image
/// folder's come from the record's "data"). Without:
/// --model is required; classes are --classes, else the dataset's, else 10;
/// the input is the dataset's shape, else the model's usual one (1x28x28
/// for small_cnn, 3x32x32 for the others). InputError (exit 2) naming the
/// file and the flag to give otherwise.
CheckpointModel checkpoint_model(const std::string& path, const CheckpointModelFlags& flags);

/// Builds the model and loads the checkpoint's weights into it, in eval
/// mode. InputError naming the first missing, unexpected or mismatched key
/// (with both shapes) when the tensors do not fit the model.
nn::ModulePtr load_checkpoint_model(const std::string& path, const CheckpointModel& spec);

}  // namespace fluxion::apps
