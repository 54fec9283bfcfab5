// The options that the model-explaining commands (summary, graph, step)
// share: which model, with how many classes, fed what input.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

#include "layers/models/registry.h"

namespace fluxion::apps {

struct ModelInputOptions {
  std::string model;
  std::string input;  // "CxHxW"; empty: the model's usual input (1x28x28 for small_cnn, else 3x32x32)
  std::int64_t batch_size = 1;
  std::int64_t classes = 10;
};

// Registers --model (required), --input, --batch-size and --classes on cmd.
void add_model_input_options(CLI::App* cmd, ModelInputOptions& options);

// The model's usual input for one image, [C, H, W]: 1x28x28 for small_cnn
// (Fashion-MNIST), 3x32x32 (CIFAR) for the others.
Shape usual_input(const std::string& model);

// The input shape with its batch dimension, [B, C, H, W].
Shape input_shape(const ModelInputOptions& options);

// The model, built for that input.
nn::ModulePtr build_model(const ModelInputOptions& options);

}  // namespace fluxion::apps
