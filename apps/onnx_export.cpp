#include "apps/onnx_export.h"

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <functional>
#include <unordered_map>
#include <unordered_set>

#include "autograd/ops.h"
#include "autograd/trace.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/factory.h"
#include "core/grad_mode.h"
#include "core/version.h"
#include "layers/forward_trace.h"

namespace fluxion::apps {
namespace {

// One op as the trace saw it. Holding the tensors keeps them alive, so no
// TensorImpl address is reused while the export runs.
struct RecordedOp {
  std::string op;
  std::string scope;  // the module path ("" for the traced model itself)
  TensorList inputs;
  Tensor output;
  OpAttributes attributes;
};

std::string module_path(const std::string& scope) {
  return scope.empty() ? "the model's own forward" : "module '" + scope + "'";
}

// Runs model.forward(example) with every recorded op reported. The input
// requires grad, so everything computed from it is recorded.
std::vector<RecordedOp> trace_forward(nn::Module& model, const Tensor& example, Tensor& input, Tensor& output) {
  std::vector<RecordedOp> ops;
  const bool grad_was_enabled = is_grad_enabled();
  set_grad_enabled(true);
  input = example.detach().contiguous().clone();
  input.requires_grad_(true);
  try {
    nn::ForwardObserver quiet;  // the trace only labels ops with their module
    nn::TraceForward module_trace(model, quiet);
    trace::RecordHookGuard hook([&ops](const char* op, const TensorList& inputs, const Tensor& out,
                                       const OpAttributes& attributes) {
      ops.push_back({op, trace::current_scope(), inputs, out, attributes});
    });
    output = model.forward(input);
  } catch (...) {
    set_grad_enabled(grad_was_enabled);
    throw;
  }
  set_grad_enabled(grad_was_enabled);
  return ops;
}

// The tensors computed from the input: the input and the outputs of ops with
// a computed input. Every other op input is a constant of the program.
std::unordered_map<const TensorImpl*, std::size_t> computed_tensors(const std::vector<RecordedOp>& ops,
                                                                    const Tensor& input) {
  std::unordered_map<const TensorImpl*, std::size_t> computed{{input.impl(), ops.size()}};  // -> producing op
  for (std::size_t k = 0; k < ops.size(); ++k)
    for (const Tensor& t : ops[k].inputs)
      if (t.defined() && computed.contains(t.impl())) {
        computed[ops[k].output.impl()] = k;
        break;
      }
  return computed;
}

// A constant of shape [1, C, 1, 1] beside a computed [N, C, H, W] tensor.
bool per_channel_of(const Tensor& constant, const Tensor& x) {
  return x.dim() == 4 && constant.dim() == 4 && constant.size(0) == 1 && constant.size(1) == x.size(1) &&
         constant.size(2) == 1 && constant.size(3) == 1;
}

// An eval-mode batchnorm is recorded as y = x * scale + shift with [1, C, 1,
// 1] constants (autograd/ops/batch_norm.cpp). Each such mul whose output
// only feeds such an add is exported with it as one BatchNormalization
// (mean 0, variance 1, epsilon 0: exactly x * scale + shift), the form every
// runtime knows; OpenCV 4.6 miscomputes the Mul and Add pair where x has a
// second consumer, as in DenseNet. Returns add op -> its mul op.
std::unordered_map<std::size_t, std::size_t> batchnorm_pairs(const std::vector<RecordedOp>& ops, const Tensor& input,
                                                             const Tensor& output) {
  const auto computed = computed_tensors(ops, input);
  const auto is_computed = [&](const Tensor& t) { return t.defined() && computed.contains(t.impl()); };
  std::unordered_map<const TensorImpl*, std::size_t> uses;
  for (const RecordedOp& r : ops)
    for (const Tensor& t : r.inputs)
      if (is_computed(t)) ++uses[t.impl()];
  ++uses[output.impl()];
  // The computed operand and the per-channel constant of a binary op, or nothing.
  const auto split = [&](const RecordedOp& r, const char* op) -> std::pair<const Tensor*, const Tensor*> {
    if (r.op != op || r.inputs.size() != 2) return {nullptr, nullptr};
    for (int computed_at : {0, 1}) {
      const Tensor& x = r.inputs[computed_at];
      const Tensor& c = r.inputs[1 - computed_at];
      if (is_computed(x) && !is_computed(c) && per_channel_of(c, x) && x.shape() == r.output.shape()) return {&x, &c};
    }
    return {nullptr, nullptr};
  };
  std::unordered_map<std::size_t, std::size_t> pairs;
  for (std::size_t a = 0; a < ops.size(); ++a) {
    const auto [scaled, shift] = split(ops[a], "add");
    if (!scaled) continue;
    const auto producer = computed.find(scaled->impl());
    if (producer == computed.end() || producer->second >= ops.size() || uses[scaled->impl()] != 1) continue;
    const std::size_t m = producer->second;
    if (split(ops[m], "mul").first) pairs.emplace(a, m);
  }
  return pairs;
}

onnx::TensorProto_DataType onnx_dtype(DType dtype) {
  switch (dtype) {
    case DType::float32: return onnx::TensorProto_DataType_FLOAT;
    case DType::float64: return onnx::TensorProto_DataType_DOUBLE;
    case DType::int64: return onnx::TensorProto_DataType_INT64;
  }
  return onnx::TensorProto_DataType_UNDEFINED;
}

class Emitter;
using EmitFn = void (*)(Emitter&, const RecordedOp&);

// One row per op that record()s: how it becomes ONNX nodes, or why it
// cannot. tests/test_onnx_export.cpp checks that every op name recorded in
// autograd/ is a row, so a new op cannot be forgotten here.
struct OnnxOpRow {
  OnnxOpRow(const char* op_name, EmitFn emitter) : op(op_name), emit(emitter) {}
  OnnxOpRow(const char* op_name, std::nullptr_t, const char* reason) : op(op_name), why_not(reason) {}
  const char* op;
  EmitFn emit = nullptr;  // nullptr: not exportable, because of why_not
  const char* why_not = "";
};

const std::vector<OnnxOpRow>& onnx_op_table();

// Builds the graph: names values, writes initializers and nodes.
class Emitter {
 public:
  Emitter(onnx::GraphProto& graph, const nn::Module& model, bool dynamic_batch)
      : graph_(graph), dynamic_batch_(dynamic_batch) {
    for (const auto& [name, t] : model.named_state()) state_names_.emplace(t.impl(), name);
  }

