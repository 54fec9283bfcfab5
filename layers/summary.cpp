#include "layers/summary.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "core/factory.h"
#include "core/grad_mode.h"
#include "layers/forward_trace.h"

namespace fluxion::nn {
namespace {

// Collects one row per call; a call's multiply-adds are its module's own
// plus its children's, added up the stack as each child exits.
class SummaryObserver : public ForwardObserver {
 public:
  std::vector<SummaryRow> rows;

  void enter(const ForwardCall& call) override {
    SummaryRow row;
    row.path = call.path;
    row.type = call.module.type_name();
    row.depth = call.depth;
    row.parameters = call.module.num_parameters();
    row.leaf = call.module.named_children().empty();
    open_.push_back(rows.size());
    rows.push_back(std::move(row));
  }

  void exit(const ForwardCall& call, const Tensor& output) override {
    SummaryRow& row = rows[open_.back()];
    open_.pop_back();
    row.output_shape = output.shape();
    row.new_memory = !(call.input.defined() && output.defined() && output.storage() == call.input.storage());
    row.multiply_adds += call.module.multiply_adds(call.input, output);
    if (!open_.empty()) rows[open_.back()].multiply_adds += row.multiply_adds;
  }

 private:
  std::vector<std::size_t> open_;  // rows of the calls not yet exited
};

std::string with_commas(std::int64_t n) {
  std::string digits = std::to_string(n), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0 && digits[i - 1] != '-') out += ',';
    out += digits[i];
  }
  return out;
}

// "conv1 (Conv2d)": the last part of the path and the type; the model by its type.
std::string row_name(const SummaryRow& row) {
  if (row.path.empty()) return row.type;
  return row.path.substr(row.path.rfind('.') + 1) + " (" + row.type + ")";
}

std::string mib(std::int64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", static_cast<double>(bytes) / (1 << 20));
  return buf;
}

}  // namespace

ModelSummary summarize(Module& model, const Shape& input_shape, DType dtype) {
  ModelSummary s;
  s.model = model.type_name();
  s.input_shape = input_shape;
  const Tensor input = zeros(input_shape, TensorOptions().dtype(dtype));
  SummaryObserver observer;
  // eval() sets every module; each gets its own flag back (a frozen
  // batchnorm may be in eval mode inside a training model).
  std::vector<std::pair<Module*, bool>> modes{{&model, model.is_training()}};
  for (const auto& [_, m] : model.named_modules()) modes.emplace_back(m.get(), m->is_training());
  auto restore = [&modes] {
    for (auto& [m, training] : modes) m->train(training);
  };
  model.eval();
  try {
    NoGradGuard no_grad;
    TraceForward trace(model, observer);
    model.forward(input);
  } catch (...) {
    restore();
    throw;
  }
  restore();
  s.rows = std::move(observer.rows);

  const std::int64_t elem = static_cast<std::int64_t>(element_size(dtype));
  for (const auto& [_, p] : model.named_parameters()) {
    s.parameters += p.numel();
    if (p.requires_grad()) s.trainable_parameters += p.numel();
    s.parameter_bytes += p.numel() * static_cast<std::int64_t>(element_size(p.dtype()));
  }
  s.input_bytes = input.numel() * elem;
  for (const SummaryRow& row : s.rows) {
    if (row.depth == 0) s.forward_multiply_adds += row.multiply_adds;
    if (row.leaf && row.new_memory) s.activation_bytes += numel(row.output_shape) * elem;
  }
  s.backward_multiply_adds = 2 * s.forward_multiply_adds;
  return s;
}

std::string format_summary(const ModelSummary& s, int max_depth) {
  std::ostringstream out;
  std::size_t name_width = 24;
  for (const SummaryRow& row : s.rows) {
    if (max_depth >= 0 && row.depth > max_depth) continue;
    name_width = std::max(name_width, 2 * static_cast<std::size_t>(row.depth) + row_name(row).size());
  }
  const std::string rule(name_width + 64, '-');
  char line[512];
  out << rule << "\n";
  std::snprintf(line, sizeof line, "%-*s %-22s %14s %18s\n", static_cast<int>(name_width), "Layer (type)",
                "Output shape", "Param #", "Mult-adds");
  out << line << rule << "\n";
  for (const SummaryRow& row : s.rows) {
    if (max_depth >= 0 && row.depth > max_depth) continue;
    const std::string name = std::string(2 * static_cast<std::size_t>(row.depth), ' ') + row_name(row);
    std::snprintf(line, sizeof line, "%-*s %-22s %14s %18s\n", static_cast<int>(name_width), name.c_str(),
                  to_string(row.output_shape).c_str(), with_commas(row.parameters).c_str(),
                  with_commas(row.multiply_adds).c_str());
    out << line;
  }
  out << rule << "\n";
  out << "Input: " << to_string(s.input_shape) << "\n";
  out << "Total parameters: " << with_commas(s.parameters) << "\n";
  out << "Trainable parameters: " << with_commas(s.trainable_parameters) << "\n";
  out << "Non-trainable parameters: " << with_commas(s.parameters - s.trainable_parameters) << "\n";
  out << "Forward mult-adds: " << with_commas(s.forward_multiply_adds) << " (Conv2d and Linear)\n";
  out << "Backward mult-adds: " << with_commas(s.backward_multiply_adds)
      << " (input and weight gradients: 2x the forward)\n";
  out << rule << "\n";
  out << "Input size (MiB): " << mib(s.input_bytes) << "\n";
  out << "Activations kept for backward (MiB): " << mib(s.activation_bytes)
      << " (every leaf module's output that is new memory)\n";
  out << "Parameters (MiB): " << mib(s.parameter_bytes) << "\n";
  out << "Estimated total (MiB): " << mib(s.input_bytes + s.activation_bytes + s.parameter_bytes) << "\n";
  out << rule << "\n";
  return out.str();
}

}  // namespace fluxion::nn
