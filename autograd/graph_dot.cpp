#include "autograd/graph_dot.h"

#include <map>
#include <set>
#include <sstream>
#include <vector>

#include "autograd/node.h"

namespace fluxion {
namespace {

std::string shape_label(const Shape& shape) {
  std::string out;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) out += 'x';
    out += std::to_string(shape[i]);
  }
  return out.empty() ? "scalar" : out;
}

// DOT string literal contents.
std::string escaped(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

// The group of a scope at `depth`: its first `depth` dotted parts.
std::string group_of(const std::string& scope, int depth) {
  std::size_t end = 0;
  for (int i = 0; i < depth; ++i) {
    end = scope.find('.', i == 0 ? 0 : end + 1);
    if (end == std::string::npos) return scope;
  }
  return scope.substr(0, end);
}

}  // namespace

std::string graph_to_dot(const Tensor& output, const std::unordered_map<const TensorImpl*, std::string>& leaf_names,
                         const GraphDotOptions& options, GraphDotStats* stats) {
  FLUXION_CHECK(output.defined() && output.grad_fn(), "graph_to_dot: the tensor has no recorded graph (compute it "
                                                      "with grad enabled from inputs or parameters that require grad)");
  // Every node reachable from the output, in the order first met.
  std::vector<const Node*> nodes;
  std::map<const Node*, std::size_t> index;
  std::vector<const Node*> stack{output.grad_fn().get()};
  index[stack.back()] = 0;
  nodes.push_back(stack.back());
  while (!stack.empty()) {
    const Node* node = stack.back();
    stack.pop_back();
    for (const Edge& edge : node->inputs) {
      if (edge.node && index.emplace(edge.node.get(), nodes.size()).second) {
        nodes.push_back(edge.node.get());
        stack.push_back(edge.node.get());
      }
    }
  }

  GraphDotStats counts;
  std::ostringstream dot;
  dot << "digraph autograd {\n  rankdir=TB;\n  node [fontname=\"Helvetica\", fontsize=10];\n"
      << "  edge [fontname=\"Helvetica\", fontsize=8];\n";
  if (!options.title.empty()) dot << "  labelloc=t;\n  label=\"" << escaped(options.title) << "\";\n";

  const bool collapse = options.collapse_depth > 0;
  // The DOT id of each op node: its own, or its group's.
  // Groups get ids of their own (grp0, grp1, ...), so a module named like
  // another node ("output") cannot merge with it; the path is the label.
  std::map<std::string, std::pair<std::string, std::size_t>> groups;  // path -> (id, ops)
  std::vector<std::string> id(nodes.size());
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    if (collapse && !nodes[i]->scope.empty()) {
      const std::string group = group_of(nodes[i]->scope, options.collapse_depth);
      const auto it = groups.try_emplace(group, "grp" + std::to_string(groups.size()), 0).first;
      id[i] = it->second.first;
      ++it->second.second;
    } else {
      id[i] = "op" + std::to_string(i);
      const std::string& scope = nodes[i]->scope;
      dot << "  " << id[i] << " [label=\"" << escaped(nodes[i]->name) << (scope.empty() ? "" : "\\n" + escaped(scope))
          << "\"];\n";
      ++counts.op_nodes;
    }
  }
  for (const auto& [group, entry] : groups) {
    const auto& [group_id, ops] = entry;
    dot << "  " << group_id << " [shape=box, style=rounded, label=\"" << escaped(group) << "\\n" << ops
        << (ops == 1 ? " op" : " ops") << "\"];\n";
    ++counts.op_nodes;
  }

  std::set<std::string> drawn_edges;  // collapsed: one edge per pair of groups
  std::map<const TensorImpl*, std::string> leaves;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const Node* node = nodes[i];
    for (std::size_t k = 0; k < node->inputs.size(); ++k) {
      const Edge& edge = node->inputs[k];
      const std::string label = shape_label(node->input_shapes[k]);
      if (edge.node) {
        const std::string& from = id[index.at(edge.node.get())];
        if (collapse && (from == id[i] || !drawn_edges.insert(from + " -> " + id[i]).second)) continue;
        dot << "  " << from << " -> " << id[i] << " [label=\"" << label << "\"];\n";
        ++counts.edges;
      } else if (edge.leaf && !collapse) {
        auto [it, fresh] = leaves.emplace(edge.leaf.get(), "leaf" + std::to_string(leaves.size()));
        if (fresh) {
          const auto name = leaf_names.find(edge.leaf.get());
          const bool parameter = name != leaf_names.end();
          dot << "  " << it->second << " [shape=box, style=filled, fillcolor=\""
              << (parameter ? "lightblue" : "lightgrey") << "\", label=\""
              << escaped(parameter ? name->second : "input") << "\\n" << label << "\"];\n";
          ++counts.leaf_nodes;
        }
        dot << "  " << it->second << " -> " << id[i] << ";\n";
        ++counts.edges;
      }
    }
  }
  dot << "  output [shape=doublecircle, label=\"output\\n" << shape_label(output.shape()) << "\"];\n";
  dot << "  " << id[0] << " -> output;\n";
  ++counts.edges;
  dot << "}\n";
  if (stats) *stats = counts;
  return dot.str();
}

}  // namespace fluxion