  void set_value_name(const Tensor& t, const std::string& name) { values_[t.impl()] = name; }
  bool is_value(const Tensor& t) const { return t.defined() && values_.contains(t.impl()); }
  bool dynamic_batch() const { return dynamic_batch_; }
  std::size_t node_count() const { return static_cast<std::size_t>(graph_.node_size()); }
  std::size_t initializer_count() const { return static_cast<std::size_t>(graph_.initializer_size()); }

  // The ONNX name of one op input: a computed value, or a constant written
  // once as an initializer (named after the state_dict entry when it is one).
  std::string input(const RecordedOp& r, std::size_t i) {
    const Tensor& t = r.inputs.at(i);
    FLUXION_CHECK(t.defined(), "onnx export: input ", i, " of ", r.op, " is undefined");
    if (auto it = values_.find(t.impl()); it != values_.end()) return it->second;
    if (auto it = constants_.find(t.impl()); it != constants_.end()) return it->second;
    const auto state = state_names_.find(t.impl());
    const std::string name = state != state_names_.end()
                                 ? state->second
                                 : (r.scope.empty() ? "" : r.scope + ".") + r.op + "_constant_" +
                                       std::to_string(constants_.size());
    add_initializer(name, t);
    constants_.emplace(t.impl(), name);
    return name;
  }

  // The name of the op's output, fresh.
  std::string output(const RecordedOp& r) {
    const std::string name = fresh(r.op);
    values_[r.output.impl()] = name;
    return name;
  }

  std::string fresh(const std::string& stem) { return stem + "_" + std::to_string(next_value_++); }

