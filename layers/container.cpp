#include "layers/container.h"

#include "layers/forward_trace.h"

namespace fluxion::nn {
namespace {
const ModulePtr& child_at(const Module& m, std::size_t i) {
  FLUXION_CHECK(i < m.named_children().size(), m.type_name(), ": index ", i, " out of range for ",
                m.named_children().size(), " modules");
  return m.named_children()[i].second;
}
}  // namespace

Sequential::Sequential(std::initializer_list<ModulePtr> modules) {
  for (const auto& m : modules) push_back(m);
}

void Sequential::push_back(ModulePtr module) { register_module(std::to_string(size()), std::move(module)); }

const ModulePtr& Sequential::operator[](std::size_t i) const { return child_at(*this, i); }

Tensor Sequential::forward(const Tensor& x) {
  ForwardScope scope(*this, x);
  Tensor out = x;
  for (const auto& [_, child] : named_children()) out = child->forward(out);
  return scope.output(out);
}

ModuleList::ModuleList(std::initializer_list<ModulePtr> modules) {
  for (const auto& m : modules) push_back(m);
}

void ModuleList::push_back(ModulePtr module) { register_module(std::to_string(size()), std::move(module)); }

const ModulePtr& ModuleList::operator[](std::size_t i) const { return child_at(*this, i); }

}  // namespace fluxion::nn
