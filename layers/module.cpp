#include "layers/module.h"

#include <sstream>

#include "core/backend.h"
#include "core/factory.h"
#include "core/grad_mode.h"

namespace fluxion::nn {

Tensor Module::forward(const Tensor&) {
  throw Error(detail::concat(type_name(), " has no forward(const Tensor&): it is a container; call its children"));
}

void Module::check_new_name(const std::string& name) const {
  FLUXION_CHECK(!name.empty() && name.find('.') == std::string::npos, type_name(),
                ": a parameter, buffer or child name must be non-empty and contain no '.', got '", name, "'");
  auto taken = [&](const auto& list) {
    for (const auto& [n, _] : list)
      if (n == name) return true;
    return false;
  };
  FLUXION_CHECK(!taken(parameters_) && !taken(buffers_) && !taken(children_), type_name(), ": the name '", name,
                "' is already registered");
}

Tensor Module::register_parameter(const std::string& name, Tensor tensor, bool requires_grad) {
  check_new_name(name);
  FLUXION_CHECK(tensor.defined(), type_name(), ": parameter '", name, "' is undefined");
  FLUXION_CHECK(tensor.is_leaf(), type_name(), ": parameter '", name,
                "' is the result of an op; register a leaf (detach() it)");
  tensor.requires_grad_(requires_grad);
  parameters_.emplace_back(name, tensor);
  return tensor;
}

Tensor Module::register_buffer(const std::string& name, Tensor tensor) {
  if (!tensor.defined()) return tensor;
  check_new_name(name);
  buffers_.emplace_back(name, tensor);
  return tensor;
}

void Module::add_child(const std::string& name, ModulePtr module) {
  check_new_name(name);
  FLUXION_CHECK(module != nullptr, type_name(), ": child module '", name, "' is null");
  children_.emplace_back(name, std::move(module));
}

void Module::collect(const std::string& prefix, bool params, bool buffers, bool recurse, NamedTensors& out) const {
  if (params)
    for (const auto& [name, t] : parameters_) out.emplace_back(prefix + name, t);
  if (buffers)
    for (const auto& [name, t] : buffers_) out.emplace_back(prefix + name, t);
  if (!recurse) return;
  for (const auto& [name, child] : children_) child->collect(prefix + name + ".", params, buffers, true, out);
}

std::vector<Tensor> Module::parameters(bool recurse) const {
  std::vector<Tensor> out;
  for (auto& [_, t] : named_parameters(recurse)) out.push_back(t);
  return out;
}

NamedTensors Module::named_parameters(bool recurse) const {
  NamedTensors out;
  collect("", true, false, recurse, out);
  return out;
}

NamedTensors Module::named_buffers(bool recurse) const {
  NamedTensors out;
  collect("", false, true, recurse, out);
  return out;
}

NamedModules Module::named_modules() const {
  NamedModules out;
  for (const auto& [name, child] : children_) {
    out.emplace_back(name, child);
    for (auto& [sub, m] : child->named_modules()) out.emplace_back(name + "." + sub, m);
  }
  return out;
}

std::int64_t Module::num_parameters() const {
  std::int64_t total = 0;
  for (const auto& [_, t] : named_parameters()) total += t.numel();
  return total;
}

NamedTensors Module::named_state() const {
  NamedTensors out;
  collect("", true, true, true, out);
  return out;
}

TensorMap Module::state_dict() const {
  TensorMap out;
  for (auto& [name, t] : named_state()) out.emplace(name, t);
  return out;
}

void Module::load_state_dict(const TensorMap& state, bool strict, const std::string& source) {
  load_into(state_dict(), state, strict, source);
}

void Module::save(const std::string& path, const Metadata& metadata) const {
  save_safetensors(path, state_dict(), metadata);
}

void Module::load(const std::string& path, bool strict) { load_state_dict(load_safetensors(path).tensors, strict, path); }

void Module::train(bool on) {
  training_ = on;
  for (auto& [_, child] : children_) child->train(on);
}

void Module::zero_grad() {
  for (auto& [_, t] : named_parameters()) t.set_grad(Tensor());
}

void Module::to(DType dtype) {
  NoGradGuard no_grad;
  // set_data swaps the data under each handle, so every holder sees it.
  for (auto& [_, t] : parameters_)
    if (t.dtype() != dtype) t.set_data(t.to(dtype));
  for (auto& [_, t] : buffers_)
    if (t.dtype() != dtype && is_floating(t.dtype())) t.set_data(t.to(dtype));
  for (auto& [_, child] : children_) child->to(dtype);
}

void Module::to(Device device) {
  NoGradGuard no_grad;
  for (auto& [_, t] : parameters_) {
    if (t.device() == device) continue;
    Tensor grad = t.grad();
    t.set_data(t.detach().to(device));
    if (grad.defined()) t.set_grad(grad.to(device));
  }
  for (auto& [_, t] : buffers_)
    if (t.device() != device) t.set_data(t.to(device));
  for (auto& [_, child] : children_) child->to(device);
}

namespace {
void print(std::ostream& os, const Module& m, int indent) {
  os << m.type_name() << "(" << m.extra_repr();
  if (m.named_children().empty()) {
    os << ")";
    return;
  }
  const std::string pad(static_cast<std::size_t>(indent + 2), ' ');
  os << "\n";
  for (const auto& [name, child] : m.named_children()) {
    os << pad << "(" << name << "): ";
    print(os, *child, indent + 2);
    os << "\n";
  }
  os << std::string(static_cast<std::size_t>(indent), ' ') << ")";
}
}  // namespace

std::ostream& operator<<(std::ostream& os, const Module& module) {
  print(os, module, 0);
  return os;
}

}  // namespace fluxion::nn