  onnx::NodeProto& node(const RecordedOp& r, const char* type, const std::vector<std::string>& inputs,
                        const std::string& output) {
    onnx::NodeProto& n = *graph_.add_node();
    n.set_op_type(type);
    n.set_name((r.scope.empty() ? std::string() : r.scope + "/") + type + "_" + std::to_string(graph_.node_size()));
    for (const auto& in : inputs) n.add_input(in);
    n.add_output(output);
    return n;
  }

  std::string int64_constant(const std::string& stem, const std::vector<std::int64_t>& values) {
    Tensor t = empty({static_cast<std::int64_t>(values.size())}, kInt64);
    if (!values.empty()) std::memcpy(t.raw_data(), values.data(), values.size() * sizeof(std::int64_t));
    const std::string name = fresh(stem);
    add_initializer(name, t);
    keep_.push_back(t);
    return name;
  }

  // A [1, C, 1, 1] constant as a [C] initializer, or a [C] one of `fill`.
  std::string channel_constant(const std::string& stem, const Tensor& per_channel) {
    const Tensor t = per_channel.detach().reshape({per_channel.numel()}).contiguous().clone();
    const std::string name = fresh(stem);
    add_initializer(name, t);
    keep_.push_back(t);
    return name;
  }

  std::string scalar_constant(const std::string& stem, double value, DType dtype) {
    const Tensor t = scalar_tensor(value, TensorOptions(dtype));
    const std::string name = fresh(stem);
    add_initializer(name, t);
    keep_.push_back(t);
    return name;
  }

  // True when the op's input i is a constant whose every element is zero.
  bool is_zero_constant(const RecordedOp& r, std::size_t i) const {
    const Tensor& t = r.inputs.at(i);
    if (is_value(t) || !is_floating(t.dtype())) return false;
    for (double v : t.to_vector<double>())
      if (v != 0.0) return false;
    return true;
  }

  // A target shape for Reshape: with a dynamic batch, a first dimension that
  // keeps the input's is 0 ("copy it"), so other batch sizes reshape too.
  std::vector<std::int64_t> reshape_target(const Tensor& in, const Tensor& out) const {
    std::vector<std::int64_t> shape(out.shape().begin(), out.shape().end());
    if (dynamic_batch_ && in.dim() > 0 && out.dim() > 0 && in.size(0) == out.size(0)) shape[0] = 0;
    return shape;
  }

 private:
  void add_initializer(const std::string& name, const Tensor& t) {
    onnx::TensorProto& init = *graph_.add_initializer();
    init.set_name(name);
    init.set_data_type(onnx_dtype(t.dtype()));
    for (std::int64_t d : t.shape()) init.add_dims(d);
    const Tensor c = t.detach().contiguous();
    init.set_raw_data(std::string(static_cast<const char*>(c.raw_data()),
                                  static_cast<std::size_t>(c.numel()) * element_size(c.dtype())));
  }

