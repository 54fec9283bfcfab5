//! @file
//! The recorded graph. Every tracked op output owns a Node (its grad_fn) that
//! knows the op's backward function and where each input's gradient goes:
//! to the input's own Node, or, for a leaf (a parameter), into its grad().
//!
//! Nodes hold no references to their outputs, so a graph has no cycles and is
//! freed as soon as the last output tensor goes away (or by backward()).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace fluxion {

using TensorList = std::vector<Tensor>;

/// Maps the gradient of the op's output to the gradients of its inputs, in
/// input order; an undefined Tensor means "no gradient for this input".
/// It runs with grad mode off, so it may freely use ops.
using BackwardFn = std::function<TensorList(const Tensor& grad_output)>;

struct Node;

/// A tensor kept for backward, with its storage's version at that moment. If an
/// in-place op changes it before backward runs, get() throws rather than let
/// backward compute a wrong gradient from the changed values.
class SavedTensor {
 public:
  SavedTensor() = default;
  /// An undefined tensor (an absent optional input) is saved as such.
  explicit SavedTensor(const Tensor& t) : tensor_(t), version_(t.defined() ? t.storage()->version() : 0) {}
  const Tensor& get() const {
    FLUXION_CHECK(!tensor_.defined() || tensor_.storage()->version() == version_,
                  "a tensor saved for the gradient was modified by an in-place operation after it was saved "
                  "(version ", version_, ", now ", tensor_.storage()->version(), "); clone() it before changing it");
    return tensor_;
  }

 private:
  Tensor tensor_;
  std::uint64_t version_ = 0;
};

inline SavedTensor save(const Tensor& t) { return SavedTensor(t); }

/// Where one input's gradient goes: a non-leaf's grad_fn, or a leaf that
/// accumulates. Both empty: the input needs no gradient.
struct Edge {
  std::shared_ptr<Node> node;
  std::shared_ptr<TensorImpl> leaf;
};

struct Node {
  std::string name;               ///< the op, for error messages and graph views
  std::string scope;              ///< the module whose forward recorded it, when traced (autograd/trace.h)
  std::vector<Edge> inputs;       ///< one per op input
  std::vector<Shape> input_shapes;  ///< each input gradient must have this shape
  BackwardFn backward;
  bool released = false;          ///< backward already ran and freed this node

  Node() = default;
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;
  /// Frees the chain of nodes behind this one iteratively, so dropping a graph
  /// of any depth cannot overflow the stack.
  ~Node();
  /// Drops the backward function (and what it saved) and the edges.
  void release();
};

/// An op's settings that its inputs and output do not show (a convolution's
/// stride, a concatenation's dim), for tools that read the recording as a
/// program (fluxion export, through trace::RecordHook). Dims are normalised
/// (non-negative).
///   OpAttributes().ints("stride", {2, 2}).real("eps", 1e-5)
struct OpAttributes {
  std::vector<std::pair<const char*, std::vector<std::int64_t>>> int_lists;
  std::vector<std::pair<const char*, double>> reals;

  OpAttributes& ints(const char* key, std::vector<std::int64_t> values) {
    int_lists.emplace_back(key, std::move(values));
    return *this;
  }
  OpAttributes& real(const char* key, double value) {
    reals.emplace_back(key, value);
    return *this;
  }

  /// The named integers, or `fallback` when the op did not give them.
  std::vector<std::int64_t> get_ints(const char* key, std::vector<std::int64_t> fallback = {}) const;
  /// The named number, or `fallback`.
  double get_real(const char* key, double fallback = 0.0) const;
};

/// True when grad mode is on and some input requires grad: the op must record.
bool should_record(const TensorList& inputs);

/// Makes `out` the tracked result of op `name` applied to `inputs`, if
/// should_record(inputs). Tensors the backward function needs are captured as
/// save(t) and read with .get(); the output is captured as save(out.detach()),
/// never as `out` itself (that would be a cycle).
/// `attributes` are what the op's backward captured besides tensors, passed
/// on to a trace::RecordHook when one is installed.
void record(const Tensor& out, const char* name, const TensorList& inputs, BackwardFn backward,
            const OpAttributes& attributes = {});

/// Runs backpropagation from `root` (see Tensor::backward).
void run_backward(const Tensor& root, const Tensor& gradient, bool retain_graph);

}  // namespace fluxion
