// Layers and models end to end: every layer (and the models' blocks) is
// gradient-checked in float64 through its Module, with its parameters among
// the checked inputs; every model builds by name with the exact parameter
// count of its PyTorch definition and produces logits of the right shape.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <regex>
#include <set>

#include "dist/distributed.h"
#include "helpers.h"

using namespace fluxion;

namespace {

struct LayerCase {
  std::string name;
  std::function<nn::ModulePtr()> make;
  Shape input;
  test::ValueMaker values = test::normal_values;
};

std::vector<LayerCase> layer_cases() {
  using std::make_shared;
  std::vector<LayerCase> t;
  t.push_back({"Linear", [] { return make_shared<nn::Linear>(4, 3); }, {2, 4}});
  t.push_back({"Linear without bias", [] { return make_shared<nn::Linear>(nn::LinearOptions(4, 3).bias(false)); },
               {5, 4}});
  t.push_back({"Conv2d 3x3 pad 1", [] { return make_shared<nn::Conv2d>(nn::Conv2dOptions(2, 3, 3).padding(1)); },
               {2, 2, 4, 5}});
  t.push_back({"Conv2d stride (2, 1) dilation 2 groups 2 no bias",
               [] {
                 return make_shared<nn::Conv2d>(
                     nn::Conv2dOptions(4, 2, {2, 3}).stride({2, 1}).dilation(2).padding({1, 0}).groups(2).bias(false));
               },
               {1, 4, 6, 7}});
  t.push_back({"BatchNorm2d training", [] { return make_shared<nn::BatchNorm2d>(3); }, {2, 3, 2, 3}});
  t.push_back({"BatchNorm1d training on [N, C, L]", [] { return make_shared<nn::BatchNorm1d>(2); }, {3, 2, 4}});
  t.push_back({"BatchNorm2d synchronised across ranks (one process)",
               [] {
                 return make_shared<nn::BatchNorm2d>(
                     nn::BatchNormOptions(3).sync_across_ranks(dist::all_reduce_sum_differentiable));
               },
               {2, 3, 2, 3}});
  t.push_back({"BatchNorm1d evaluation",
               [] {
                 auto bn = make_shared<nn::BatchNorm1d>(2);
                 bn->running_mean.copy_(tensor({0.5, -1.0}));
                 bn->running_var.copy_(tensor({2.0, 0.25}));
                 bn->eval();
                 return bn;
               },
               {4, 2}});
  t.push_back({"ReLU", [] { return make_shared<nn::ReLU>(); }, {3, 4}, test::nonzero_values});
  t.push_back({"MaxPool2d 3x3 stride 2 pad 1",
               [] { return make_shared<nn::MaxPool2d>(nn::MaxPool2dOptions(3).stride(2).padding(1)); },
               {2, 2, 5, 5}, test::distinct_values});
  t.push_back({"AvgPool2d 2x2 ceil_mode",
               [] { return make_shared<nn::AvgPool2d>(nn::AvgPool2dOptions(2).ceil_mode(true)); }, {1, 2, 5, 5}});
  t.push_back({"AdaptiveAvgPool2d 1x1", [] { return make_shared<nn::AdaptiveAvgPool2d>(1); }, {2, 3, 3, 4}});
  t.push_back({"Flatten", [] { return make_shared<nn::Flatten>(); }, {2, 3, 2}});
  t.push_back({"Identity", [] { return make_shared<nn::Identity>(); }, {2, 3}});
  t.push_back({"Dropout p 0.3", [] { return make_shared<nn::Dropout>(0.3); }, {4, 6}});
  t.push_back({"Sequential Linear-ReLU-Linear",
               [] {
                 return make_shared<nn::Sequential>(std::initializer_list<nn::ModulePtr>{
                     make_shared<nn::Linear>(3, 5), make_shared<nn::ReLU>(), make_shared<nn::Linear>(5, 2)});
               },
               {4, 3}});
  t.push_back({"ResNet BasicBlock with projection shortcut",
               [] { return make_shared<nn::BasicBlock>(2, 4, 2); }, {2, 2, 5, 5}});
  t.push_back({"ResNet BasicBlock with identity shortcut",
               [] { return make_shared<nn::BasicBlock>(3, 3, 1); }, {2, 3, 3, 3}});
  t.push_back({"CifarBasicBlock with option A shortcut",
               [] { return make_shared<nn::CifarBasicBlock>(4, 8, 2, nn::Shortcut::A); }, {2, 4, 4, 4}});
  t.push_back({"DenseBottleneck (concatenation)",
               [] { return make_shared<nn::DenseBottleneck>(3, 2); }, {2, 3, 3, 3}});
  t.push_back({"DenseTransition", [] { return make_shared<nn::DenseTransition>(4, 2); }, {2, 4, 4, 4}});
  return t;
}

}  // namespace

