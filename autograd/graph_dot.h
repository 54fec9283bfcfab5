//! @file
//! The recorded graph behind a tensor as Graphviz DOT: what `fluxion graph`
//! draws. Ops are ellipses labelled with the op and the module that ran it
//! (its Node's scope, when the forward was traced: layers/forward_trace.h);
//! leaves are boxes, named from `leaf_names` (a model's parameters) or
//! "input"; every edge carries the shape of the tensor that flows along it,
//! from producer to consumer, ending at the output.
#pragma once

#include <string>
#include <unordered_map>

#include "core/tensor.h"

namespace fluxion {

struct GraphDotOptions {
  /// 0: one node per op. d >= 1: the ops of each module at depth d (the
  /// first d parts of their scope, "layer1.0" for d = 2) merged into one node
  /// labelled with the module and its op count, parameters left out, so a
  /// ResNet-34 stays readable. Ops the model's own forward runs (scope "")
  /// stay single.
  int collapse_depth = 0;
  std::string title;
};

/// Counts, for tests and for the command's report.
struct GraphDotStats {
  std::size_t op_nodes = 0;    ///< after collapsing: one per group
  std::size_t leaf_nodes = 0;  ///< parameters and inputs drawn
  std::size_t edges = 0;       ///< including the one into the output
};

/// Throws unless `output` has a grad_fn (it was computed with grad enabled
/// from something that requires grad).
std::string graph_to_dot(const Tensor& output, const std::unordered_map<const TensorImpl*, std::string>& leaf_names,
                         const GraphDotOptions& options = {}, GraphDotStats* stats = nullptr);

}  // namespace fluxion
