#include "autograd/node.h"
#include "autograd/trace.h"

#include <string_view>

#include "core/grad_mode.h"

namespace fluxion {

void Node::release() {
  backward = nullptr;
  inputs.clear();
  input_shapes.clear();
  released = true;
}

Node::~Node() {
  // Move each node we solely own onto an explicit stack, empty its edges
  // there, and let it die with nothing left to destroy recursively. The
  // backward function is dropped first: anything it captured is also held
  // by an edge, so use_count() below then counts only edges and outside users.
  std::vector<std::shared_ptr<Node>> stack;
  auto take_edges = [&stack](Node& node) {
    node.backward = nullptr;
    for (auto& edge : node.inputs)
      if (edge.node && edge.node.use_count() == 1) stack.push_back(std::move(edge.node));
    node.inputs.clear();
  };
  take_edges(*this);
  while (!stack.empty()) {
    std::shared_ptr<Node> node = std::move(stack.back());
    stack.pop_back();
    take_edges(*node);
  }
}

bool should_record(const TensorList& inputs) {
  if (!is_grad_enabled()) return false;
  for (const auto& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

std::vector<std::int64_t> OpAttributes::get_ints(const char* key, std::vector<std::int64_t> fallback) const {
  for (const auto& [k, v] : int_lists)
    if (std::string_view(k) == key) return v;
  return fallback;
}

double OpAttributes::get_real(const char* key, double fallback) const {
  for (const auto& [k, v] : reals)
    if (std::string_view(k) == key) return v;
  return fallback;
}

void record(const Tensor& out, const char* name, const TensorList& inputs, BackwardFn backward,
            const OpAttributes& attributes) {
  if (!should_record(inputs)) return;
  auto node = std::make_shared<Node>();
  node->name = name;
  node->scope = trace::current_scope();
  node->backward = std::move(backward);
  for (const auto& t : inputs) {
    Edge edge;
    if (t.defined() && t.requires_grad()) {
      if (t.grad_fn()) edge.node = t.grad_fn();
      else edge.leaf = t.impl_ptr();
    }
    node->inputs.push_back(std::move(edge));
    node->input_shapes.push_back(t.defined() ? t.shape() : Shape{});
  }
  out.impl()->requires_grad = true;
  out.impl()->grad_fn = std::move(node);
  if (const trace::RecordHook* hook = trace::record_hook()) (*hook)(name, inputs, out, attributes);
}

}  // namespace fluxion
