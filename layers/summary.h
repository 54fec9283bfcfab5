//! @file
//! A model summary in the manner of torchinfo: one forward pass of a batch of
//! zeros, traced module by module (layers/forward_trace.h), gives each
//! module's output shape, parameters and multiply-adds, and the totals.
//!
//!   nn::ModelSummary s = nn::summarize(*model, {128, 3, 32, 32});
//!   std::cout << nn::format_summary(s, /*max_depth=*/2);
//!
//! `fluxion summary --model NAME` prints it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "layers/module.h"

namespace fluxion::nn {

struct SummaryRow {
  std::string path;  ///< dotted ("layer1.0.conv1"); "" for the model itself
  std::string type;  ///< type_name(): "Conv2d"
  int depth = 0;     ///< 0 for the model
  Shape output_shape;
  std::int64_t parameters = 0;     ///< of the module and everything under it
  std::int64_t multiply_adds = 0;  ///< of this call, children included
  bool leaf = false;               ///< a module without children
  bool new_memory = true;          ///< false when the output shares the input's storage (a view, an identity)
};

struct ModelSummary {
  std::string model;               ///< the root's type_name()
  std::vector<SummaryRow> rows;    ///< one per forward call, in the order they started
  Shape input_shape;
  std::int64_t parameters = 0;
  std::int64_t trainable_parameters = 0;  ///< those with requires_grad
  std::int64_t forward_multiply_adds = 0;
  /// A gradient step's backward: the input and the weight gradient of every
  /// Conv2d and Linear each cost as much as its forward, so twice the forward.
  std::int64_t backward_multiply_adds = 0;
  std::int64_t input_bytes = 0;
  std::int64_t activation_bytes = 0;  ///< every leaf module's output for the batch that is new memory
  std::int64_t parameter_bytes = 0;
};

/// Runs model.forward on zeros of `input_shape` (with the batch dimension) in
/// eval mode without gradients, so running statistics do not move; every
/// module's training flag is restored afterwards.
ModelSummary summarize(Module& model, const Shape& input_shape, DType dtype = kFloat32);

/// The table, rows deeper than max_depth left out (-1: all), then the totals.
std::string format_summary(const ModelSummary& summary, int max_depth = -1);

}  // namespace fluxion::nn
