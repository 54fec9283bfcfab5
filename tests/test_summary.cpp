// Model summaries (layers/summary.h), the forward trace under them
// (layers/forward_trace.h) and the autograd graph as DOT (autograd/graph_dot.h).
#include <algorithm>
#include <unordered_map>

#include "autograd/graph_dot.h"
#include "helpers.h"
#include "layers/forward_trace.h"
#include "layers/summary.h"

using namespace fluxion;

namespace {

std::shared_ptr<nn::Sequential> small_mlp() {
  auto mlp = std::make_shared<nn::Sequential>();
  mlp->push_back(std::make_shared<nn::Linear>(4, 3));
  mlp->push_back(std::make_shared<nn::ReLU>());
  mlp->push_back(std::make_shared<nn::Linear>(3, 2));
  return mlp;
}

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("summary: totals of the CIFAR models equal their known parameter and multiply-add counts") {
  // Multiply-adds as scripts/bench_torch.py counts them with PyTorch's hooks
  // on the same definitions (0.0811 and 1.7767 GFLOP per image, 2 per MAC).
  struct Known {
    const char* name;
    std::int64_t parameters, multiply_adds;
  };
  for (const Known& k : {Known{"resnet20", 269722, 40551040}, Known{"densenet121", 6956298, 888350720}}) {
    CAPTURE(k.name);
    nn::ModulePtr model = nn::make_model(k.name, 10);
    const nn::ModelSummary s = nn::summarize(*model, {1, 3, 32, 32});
    CHECK(s.parameters == k.parameters);
    CHECK(s.trainable_parameters == k.parameters);
    CHECK(s.forward_multiply_adds == k.multiply_adds);
    CHECK(s.backward_multiply_adds == 2 * k.multiply_adds);
    CHECK(s.parameter_bytes == 4 * k.parameters);
    REQUIRE(!s.rows.empty());
    CHECK(s.rows.front().depth == 0);
    CHECK(s.rows.front().output_shape == Shape{1, 10});
  }
  // Multiply-adds scale with the batch; the rows' shapes carry it.
  nn::ModulePtr resnet = nn::make_model("resnet20", 10);
  const nn::ModelSummary batch4 = nn::summarize(*resnet, {4, 3, 32, 32});
  CHECK(batch4.forward_multiply_adds == 4 * 40551040);
  const auto layer3 = std::find_if(batch4.rows.begin(), batch4.rows.end(),
                                   [](const nn::SummaryRow& r) { return r.path == "layer3"; });
  REQUIRE(layer3 != batch4.rows.end());
  CHECK(layer3->output_shape == Shape{4, 64, 8, 8});
  CHECK(layer3->depth == 1);
  CHECK(layer3->parameters == 203520);
}

TEST_CASE("summary: a conv's and a linear layer's multiply-adds follow the formula; activations and restored mode") {
  // Conv2d: N * O * Ho * Wo * (C / groups) * kH * kW.
  auto conv = std::make_shared<nn::Conv2d>(nn::Conv2dOptions(6, 4, 3).stride(2).padding(1).groups(2));
  const nn::ModelSummary c = nn::summarize(*conv, {3, 6, 9, 9});
  const std::int64_t ho = (9 + 2 - 3) / 2 + 1;
  CHECK(c.forward_multiply_adds == 3 * 4 * ho * ho * (6 / 2) * 3 * 3);
  CHECK(c.rows.size() == 1);
  CHECK(c.rows[0].leaf);

  auto mlp = small_mlp();
  mlp->train();
  const nn::ModelSummary m = nn::summarize(*mlp, {5, 4});
  CHECK(m.forward_multiply_adds == 5 * 4 * 3 + 5 * 3 * 2);
  REQUIRE(m.rows.size() == 4);  // the Sequential, then its three children in call order
  CHECK(m.rows[1].path == "0");
  CHECK(m.rows[2].type == "ReLU");
  CHECK(m.rows[3].output_shape == Shape{5, 2});
  CHECK(m.activation_bytes == 4 * (5 * 3 + 5 * 3 + 5 * 2));
  CHECK(m.input_bytes == 4 * 5 * 4);
  CHECK(mlp->is_training());  // summarize ran in eval mode and put it back

  const std::string text = nn::format_summary(m);
  CHECK(text.find("Total parameters: 23") != std::string::npos);
  CHECK(text.find("0 (Linear)") != std::string::npos);
  CHECK(nn::format_summary(m, 0).find("(Linear)") == std::string::npos);  // depth 0: the model alone
}

TEST_CASE("forward trace: enter and exit in call order with paths and depths; ops carry their module's scope") {
  struct Recorder : nn::ForwardObserver {
    std::vector<std::string> events;
    void enter(const nn::ForwardCall& call) override {
      events.push_back("enter " + call.path + " " + std::to_string(call.depth));
    }
    void exit(const nn::ForwardCall& call, const Tensor&) override { events.push_back("exit " + call.path); }
  } recorder;
  auto mlp = small_mlp();
  Tensor out;
  {
    nn::TraceForward trace(*mlp, recorder);
    out = mlp->forward(zeros({2, 4}));
  }
  const std::vector<std::string> expected{"enter  0", "enter 0 1", "exit 0", "enter 1 1", "exit 1",
                                          "enter 2 1", "exit 2", "exit "};
  CHECK(recorder.events == expected);
  REQUIRE(out.grad_fn());
  CHECK(out.grad_fn()->name == "add");
  CHECK(out.grad_fn()->scope == "2");
  // Outside a trace, nothing is reported and ops have no scope.
  CHECK(mlp->forward(zeros({2, 4})).grad_fn()->scope.empty());
}

TEST_CASE("graph_to_dot: ops, parameters and shaped edges of a small model, and collapsed by module") {
  auto mlp = small_mlp();
  std::unordered_map<const TensorImpl*, std::string> names;
  for (const auto& [name, p] : mlp->named_parameters()) names.emplace(p.impl(), name);
  nn::ForwardObserver quiet;
  Tensor out;
  {
    nn::TraceForward trace(*mlp, quiet);
    out = mlp->forward(zeros({5, 4}));  // the input does not require grad: no leaf for it
  }
  GraphDotStats stats;
  const std::string dot = graph_to_dot(out, names, {}, &stats);
  // Each Linear is permute (weight.t()), matmul and add; then relu.
  CHECK(stats.op_nodes == 7);
  CHECK(stats.leaf_nodes == 4);
  // Linear 1: weight -> permute, permute -> matmul, matmul -> add, bias -> add;
  // relu; linear 2 as linear 1 plus relu -> matmul; the output.
  CHECK(stats.edges == 11);
  CHECK(count_of(dot, " -> ") == 11);
  CHECK(count_of(dot, "label=\"matmul") == 2);
  CHECK(dot.find("\"0.weight\\n3x4\"") != std::string::npos);
  CHECK(dot.find("\"2.bias\\n2\"") != std::string::npos);
  CHECK(dot.find("[label=\"5x3\"]") != std::string::npos);  // the first layer's output, into relu
  CHECK(dot.find("output\\n5x2") != std::string::npos);

  GraphDotOptions collapsed;
  collapsed.collapse_depth = 1;
  const std::string modules = graph_to_dot(out, names, collapsed, &stats);
  CHECK(stats.op_nodes == 3);  // "0", "1" (the ReLU module), "2"
  CHECK(stats.leaf_nodes == 0);
  CHECK(stats.edges == 3);  // 0 -> 1, 1 -> 2, 2 -> output
  CHECK(modules.find("\"0\\n3 ops\"") != std::string::npos);

  CHECK_THROWS_WITH_AS(graph_to_dot(zeros({2}), names), doctest::Contains("no recorded graph"), Error);
}

TEST_CASE("summary and graph work on every model") {
  for (const std::string& name : nn::model_names()) {
    CAPTURE(name);
    nn::ModelOptions options;
    if (name == "small_cnn") {
      options.in_channels = 1;
      options.image_size = 28;
    }
    nn::ModulePtr model = nn::make_model(name, options);
    const Shape input{1, options.in_channels, options.image_size, options.image_size};
    const nn::ModelSummary s = nn::summarize(*model, input);
    CHECK(s.parameters == model->num_parameters());
    CHECK(s.forward_multiply_adds > 0);
    CHECK(s.rows.front().output_shape == Shape{1, 10});

    std::unordered_map<const TensorImpl*, std::string> names;
    for (const auto& [n, p] : model->named_parameters()) names.emplace(p.impl(), n);
    nn::ForwardObserver quiet;
    Tensor out;
    {
      nn::TraceForward trace(*model, quiet);
      out = model->forward(zeros(input));
    }
    GraphDotStats stats;
    graph_to_dot(out, names, {}, &stats);
    CHECK(stats.leaf_nodes == model->parameters().size());  // every parameter is drawn once
    GraphDotOptions collapsed;
    collapsed.collapse_depth = 1;
    GraphDotStats modules;
    graph_to_dot(out, names, collapsed, &modules);
    CHECK(modules.op_nodes < stats.op_nodes);
  }
}
