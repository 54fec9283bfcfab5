// Backpropagation: order the graph behind the root topologically (iteratively,
// so a graph of any depth is fine), then walk it from the root, handing each
// node the sum of the gradients flowing into it and routing what its backward
// returns to its inputs. Leaves accumulate into grad() with +=.
#include <unordered_map>

#include "autograd/node.h"
#include "autograd/trace.h"
#include "autograd/ops.h"
#include "core/backend.h"
#include "core/grad_mode.h"
#include "core/profiler.h"

namespace fluxion {
namespace {

[[noreturn]] void freed_graph(const Node& node) {
  throw Error(detail::concat("backward: trying to backward through the graph a second time (node '", node.name,
                             "' was freed by an earlier backward()); pass retain_graph=true to the first "
                             "backward() if you need to run it twice"));
}

// Nodes reachable from root, each after every node that feeds gradient into
// it. Owning pointers: releasing a node during the walk must not free the
// nodes still to be visited.
std::vector<std::shared_ptr<Node>> topological_order(const std::shared_ptr<Node>& root) {
  std::vector<std::shared_ptr<Node>> postorder;
  std::unordered_map<Node*, bool> visited;
  std::vector<std::pair<std::shared_ptr<Node>, std::size_t>> stack{{root, 0}};
  visited[root.get()] = true;
  while (!stack.empty()) {
    auto& [node, next] = stack.back();
    if (node->released) freed_graph(*node);
    if (next < node->inputs.size()) {
      std::shared_ptr<Node> child = node->inputs[next++].node;
      if (child && !visited[child.get()]) {
        visited[child.get()] = true;
        stack.emplace_back(std::move(child), 0);
      }
    } else {
      postorder.push_back(node);
      stack.pop_back();
    }
  }
  return {postorder.rbegin(), postorder.rend()};
}

// True when nothing but `grad` itself refers to its memory, so it can become a
// leaf's grad without a copy.
bool exclusively_owned(const Tensor& grad) {
  return grad.impl_ptr().use_count() == 1 && grad.storage().use_count() == 1 && grad.is_contiguous() &&
         grad.offset() == 0 && grad.storage()->nbytes() == grad.numel() * element_size(grad.dtype());
}

void accumulate_into_leaf(TensorImpl& leaf, Tensor grad) {
  profiler::Scope scope("gradient accumulation");
  if (!leaf.grad) {
    // Later accumulations write into grad in place, so it must not share
    // memory with anything else: keep it if it is ours alone, else copy.
    leaf.grad = exclusively_owned(grad) ? grad.impl_ptr() : grad.contiguous().clone().impl_ptr();
  } else {
    Tensor existing(leaf.grad);
    backend(existing.device()).binary(BinaryOp::add, existing, grad, existing);
  }
}

}  // namespace

void run_backward(const Tensor& root, const Tensor& gradient, bool retain_graph) {
  FLUXION_CHECK(root.requires_grad(), "backward: the tensor does not require grad and has no grad_fn; "
                                      "did you forget requires_grad_() on a parameter, or run under NoGradGuard?");
  Tensor seed = gradient;
  if (!seed.defined()) {
    FLUXION_CHECK(root.numel() == 1, "backward: a gradient can only be created implicitly for a one-element "
                                     "output; this output has shape ", to_string(root.shape()),
                  ", so pass backward(gradient) with that shape");
    seed = ones_like(root);
  }
  FLUXION_CHECK(seed.shape() == root.shape(), "backward: gradient shape ", to_string(seed.shape()),
                " does not match output shape ", to_string(root.shape()));
  FLUXION_CHECK(seed.dtype() == root.dtype(), "backward: gradient dtype ", seed.dtype(),
                " does not match output dtype ", root.dtype());

  NoGradGuard no_grad;
  if (root.is_leaf()) {
    accumulate_into_leaf(*root.impl(), seed.clone());
    return;
  }
  std::shared_ptr<Node> root_node = root.grad_fn();  // keeps the graph alive while we walk it
  std::vector<std::shared_ptr<Node>> order = topological_order(root_node);
  std::unordered_map<Node*, Tensor> pending{{root_node.get(), seed}};

  for (const auto& node : order) {
    auto it = pending.find(node.get());
    if (it == pending.end()) continue;  // no gradient reached this node
    Tensor grad = std::move(it->second);
    pending.erase(it);
    TensorList input_grads;
    try {
      // The name string is only built when this thread is profiling.
      profiler::Scope scope(profiler::recording() ? node->name + " backward" : std::string());
      input_grads = node->backward(grad);
    } catch (const Error& e) {
      throw Error(detail::concat("backward of '", node->name, "': ", e.what()));
    }
    FLUXION_CHECK(input_grads.size() == node->inputs.size(), "backward of '", node->name, "' returned ",
                  input_grads.size(), " gradients for ", node->inputs.size(), " inputs");
    if (const trace::BackwardHook* hook = trace::backward_hook()) (*hook)(*node, grad, input_grads);
    for (std::size_t i = 0; i < input_grads.size(); ++i) {
      const Edge& edge = node->inputs[i];
      Tensor& g = input_grads[i];
      if (!g.defined() || (!edge.node && !edge.leaf)) continue;
      FLUXION_CHECK(g.shape() == node->input_shapes[i], "backward of '", node->name, "': gradient for input ", i,
                    " has shape ", to_string(g.shape()), ", expected ", to_string(node->input_shapes[i]));
      if (edge.leaf) {
        accumulate_into_leaf(*edge.leaf, std::move(g));
      } else {
        auto [slot, inserted] = pending.try_emplace(edge.node.get(), g);
        if (!inserted) {
          profiler::Scope scope("gradient accumulation");
          slot->second = slot->second + g;
        }
      }
    }
    if (!retain_graph) node->release();
  }
}

void Tensor::backward(const Tensor& gradient, bool retain_graph) const { run_backward(*this, gradient, retain_graph); }

}  // namespace fluxion