TEST_CASE("models: every layer and block passes gradcheck in float64, parameters included") {
  const std::vector<LayerCase> cases = layer_cases();
  for (std::size_t k = 0; k < cases.size(); ++k) {
    const LayerCase& c = cases[k];
    CAPTURE(c.name);
    manual_seed(100 + k);
    nn::ModulePtr module = c.make();
    module->to(kFloat64);
    Generator gen(200 + k);
    TensorList inputs = {test::make_leaf(c.input, test::Layout::contiguous, gen, c.values)};
    for (const Tensor& p : module->parameters()) inputs.push_back(p);
    // Dropout draws a fresh mask per call; reseeding makes every call draw the same one.
    GradcheckResult r = gradcheck(
        [&](const TensorList& in) {
          manual_seed(7);
          return module->forward(in[0]);
        },
        inputs);
    CHECK_MESSAGE(r.ok, r.message);
    for (const Tensor& p : module->parameters()) CHECK(p.grad().defined());
  }
}

TEST_CASE("models: synchronised batchnorm in one process is ordinary batchnorm: output, gradients, running statistics") {
  manual_seed(3);
  nn::BatchNorm2d plain(4);
  nn::BatchNorm2d synced(nn::BatchNormOptions(4).sync_across_ranks(dist::all_reduce_sum_differentiable));
  {
    NoGradGuard no_grad;
    plain.weight.copy_(randn({4}));
    plain.bias.copy_(randn({4}));
    synced.weight.copy_(plain.weight);
    synced.bias.copy_(plain.bias);
  }
  const Tensor x = randn({5, 4, 3, 3}) * 2.0 + 1.0;
  const Tensor r = randn({5, 4, 3, 3});  // weights of the output, so the gradient is not trivially zero
  for (int step = 0; step < 2; ++step) {
    const Tensor a = plain.forward(x), b = synced.forward(x);
    CHECK(test::compare(b, a.to_vector<double>(), 1e-5).ok);
    (a * r).sum().backward();
    (b * r).sum().backward();
  }
  CHECK(test::compare(synced.weight.grad(), plain.weight.grad().to_vector<double>(), 1e-4).ok);
  CHECK(test::compare(synced.bias.grad(), plain.bias.grad().to_vector<double>(), 1e-4).ok);
  CHECK(test::compare(synced.running_mean, plain.running_mean.to_vector<double>(), 1e-6).ok);
  CHECK(test::compare(synced.running_var, plain.running_var.to_vector<double>(), 1e-5).ok);
  CHECK(synced.num_batches_tracked.item() == 2);
}

