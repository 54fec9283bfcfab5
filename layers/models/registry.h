//! @file
//! Models by name: make_model("resnet34", num_classes) builds any model the
//! paper's experiments or Fluxion's examples use.
#pragma once

#include <string>
#include <vector>

#include "layers/module.h"

namespace fluxion::nn {

struct ModelOptions {
  std::int64_t num_classes = 10;
  std::int64_t in_channels = 3;
  std::int64_t image_size = 32;  ///< height and width of the input (the small CNN's linear layer depends on it)
};

/// Names: resnet18, resnet34 (kuangliu), densenet121 (kuangliu, growth 32),
/// resnet20/32/44/56/110 (He et al., option A shortcuts), resnet20b (option B),
/// small_cnn. Throws on an unknown name, listing the known ones.
ModulePtr make_model(const std::string& name, const ModelOptions& options);
ModulePtr make_model(const std::string& name, std::int64_t num_classes = 10);

/// The names make_model accepts, in a stable order.
std::vector<std::string> model_names();

}  // namespace fluxion::nn
