// ONNX export: a module's forward, traced in eval mode, written as an ONNX
// model through Debian's libonnx (its generated protobuf classes), checked by
// onnx::checker before it is written. Built only where libonnx is found
// (FLUXION_WITH_ONNX); `fluxion export` says so otherwise.
//
// The trace is the recording `fluxion graph` draws: every op that record()s
// (autograd/node.h) reports itself, with its inputs, output and attributes,
// to a trace::RecordHook. The example input requires grad, so every tensor
// computed from it has a producing op; every other input of an op (weights,
// buffers, the per-channel scale of an eval-mode batchnorm, the zeros of an
// option-A shortcut) is a constant of the program and becomes an initializer.
// Ops on constants alone are folded that way too. Each recorded op becomes
// ONNX nodes through one table (onnx_op_table() in onnx_export.cpp), which
// also lists the ops that cannot export and why.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "layers/module.h"

namespace fluxion::apps {

struct OnnxExportOptions {
  std::string graph_name = "fluxion";  ///< the graph's name (the model's, say)
  bool dynamic_batch = false;          ///< the input's and output's first dimension is "batch", not a number
  std::int64_t opset = 13;             ///< the default ONNX opset the nodes use
};

struct OnnxExportSummary {
  std::size_t nodes = 0;         ///< ONNX nodes written
  std::size_t initializers = 0;  ///< constants: weights, buffers and folded values
  std::size_t traced_ops = 0;    ///< ops recorded while tracing, folded ones included
  Tensor output;                 ///< what the traced forward returned for `example`
};

/// Traces model.forward(example) in eval mode (the model is left in eval
/// mode) and writes the program as an ONNX model to `path`, atomically
/// (core/atomic_file.h), after onnx::checker::check_model accepted it.
/// The input is named "input", the output "output". Throws InputError naming
/// the op and its module path for an op without an ONNX mapping, and Error
/// when the checker refuses the model (a bug in the mapping).
OnnxExportSummary export_onnx(nn::Module& model, const Tensor& example, const std::string& path,
                              const OnnxExportOptions& options);

/// The recorded op names the table maps to ONNX, and those it lists as not
/// exportable (with why), for the test that every recorded op is in one.
std::vector<std::string> onnx_exportable_ops();
std::vector<std::pair<std::string, std::string>> onnx_not_exportable_ops();

/// libonnx's version ("1.12.0"), for `fluxion export`'s report.
std::string onnx_library_version();

}  // namespace fluxion::apps
