// The module system (layers/module.h, layers/container.h): names, state_dict,
// train/eval, zero_grad, dtype conversion, checkpoints, and its errors.
#include <doctest/doctest.h>

#include <sstream>

#include "helpers.h"

using namespace fluxion;
using test::TempDir;

namespace {

// conv -> bn -> relu -> a nested Sequential holding a linear layer, to see
// dotted names at three levels.
struct Net : nn::Module {
  std::shared_ptr<nn::Conv2d> conv =
      register_module("conv", std::make_shared<nn::Conv2d>(nn::Conv2dOptions(2, 3, 3).padding(1)));
  std::shared_ptr<nn::BatchNorm2d> bn = register_module("bn", std::make_shared<nn::BatchNorm2d>(3));
  std::shared_ptr<nn::Sequential> head = register_module(
      "head", std::make_shared<nn::Sequential>(std::initializer_list<nn::ModulePtr>{
                  std::make_shared<nn::Flatten>(), std::make_shared<nn::Linear>(3 * 4 * 4, 5)}));
  Tensor forward(const Tensor& x) override { return head->forward(relu(bn->forward(conv->forward(x)))); }
  std::string type_name() const override { return "Net"; }
};

std::vector<std::string> keys(const nn::NamedTensors& named) {
  std::vector<std::string> out;
  for (const auto& [name, _] : named) out.push_back(name);
  return out;
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("module: parameters, buffers and state_dict use PyTorch's dotted names in registration order") {
  Net net;
  CHECK(keys(net.named_parameters()) ==
        std::vector<std::string>{"conv.weight", "conv.bias", "bn.weight", "bn.bias", "head.1.weight", "head.1.bias"});
  CHECK(keys(net.named_buffers()) ==
        std::vector<std::string>{"bn.running_mean", "bn.running_var", "bn.num_batches_tracked"});
  CHECK(keys(net.named_state()) ==
        std::vector<std::string>{"conv.weight", "conv.bias", "bn.weight", "bn.bias", "bn.running_mean",
                                 "bn.running_var", "bn.num_batches_tracked", "head.1.weight", "head.1.bias"});
  CHECK(net.state_dict().size() == 9);
  CHECK(keys(net.conv->named_parameters()) == std::vector<std::string>{"weight", "bias"});
  CHECK(net.parameters(false).empty());  // Net itself registers none
  CHECK(net.num_parameters() == 3 * 2 * 9 + 3 + 3 + 3 + 48 * 5 + 5);
  // named_modules walks depth first with paths.
  std::vector<std::string> paths;
  for (const auto& [path, _] : net.named_modules()) paths.push_back(path);
  CHECK(paths == std::vector<std::string>{"conv", "bn", "head", "head.0", "head.1"});
  // The tensors are the module's own, not copies.
  CHECK(net.state_dict().at("conv.weight").impl() == net.conv->weight.impl());
  for (const Tensor& p : net.parameters()) CHECK(p.requires_grad());
  for (const auto& [_, b] : net.named_buffers()) CHECK_FALSE(b.requires_grad());
  CHECK(net.bn->num_batches_tracked.dtype() == kInt64);
}

TEST_CASE("module: printing shows the tree as PyTorch's print(model) does") {
  Net net;
  std::ostringstream s;
  s << net;
  CHECK(s.str() ==
        "Net(\n"
        "  (conv): Conv2d(2, 3, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))\n"
        "  (bn): BatchNorm2d(3, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)\n"
        "  (head): Sequential(\n"
        "    (0): Flatten(start_dim=1, end_dim=-1)\n"
        "    (1): Linear(in_features=48, out_features=5, bias=True)\n"
        "  )\n"
        ")");
}

TEST_CASE("module: train and eval reach every descendant and change batchnorm and dropout") {
  manual_seed(3);
  Net net;
  CHECK(net.is_training());
  net.eval();
  for (const auto& [_, m] : net.named_modules()) CHECK_FALSE(m->is_training());
  net.train();
  for (const auto& [_, m] : net.named_modules()) CHECK(m->is_training());

  // Batchnorm: training normalises with the batch (per-channel mean 0) and
  // counts batches; evaluation uses the running statistics and counts nothing.
  nn::BatchNorm2d bn(2);
  Tensor x = randn({4, 2, 3, 3}) * 3.0 + 5.0;
  Tensor y = bn.forward(x);
  CHECK(std::fabs(y.mean().item()) < 1e-5);
  CHECK(bn.num_batches_tracked.item<std::int64_t>() == 1);
  bn.eval();
  Tensor z = bn.forward(x);
  CHECK(bn.num_batches_tracked.item<std::int64_t>() == 1);
  // running_mean = 0.1 * batch mean (about 5): eval output is far from zero-mean.
  CHECK(z.mean().item() > 1.0);

  nn::Dropout drop(0.5);
  Tensor ones_in = ones({1000});
  Tensor dropped = drop.forward(ones_in);
  const double zeros_share = eq(dropped, zeros({1000})).sum().item() / 1000.0;
  CHECK(zeros_share > 0.4);
  CHECK(zeros_share < 0.6);
  CHECK(max(dropped).item() == doctest::Approx(2.0));  // survivors scaled by 1 / (1 - p)
  drop.eval();
  CHECK(test::compare(drop.forward(ones_in), std::vector<double>(1000, 1.0)).ok);
}

TEST_CASE("module: batchnorm moves the running statistics as PyTorch does") {
  nn::BatchNorm1d bn(nn::BatchNormOptions(2).momentum(0.25));
  Tensor x = tensor({1.0, 10.0, 2.0, 20.0, 6.0, 30.0}, {3, 2});
  bn.forward(x);
  // Channel 0: mean 3, unbiased var ((4 + 1 + 9) / 2) = 7. Channel 1: mean 20, var 100.
  CHECK(test::compare(bn.running_mean, {0.25 * 3.0, 0.25 * 20.0}, 1e-6).ok);
  CHECK(test::compare(bn.running_var, {0.75 + 0.25 * 7.0, 0.75 + 0.25 * 100.0}, 1e-6).ok);
  bn.forward(x);
  CHECK(test::compare(bn.running_mean, {0.75 * 0.75 + 0.25 * 3.0, 0.75 * 5.0 + 0.25 * 20.0}, 1e-6).ok);
  CHECK(bn.num_batches_tracked.item<std::int64_t>() == 2);

  // Without running statistics, evaluation normalises with the batch too.
  nn::BatchNorm1d untracked(nn::BatchNormOptions(2).track_running_stats(false).affine(false));
  CHECK(untracked.named_state().empty());
  untracked.eval();
  CHECK(std::fabs(untracked.forward(x).mean().item()) < 1e-6);
}

TEST_CASE("module: zero_grad drops every gradient") {
  Net net;
  cross_entropy(net.forward(randn({2, 2, 4, 4})), tensor({1, 3}, kInt64)).backward();
  for (const Tensor& p : net.parameters()) CHECK(p.grad().defined());
  net.zero_grad();
  for (const Tensor& p : net.parameters()) CHECK_FALSE(p.grad().defined());
}

TEST_CASE("module: to(dtype) converts parameters and floating buffers in place") {
  Net net;
  const Tensor weight_handle = net.conv->weight;  // held outside the module, as an optimizer would
  const std::vector<double> before = weight_handle.to_vector<double>();
  net.to(kFloat64);
  CHECK(weight_handle.dtype() == kFloat64);
  CHECK(test::compare(weight_handle, before, 0.0).ok);  // float32 values are exact in float64
  CHECK(net.bn->running_var.dtype() == kFloat64);
  CHECK(net.bn->num_batches_tracked.dtype() == kInt64);
  CHECK(weight_handle.requires_grad());
  CHECK(net.forward(randn({2, 2, 4, 4}, kFloat64)).dtype() == kFloat64);
}

TEST_CASE("module: registration refuses duplicate and dotted names") {
  struct Bad : nn::Module {
    std::string type_name() const override { return "Bad"; }
    void add(const std::string& name) { register_parameter(name, zeros({1})); }
    void add_child(const std::string& name) { register_module(name, std::make_shared<nn::ReLU>()); }
  };
  Bad bad;
  bad.add("w");
  CHECK(contains(test::error_message([&] { bad.add("w"); }), "'w' is already registered"));
  CHECK(contains(test::error_message([&] { bad.add_child("w"); }), "'w' is already registered"));
  CHECK(contains(test::error_message([&] { bad.add("a.b"); }), "contain no '.'"));
  CHECK(contains(test::error_message([&] { bad.add(""); }), "non-empty"));
}

TEST_CASE("module: containers index, chain and refuse what they cannot do") {
  nn::Sequential seq{std::make_shared<nn::Linear>(3, 4), std::make_shared<nn::ReLU>(), std::make_shared<nn::Linear>(4, 2)};
  CHECK(seq.size() == 3);
  CHECK(seq[1]->type_name() == "ReLU");
  CHECK(contains(test::error_message([&] { seq[3]; }), "index 3 out of range for 3 modules"));
  CHECK(seq.forward(randn({5, 3})).shape() == Shape{5, 2});
  CHECK(keys(seq.named_parameters()) == std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias"});

  nn::ModuleList list{std::make_shared<nn::ReLU>()};
  CHECK(contains(test::error_message([&] { list.forward(zeros({1})); }), "ModuleList has no forward"));
}

TEST_CASE("module: layers check their options and inputs") {
  CHECK(contains(test::error_message([] { nn::Conv2d(nn::Conv2dOptions(3, 4, 3).groups(2)); }), "divisible by groups"));
  CHECK(contains(test::error_message([] { nn::Conv2d(nn::Conv2dOptions(3, 4, 0)); }), "kernel_size"));
  CHECK(contains(test::error_message([] { nn::Linear(0, 3); }), "in_features and out_features must be >= 1"));
  CHECK(contains(test::error_message([] { nn::BatchNorm2d(nn::BatchNormOptions(3).momentum(1.5)); }), "momentum"));
  CHECK(contains(test::error_message([] { nn::Dropout(1.5); }), "p must be in [0, 1]"));

  nn::Conv2d conv(nn::Conv2dOptions(3, 4, 3));
  CHECK(contains(test::error_message([&] { conv.forward(zeros({1, 2, 5, 5})); }), "has 2 channels but weight shape"));
  CHECK(contains(test::error_message([&] { conv.forward(zeros({2, 5, 5})); }), "must be 4-D"));
  CHECK(contains(test::error_message([&] { conv.forward(zeros({1, 3, 2, 2})); }), "smaller than the dilated kernel"));
  nn::BatchNorm2d bn(3);
  CHECK(contains(test::error_message([&] { bn.forward(zeros({2, 3})); }), "BatchNorm2d: expected 4-D"));
  CHECK(contains(test::error_message([&] { bn.forward(zeros({2, 4, 1, 1})); }), "expected num_features = 3"));
  CHECK(contains(test::error_message([&] { bn.forward(zeros({1, 3, 1, 1})); }), "more than 1 value per channel"));
  nn::MaxPool2d pool(nn::MaxPool2dOptions(3).padding(2));
  CHECK(contains(test::error_message([&] { pool.forward(zeros({1, 1, 5, 5})); }), "half the kernel size"));
  CHECK(contains(test::error_message([] { nn::AdaptiveAvgPool2d(3).forward(zeros({1, 1, 4, 4})); }), "must divide"));
}

TEST_CASE("module: default initialisation follows PyTorch's bounds") {
  manual_seed(11);
  nn::Conv2d conv(nn::Conv2dOptions(64, 64, 3));  // fan_in 576
  const double bound = 1.0 / std::sqrt(576.0);
  const std::vector<double> w = conv.weight.to_vector<double>();
  double sum = 0, sum_sq = 0, largest = 0;
  for (double v : w) {
    sum += v;
    sum_sq += v * v;
    largest = std::max(largest, std::fabs(v));
  }
  const double n = static_cast<double>(w.size());
  CHECK(largest <= bound);
  CHECK(largest > 0.99 * bound);
  CHECK(std::fabs(sum / n) < 0.01 * bound);
  CHECK(std::sqrt(sum_sq / n) == doctest::Approx(bound / std::sqrt(3.0)).epsilon(0.01));  // U(-b, b) has std b / sqrt(3)
  CHECK(max(conv.bias.abs()).item() <= bound);
  nn::Linear linear(100, 10);
  CHECK(max(linear.weight.abs()).item() <= 0.1);
  CHECK(max(linear.weight.abs()).item() > 0.098);
  nn::BatchNorm2d bn(4);
  CHECK(test::compare(bn.weight, {1, 1, 1, 1}, 0.0).ok);
  CHECK(test::compare(bn.bias, {0, 0, 0, 0}, 0.0).ok);
  // Seeded: the same seed gives the same model.
  manual_seed(11);
  nn::Conv2d again(nn::Conv2dOptions(64, 64, 3));
  CHECK(test::compare(again.weight, w, 0.0).ok);
}

TEST_CASE("module: a checkpoint round-trips through a safetensors file") {
  TempDir dir;
  manual_seed(1);
  Net a;
  a.forward(randn({2, 2, 4, 4}));  // moves the running statistics off their initial values
  a.save(dir.file("net.safetensors"), {{"epoch", "3"}});
  manual_seed(2);
  Net b;
  b.load(dir.file("net.safetensors"));
  for (const auto& [name, t] : a.named_state()) {
    CAPTURE(name);
    CHECK(test::compare(b.state_dict().at(name), t.to_vector<double>(), 0.0).ok);
  }
  CHECK(load_safetensors(dir.file("net.safetensors")).metadata.at("epoch") == "3");
}

TEST_CASE("module: loading a state_dict that does not fit fails whole, naming every problem") {
  manual_seed(4);
  Net net;
  const TensorMap good = net.state_dict();
  auto snapshot = [&] {
    TensorMap copy;
    for (const auto& [name, t] : net.state_dict()) copy.emplace(name, t.clone());
    return copy;
  };
  const TensorMap before = snapshot();
  auto unchanged = [&] {
    for (const auto& [name, t] : net.state_dict())
      if (!test::compare(t, before.at(name).to_vector<double>(), 0.0).ok) return false;
    return true;
  };

  SUBCASE("missing and unexpected keys are all listed") {
    TensorMap state = before;
    state.erase("bn.running_var");
    state.erase("head.1.bias");
    state.emplace("head.2.weight", zeros({1}));
    state.at("conv.weight") = zeros(before.at("conv.weight").shape());
    const std::string e = test::error_message([&] { net.load_state_dict(state, true, "ckpt.safetensors"); });
    CHECK(contains(e, "ckpt.safetensors"));
    CHECK(contains(e, "bn.running_var"));
    CHECK(contains(e, "head.1.bias"));
    CHECK(contains(e, "head.2.weight"));
    CHECK(unchanged());
    // Non-strict loads what matches and ignores the rest.
    state.erase("head.2.weight");
    net.load_state_dict(state, false);
    CHECK(max(net.conv->weight.abs()).item() == 0.0);
  }
  SUBCASE("a shape that does not match the model") {
    TensorMap state = before;
    state.at("head.1.weight") = zeros({5, 47});
    const std::string e = test::error_message([&] { net.load_state_dict(state); });
    CHECK(contains(e, "head.1.weight"));
    CHECK(contains(e, "[5, 47]"));
    CHECK(unchanged());
  }
  SUBCASE("a dtype that does not match the model") {
    TensorMap state = before;
    state.at("bn.num_batches_tracked") = zeros({}, kFloat32);
    const std::string e = test::error_message([&] { net.load_state_dict(state); });
    CHECK(contains(e, "bn.num_batches_tracked"));
    CHECK(contains(e, "int64"));
    CHECK(unchanged());
  }
  CHECK(good.size() == 9);
}