  onnx::GraphProto& graph_;
  bool dynamic_batch_;
  std::unordered_map<const TensorImpl*, std::string> state_names_, values_, constants_;
  std::vector<Tensor> keep_;  // constants made here, alive while their addresses are keys
  std::size_t next_value_ = 0;
};

void add_ints(onnx::NodeProto& n, const char* name, const std::vector<std::int64_t>& values) {
  onnx::AttributeProto& a = *n.add_attribute();
  a.set_name(name);
  a.set_type(onnx::AttributeProto_AttributeType_INTS);
  for (std::int64_t v : values) a.add_ints(v);
}

void add_int(onnx::NodeProto& n, const char* name, std::int64_t value) {
  onnx::AttributeProto& a = *n.add_attribute();
  a.set_name(name);
  a.set_type(onnx::AttributeProto_AttributeType_INT);
  a.set_i(value);
}

// [h, w] padding as ONNX's [h_begin, w_begin, h_end, w_end].
std::vector<std::int64_t> pads_of(const std::vector<std::int64_t>& padding) {
  return {padding.at(0), padding.at(1), padding.at(0), padding.at(1)};
}

// --- the emitters, one per kind of op ------------------------------------------

template <const char* Type>
void elementwise(Emitter& e, const RecordedOp& r) {
  std::vector<std::string> inputs;
  for (std::size_t i = 0; i < r.inputs.size(); ++i) inputs.push_back(e.input(r, i));
  e.node(r, Type, inputs, e.output(r));
}

constexpr char kAdd[] = "Add", kSub[] = "Sub", kMul[] = "Mul", kDiv[] = "Div", kNeg[] = "Neg", kRelu[] = "Relu",
               kSigmoid[] = "Sigmoid", kTanh[] = "Tanh", kExp[] = "Exp", kLog[] = "Log", kSqrt[] = "Sqrt",
               kAbs[] = "Abs", kMatMul[] = "MatMul", kIdentity[] = "Identity";

// relu(a + b), one op here, Add then Relu in ONNX.
void emit_add_relu(Emitter& e, const RecordedOp& r) {
  const std::string sum = e.fresh("add");
  e.node(r, kAdd, {e.input(r, 0), e.input(r, 1)}, sum);
  e.node(r, kRelu, {sum}, e.output(r));
}

void emit_pow(Emitter& e, const RecordedOp& r) {
  const std::string exponent = e.scalar_constant("exponent", r.attributes.get_real("exponent"), r.output.dtype());
  e.node(r, "Pow", {e.input(r, 0), exponent}, e.output(r));
}

void emit_clamp(Emitter& e, const RecordedOp& r) {
  const std::string lo = e.scalar_constant("min", r.attributes.get_real("min"), r.output.dtype());
  const std::string hi = e.scalar_constant("max", r.attributes.get_real("max"), r.output.dtype());
  e.node(r, "Clip", {e.input(r, 0), lo, hi}, e.output(r));
}

void emit_conv2d(Emitter& e, const RecordedOp& r) {
  std::vector<std::string> inputs{e.input(r, 0), e.input(r, 1)};
  if (r.inputs.size() > 2 && r.inputs[2].defined()) inputs.push_back(e.input(r, 2));
  onnx::NodeProto& n = e.node(r, "Conv", inputs, e.output(r));
  add_ints(n, "kernel_shape", {r.inputs[1].size(2), r.inputs[1].size(3)});
  add_ints(n, "strides", r.attributes.get_ints("stride"));
  add_ints(n, "pads", pads_of(r.attributes.get_ints("padding")));
  add_ints(n, "dilations", r.attributes.get_ints("dilation"));
  add_int(n, "group", r.attributes.get_ints("groups").at(0));
}

void pool(Emitter& e, const RecordedOp& r, const char* type) {
  onnx::NodeProto& n = e.node(r, type, {e.input(r, 0)}, e.output(r));
  add_ints(n, "kernel_shape", r.attributes.get_ints("kernel"));
  add_ints(n, "strides", r.attributes.get_ints("stride"));
  add_ints(n, "pads", pads_of(r.attributes.get_ints("padding")));
  add_int(n, "ceil_mode", r.attributes.get_ints("ceil_mode").at(0));
  if (std::string(type) == "AveragePool")
    add_int(n, "count_include_pad", r.attributes.get_ints("count_include_pad").at(0));
}

void emit_max_pool2d(Emitter& e, const RecordedOp& r) { pool(e, r, "MaxPool"); }
void emit_avg_pool2d(Emitter& e, const RecordedOp& r) { pool(e, r, "AveragePool"); }

// cat: Concat, except that a computed tensor between all-zero constants (the
// option-A shortcut of the CIFAR ResNets) is a Pad, which works for any
// batch size where a Concat with constant zeros would fix it.
void emit_cat(Emitter& e, const RecordedOp& r) {
  const std::int64_t dim = r.attributes.get_ints("dim").at(0);
  std::size_t computed = 0, at = 0;
  bool zeros_elsewhere = true;
  for (std::size_t i = 0; i < r.inputs.size(); ++i) {
    if (e.is_value(r.inputs[i])) {
      ++computed;
      at = i;
    } else {
      zeros_elsewhere = zeros_elsewhere && e.is_zero_constant(r, i);
    }
  }
  if (computed == 1 && zeros_elsewhere && r.inputs.size() > 1) {
    std::int64_t before = 0, after = 0;
    for (std::size_t i = 0; i < r.inputs.size(); ++i)
      (i < at ? before : after) += i == at ? 0 : r.inputs[i].size(dim);
    const std::int64_t rank = r.output.dim();
    std::vector<std::int64_t> pads(static_cast<std::size_t>(2 * rank), 0);
    pads[static_cast<std::size_t>(dim)] = before;
    pads[static_cast<std::size_t>(rank + dim)] = after;
    e.node(r, "Pad", {e.input(r, at), e.int64_constant("pads", pads)}, e.output(r));
    return;
  }
  std::vector<std::string> inputs;
  for (std::size_t i = 0; i < r.inputs.size(); ++i) inputs.push_back(e.input(r, i));
  add_int(e.node(r, "Concat", inputs, e.output(r)), "axis", dim);
}

// sum over the spatial dims of NCHW with keepdim is GlobalAveragePool times
// H * W, the form every runtime knows (adaptive average pooling to 1x1 and
// mean() end here); other sums are ReduceSum.
void emit_sum(Emitter& e, const RecordedOp& r) {
  const std::vector<std::int64_t> dims = r.attributes.get_ints("dims");
  const bool keepdim = r.attributes.get_ints("keepdim").at(0) != 0;
  const Tensor& x = r.inputs.at(0);
  if (x.dim() == 4 && keepdim && dims == std::vector<std::int64_t>{2, 3}) {
    const std::string mean = e.fresh("spatial_mean");
    e.node(r, "GlobalAveragePool", {e.input(r, 0)}, mean);
    const std::string count =
        e.scalar_constant("spatial_count", static_cast<double>(x.size(2) * x.size(3)), x.dtype());
    e.node(r, "Mul", {mean, count}, e.output(r));
    return;
  }
  onnx::NodeProto& n = e.node(r, "ReduceSum", {e.input(r, 0), e.int64_constant("axes", dims)}, e.output(r));
  add_int(n, "keepdims", keepdim ? 1 : 0);
}

void emit_max(Emitter& e, const RecordedOp& r) {
  onnx::NodeProto& n = e.node(r, "ReduceMax", {e.input(r, 0)}, e.output(r));
  add_ints(n, "axes", r.attributes.get_ints("dim"));
  add_int(n, "keepdims", r.attributes.get_ints("keepdim").at(0));
}

void emit_softmax(Emitter& e, const RecordedOp& r) {
  add_int(e.node(r, "Softmax", {e.input(r, 0)}, e.output(r)), "axis", r.attributes.get_ints("dim").at(0));
}

void emit_log_softmax(Emitter& e, const RecordedOp& r) {
  add_int(e.node(r, "LogSoftmax", {e.input(r, 0)}, e.output(r)), "axis", r.attributes.get_ints("dim").at(0));
}

void emit_reshape(Emitter& e, const RecordedOp& r) {
  const std::string shape = e.int64_constant("shape", e.reshape_target(r.inputs.at(0), r.output));
  e.node(r, "Reshape", {e.input(r, 0), shape}, e.output(r));
}

void emit_permute(Emitter& e, const RecordedOp& r) {
  add_ints(e.node(r, "Transpose", {e.input(r, 0)}, e.output(r)), "perm", r.attributes.get_ints("dims"));
}

void emit_slice(Emitter& e, const RecordedOp& r) {
  const auto one = [&](const char* key) { return std::vector<std::int64_t>{r.attributes.get_ints(key).at(0)}; };
  e.node(r, "Slice",
         {e.input(r, 0), e.int64_constant("starts", one("start")), e.int64_constant("ends", one("end")),
          e.int64_constant("axes", one("dim")), e.int64_constant("steps", one("step"))},
         e.output(r));
}

void emit_expand(Emitter& e, const RecordedOp& r) {
  const std::vector<std::int64_t> shape(r.output.shape().begin(), r.output.shape().end());
  e.node(r, "Expand", {e.input(r, 0), e.int64_constant("shape", shape)}, e.output(r));
}

void emit_to(Emitter& e, const RecordedOp& r) {
  if (r.output.dtype() == r.inputs.at(0).dtype()) {  // a move between devices
    e.node(r, "Identity", {e.input(r, 0)}, e.output(r));
    return;
  }
  add_int(e.node(r, "Cast", {e.input(r, 0)}, e.output(r)), "to", onnx_dtype(r.output.dtype()));
}

// y = x * scale + shift (the two recorded ops of an eval-mode batchnorm) as
// BatchNormalization with mean 0 and variance 1; epsilon 0 keeps it exact.
void emit_batchnorm(Emitter& e, const RecordedOp& mul, const RecordedOp& add) {
  const bool x_first = e.is_value(mul.inputs[0]);
  const Tensor& x = mul.inputs[x_first ? 0 : 1];
  const Tensor& scale = mul.inputs[x_first ? 1 : 0];
  const Tensor& shift = add.inputs[e.is_value(add.inputs[0]) ? 1 : 0];
  const std::string at = add.scope.empty() ? "" : add.scope + ".";
  const std::string scale_name = e.channel_constant(at + "scale", scale);
  const std::string shift_name = e.channel_constant(at + "shift", shift);
  const std::string mean = e.channel_constant(at + "zero_mean", zeros_like(shift));
  const std::string var = e.channel_constant(at + "unit_var", ones_like(shift));
  const RecordedOp x_op{"batch_norm", add.scope, {x}, Tensor(), {}};
  onnx::NodeProto& n =
      e.node(add, "BatchNormalization", {e.input(x_op, 0), scale_name, shift_name, mean, var}, e.output(add));
  onnx::AttributeProto& epsilon = *n.add_attribute();
  epsilon.set_name("epsilon");
  epsilon.set_type(onnx::AttributeProto_AttributeType_FLOAT);
  epsilon.set_f(0.0f);
}

const std::vector<OnnxOpRow>& onnx_op_table() {
  static const std::vector<OnnxOpRow> table{
      {"add", elementwise<kAdd>},
      {"sub", elementwise<kSub>},
      {"mul", elementwise<kMul>},
      {"div", elementwise<kDiv>},
      {"neg", elementwise<kNeg>},
      {"relu", elementwise<kRelu>},
      {"add_relu", emit_add_relu},
      {"sigmoid", elementwise<kSigmoid>},
      {"tanh", elementwise<kTanh>},
      {"exp", elementwise<kExp>},
      {"log", elementwise<kLog>},
      {"sqrt", elementwise<kSqrt>},
      {"abs", elementwise<kAbs>},
      {"pow", emit_pow},
      {"clamp", emit_clamp},
      {"matmul", elementwise<kMatMul>},
      {"conv2d", emit_conv2d},
      {"max_pool2d", emit_max_pool2d},
      {"avg_pool2d", emit_avg_pool2d},
      {"cat", emit_cat},
      {"sum", emit_sum},
      {"max", emit_max},
      {"softmax", emit_softmax},
      {"log_softmax", emit_log_softmax},
      {"view", emit_reshape},
      {"reshape", emit_reshape},
      {"unsqueeze", emit_reshape},
      {"squeeze", emit_reshape},
      {"permute", emit_permute},
      {"slice", emit_slice},
      {"expand", emit_expand},
      {"clone", elementwise<kIdentity>},
      {"to", emit_to},
      {"batch_norm", nullptr,
       "it is recorded only in training mode (batch statistics); export traces eval mode, where batchnorm is a "
       "per-channel multiply and add. Is a module forcing training mode?"},
      {"batch_norm_relu", nullptr,
       "it is recorded only in training mode (batch statistics); export traces eval mode, where it is a "
       "per-channel multiply and add, then relu. Is a module forcing training mode?"},
      {"gather", nullptr, "its index is not an input of the recording, so a trace cannot tell a constant one from one "
                          "computed from the input"},
      {"where", nullptr, "its mask is not an input of the recording, so a trace cannot tell a constant one from one "
                         "computed from the input"},
  };
  return table;
}

// A constant input of a computed op, for comparing two traces.
struct ConstantUse {
  std::size_t op;
  std::size_t input;
  Tensor value;
};

std::vector<ConstantUse> constant_uses(const std::vector<RecordedOp>& ops, const Tensor& input) {
  std::unordered_map<const TensorImpl*, bool> computed{{input.impl(), true}};
  std::vector<ConstantUse> uses;
  for (std::size_t k = 0; k < ops.size(); ++k) {
    const RecordedOp& r = ops[k];
    bool from_input = false;
    for (const Tensor& t : r.inputs) from_input = from_input || (t.defined() && computed.contains(t.impl()));
    if (!from_input) continue;
    computed[r.output.impl()] = true;
    for (std::size_t i = 0; i < r.inputs.size(); ++i)
      if (r.inputs[i].defined() && !computed.contains(r.inputs[i].impl())) uses.push_back({k, i, r.inputs[i]});
  }
  return uses;
}

// The trace is a program only if it does not depend on the input outside
// the recorded ops: a second trace on another input must run the same ops
// with the same constants. A detach(), a comparison or an argmax on the way
// from the input would otherwise be frozen into a constant silently.
void check_same_program(nn::Module& model, const Tensor& example, const std::vector<RecordedOp>& ops,
                        const Tensor& input) {
  Tensor other_input, other_output;
  const Tensor other_example = example.detach() * -1.5 + 0.25;
  const std::vector<RecordedOp> other = trace_forward(model, other_example, other_input, other_output);
  FLUXION_CHECK_INPUT(other.size() == ops.size(), "onnx export: the forward ran ", ops.size(), " ops on one input and ",
                      other.size(), " on another: it depends on the input's values (control flow), which a traced "
                      "graph cannot express");
  for (std::size_t k = 0; k < ops.size(); ++k)
    FLUXION_CHECK_INPUT(ops[k].op == other[k].op, "onnx export: op ", k, " is ", ops[k].op, " for one input and ",
                        other[k].op, " for another (in ", module_path(ops[k].scope),
                        "): the forward depends on the input's values");
  const std::vector<ConstantUse> a = constant_uses(ops, input), b = constant_uses(other, other_input);
  FLUXION_CHECK_INPUT(a.size() == b.size(), "onnx export: the forward's constants differ between two inputs");
  for (std::size_t u = 0; u < a.size(); ++u) {
    const RecordedOp& r = ops[a[u].op];
    const bool same = a[u].op == b[u].op && a[u].input == b[u].input && a[u].value.shape() == b[u].value.shape() &&
                      a[u].value.dtype() == b[u].value.dtype() &&
                      a[u].value.to_vector<double>() == b[u].value.to_vector<double>();
    FLUXION_CHECK_INPUT(same, "onnx export: input ", a[u].input, " of ", r.op, " in ", module_path(r.scope),
                        " depends on the model's input through something the recording does not see (detach(), a "
                        "comparison, argmax, or an op on data without grad); it cannot be exported");
  }
}

}  // namespace

OnnxExportSummary export_onnx(nn::Module& model, const Tensor& example, const std::string& path,
                              const OnnxExportOptions& options) {
  FLUXION_CHECK_INPUT(example.dim() >= 1, "onnx export: the example input needs a batch dimension, got shape ",
                      to_string(example.shape()));
  model.eval();
  Tensor input, output;
  const std::vector<RecordedOp> ops = trace_forward(model, example, input, output);
  FLUXION_CHECK_INPUT(output.defined() && is_floating(output.dtype()),
                      "onnx export: the forward must return a floating-point tensor");
  check_same_program(model, example, ops, input);

  onnx::ModelProto proto;
  proto.set_ir_version(onnx::IR_VERSION);
  proto.set_producer_name("fluxion");
  proto.set_producer_version(version());
  onnx::OperatorSetIdProto& opset = *proto.add_opset_import();
  opset.set_domain("");
  opset.set_version(options.opset);
  onnx::GraphProto& graph = *proto.mutable_graph();
  graph.set_name(options.graph_name);

  Emitter emitter(graph, model, options.dynamic_batch);
  emitter.set_value_name(input, "input");
  const auto batchnorms = batchnorm_pairs(ops, input, output);
  std::unordered_set<std::size_t> fused_muls;
  for (const auto& [add, mul] : batchnorms) fused_muls.insert(mul);
  for (std::size_t k = 0; k < ops.size(); ++k) {
    const RecordedOp& r = ops[k];
    bool from_input = false;
    for (const Tensor& t : r.inputs) from_input = from_input || emitter.is_value(t);
    if (!from_input) continue;  // a constant of the program: an initializer where it is used
    if (fused_muls.contains(k)) {  // exported with its add, below
      emitter.set_value_name(r.output, "");
      continue;
    }
    if (const auto pair = batchnorms.find(k); pair != batchnorms.end()) {
      emit_batchnorm(emitter, ops[pair->second], r);
      continue;
    }
    const auto& table = onnx_op_table();
    const auto row = std::find_if(table.begin(), table.end(), [&](const OnnxOpRow& x) { return r.op == x.op; });
    FLUXION_CHECK_INPUT(row != table.end(), "onnx export: op '", r.op, "' in ", module_path(r.scope),
                        " has no ONNX mapping (apps/onnx_export.cpp, onnx_op_table)");
    FLUXION_CHECK_INPUT(row->emit != nullptr, "onnx export: op '", r.op, "' in ", module_path(r.scope),
                        " cannot be exported: ", row->why_not);
    row->emit(emitter, r);
  }
  FLUXION_CHECK_INPUT(emitter.is_value(output) && output.impl() != input.impl(),
                      "onnx export: the model's output does not depend on its input");

  const auto type_of = [&](onnx::ValueInfoProto& info, const std::string& name, const Tensor& t) {
    info.set_name(name);
    onnx::TypeProto_Tensor& type = *info.mutable_type()->mutable_tensor_type();
    type.set_elem_type(onnx_dtype(t.dtype()));
    for (std::int64_t d = 0; d < t.dim(); ++d) {
      onnx::TensorShapeProto_Dimension& dim = *type.mutable_shape()->add_dim();
      if (d == 0 && options.dynamic_batch && t.size(0) == input.size(0)) dim.set_dim_param("batch");
      else dim.set_dim_value(t.size(d));
    }
  };
  type_of(*graph.add_input(), "input", input);
  type_of(*graph.add_output(), "output", output);
  // The emitter named the output value after its op; an Identity gives it
  // the public name.
  const RecordedOp tail{"output", "", {output}, Tensor(), {}};
  emitter.node(tail, "Identity", {emitter.input(tail, 0)}, "output");

  try {
    onnx::checker::check_model(proto);
  } catch (const std::exception& e) {
    throw Error(detail::concat("onnx export: onnx::checker refused the exported model (a bug in Fluxion's mapping): ",
                               e.what()));
  }
  std::string bytes;
  FLUXION_CHECK(proto.SerializeToString(&bytes), "onnx export: protobuf could not serialise the model");
  write_file_atomically(path, bytes, "fluxion export");

  OnnxExportSummary summary;
  summary.nodes = static_cast<std::size_t>(graph.node_size());
  summary.initializers = static_cast<std::size_t>(graph.initializer_size());
  summary.traced_ops = ops.size();
  summary.output = output.detach();
  return summary;
}

std::vector<std::string> onnx_exportable_ops() {
  std::vector<std::string> names;
  for (const auto& row : onnx_op_table())
    if (row.emit) names.push_back(row.op);
  return names;
}

std::vector<std::pair<std::string, std::string>> onnx_not_exportable_ops() {
  std::vector<std::pair<std::string, std::string>> names;
  for (const auto& row : onnx_op_table())
    if (!row.emit) names.emplace_back(row.op, row.why_not);
  return names;
}

std::string onnx_library_version() {
#ifdef FLUXION_ONNX_VERSION
  return FLUXION_ONNX_VERSION;
#else
  return "unknown";
#endif
}

}  // namespace fluxion::apps