TEST_CASE("models: every model builds with its PyTorch definition's parameter count") {
  struct Count {
    const char* name;
    std::int64_t classes10, classes100;
  };
  // From the PyTorch definitions (scripts/torch_models.py, kuangliu's and
  // akamaster's code); the issue quotes the first three.
  const Count counts[] = {
      {"resnet18", 11'173'962, 11'220'132}, {"resnet34", 21'282'122, 21'328'292},
      {"densenet121", 6'956'298, 7'048'548}, {"resnet20", 269'722, 275'572},
      {"resnet20b", 272'474, 278'324},      {"resnet56", 853'018, 858'868},
  };
  for (const Count& c : counts) {
    CAPTURE(c.name);
    CHECK(nn::make_model(c.name, 10)->num_parameters() == c.classes10);
    CHECK(nn::make_model(c.name, 100)->num_parameters() == c.classes100);
  }
  nn::ModelOptions mnist;
  mnist.in_channels = 1;
  mnist.image_size = 28;
  CHECK(nn::make_model("small_cnn", mnist)->num_parameters() == 421'738);
  mnist.num_classes = 100;
  CHECK(nn::make_model("small_cnn", mnist)->num_parameters() == 433'348);
}

TEST_CASE("models: forward gives logits for CIFAR- and MNIST-shaped batches, and backward reaches every parameter") {
  for (const std::string name : {"resnet20", "small_cnn", "resnet18"}) {
    CAPTURE(name);
    manual_seed(5);
    nn::ModelOptions o;
    o.num_classes = 7;
    if (name == "small_cnn") o.in_channels = 1, o.image_size = 28;
    nn::ModulePtr model = nn::make_model(name, o);
    const std::int64_t size = name == "small_cnn" ? 28 : 32;
    Tensor logits = model->forward(randn({2, o.in_channels, size, size}));
    CHECK(logits.shape() == Shape{2, 7});
    cross_entropy(logits, tensor({1, 6}, kInt64)).backward();
    for (const auto& [pname, p] : model->named_parameters()) {
      CAPTURE(pname);
      REQUIRE(p.grad().defined());
      CHECK(std::isfinite(sum(p.grad().abs()).item()));
    }
  }
}

TEST_CASE("models: DenseNet forward and gradient of a small instance") {
  manual_seed(9);
  nn::DenseNet net({1, 1, 1, 1}, 2, 3);
  net.to(kFloat64);
  CHECK(net.forward(randn({2, 3, 32, 32}, kFloat64)).shape() == Shape{2, 3});
  // The stem's weight (4 x 3 x 3 x 3) through every stage, transition and
  // concatenation. A step in a stem weight moves every activation behind it,
  // and with training-mode batchnorm thousands of ReLU inputs sit near zero:
  // at the default step h = 1e-4 some cross their kink and the difference
  // quotient is off by O(1) (measured: the worst error falls in proportion
  // to h, 8.4 at 1e-3, 0.2 at 1e-5, 3e-7 at 1e-7, the signature of kinks, not
  // of a wrong gradient). h = 1e-7 crosses none; the price is rounding of
  // order eps |f| / h ~ 1e-8 in each difference quotient, hence atol 1e-7
  // (the gradients are of order 0.01 to 1).
  Tensor x = randn({2, 3, 32, 32}, kFloat64);
  GradcheckOptions options;
  options.step = 1e-7;
  options.atol = 1e-7;
  GradcheckResult r = gradcheck([&](const TensorList&) { return net.forward(x); }, {net.conv1->weight}, options);
  CHECK_MESSAGE(r.ok, r.message);
}

TEST_CASE("models: a small CIFAR ResNet's input gradient passes gradcheck") {
  manual_seed(10);
  nn::CifarResNet net(8, 4);
  net.to(kFloat64);
  Generator gen(3);
  Tensor x = test::make_leaf({2, 3, 8, 8}, test::Layout::contiguous, gen);
  GradcheckResult r = gradcheck([&](const TensorList& in) { return net.forward(in[0]); }, {x, net.linear->bias});
  CHECK_MESSAGE(r.ok, r.message);
}

TEST_CASE("models: unknown names and bad arguments are refused clearly") {
  try {
    nn::make_model("resnet19");
    FAIL("no error");
  } catch (const Error& e) {
    const std::string msg = e.what();
    CHECK(msg.find("unknown model 'resnet19'") != std::string::npos);
    CHECK(msg.find("resnet18, resnet34, densenet121, resnet20") != std::string::npos);
  }
  CHECK_THROWS_WITH_AS(nn::make_model("resnet20", 0), doctest::Contains("num_classes"), Error);
  CHECK_THROWS_WITH_AS(nn::CifarResNet(21, 10), doctest::Contains("6n + 2"), Error);
  CHECK(nn::model_names().size() == 11);
}

TEST_CASE("models: the MLP flattens the image into one hidden layer of 256, without batchnorm") {
  nn::ModelOptions o;
  o.num_classes = 10, o.in_channels = 3, o.image_size = 32;
  nn::ModulePtr mlp = nn::make_model("mlp", o);
  CHECK(mlp->num_parameters() == 3 * 32 * 32 * 256 + 256 + 256 * 10 + 10);
  CHECK(mlp->named_buffers().empty());  // nothing per-rank in data-parallel training
  CHECK(mlp->forward(zeros({2, 3, 32, 32})).shape() == Shape{2, 10});
}

// Every module class in layers/ (read from its headers, so a new layer cannot
// be left out) has a gradcheck case above whose name contains the class name,
// or is listed here with the reason it has none.
TEST_CASE("models: the layer gradcheck cases cover every module class in layers/") {
  const std::map<std::string, std::string> without_case = {
      {"ModuleList", "holds modules, has no forward"},
      {"SmallCNN", "a model: the forward/backward and parameter-count tests above, layer parity's state_dict keys"},
      {"CifarResNet", "a model: 'a small CIFAR ResNet's input gradient passes gradcheck' and ResNet-20's PyTorch parity"},
      {"ResNet", "a model of BasicBlocks (checked above): forward/backward and parameter-count tests"},
      {"DenseNet", "a model: 'DenseNet forward and gradient of a small instance'"},
  };
  std::set<std::string> classes;
  const std::regex module_class(R"(^(?:class|struct) (\w+) (?:final )?: public (?:nn::)?Module\b)");
  for (const auto& entry : std::filesystem::recursive_directory_iterator(std::string(FLUXION_SOURCE_DIR) + "/layers")) {
    if (entry.path().extension() != ".h") continue;
    std::ifstream in(entry.path());
    std::smatch m;
    for (std::string line; std::getline(in, line);)
      if (std::regex_search(line, m, module_class)) classes.insert(m[1]);
  }
  REQUIRE(classes.size() >= 15);  // the headers were read and the pattern still finds the classes
  const std::vector<LayerCase> cases = layer_cases();
  for (const std::string& name : classes) {
    if (without_case.contains(name)) continue;
    const bool covered = std::any_of(cases.begin(), cases.end(),
                                     [&](const LayerCase& c) { return c.name.find(name) != std::string::npos; });
    CHECK_MESSAGE(covered, "layers/ defines " << name << " but layer_cases() has no case naming it");
  }
  for (const auto& [name, reason] : without_case)
    CHECK_MESSAGE(classes.contains(name), "without_case lists " << name << ", which layers/ no longer defines");
}
