// PyTorch parity of the layers and models: replays what scripts/make_fixtures.py
// recorded with torch.nn in tests/fixtures/layers/ (safetensors files; the
// script's docstring says how each was made) and compares everything Fluxion
// computes with it.
//
//   * Layers (linear, conv2d, batch_norm, pooling, composite .safetensors):
//     each case builds the Fluxion layer with the same options, converts it to
//     the case's dtype, loads PyTorch's state_dict strictly, runs forward (one
//     or two calls, for batchnorm's running statistics), backward with the
//     stored upstream gradient, and compares the output, the input gradient,
//     every parameter gradient and every buffer afterwards.
//   * ResNet-20 (resnet20_step_f32/f64): the weights of
//     resnet20_torch_checkpoint.safetensors, an eval-mode forward, then one
//     train-mode forward + backward of the mean cross-entropy on 8 images:
//     logits, loss, every parameter gradient and the running statistics.
//   * model_keys.json: every registry model's state_dict keys, shapes, dtypes
//     and order, and its parameter count, against PyTorch's.
//
// The criterion, per element of a tensor `e` PyTorch computed:
//   |got - want| <= tol * max(|want|, rms(e))
// i.e. relative to the element, but never stricter than relative to the
// tensor's typical magnitude: a gradient element that is tiny because of
// cancellation (a sum of terms of the tensor's size) carries the rounding
// error of those terms, not of its own size, and must not be held to
// tol * |want|. tol is 1e-10 for float64 layers, 1e-9 for the float64
// ResNet-20, 1e-5 for float32 layers and 1e-4 for the float32 ResNet-20
// (PyTorch's own float32 ResNet-20 step is 1.4e-5 from its float64 one by
// this measure). int64 buffers (num_batches_tracked) must match exactly.
// FLUXION_PARITY_REPORT=1 prints the worst observed error per group.
//
// Regenerate the fixtures with /usr/bin/python3 scripts/make_fixtures.py.

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fluxion.h"

#ifndef FLUXION_FIXTURES_DIR
#error "FLUXION_FIXTURES_DIR must name tests/fixtures (see tests/CMakeLists.txt)"
#endif

namespace {

using json = nlohmann::json;
using namespace fluxion;

const std::string kLayersDir = FLUXION_FIXTURES_DIR "/layers";

constexpr double kLayerTol64 = 1e-10;
constexpr double kLayerTol32 = 1e-5;
constexpr double kModelTol64 = 1e-9;
constexpr double kModelTol32 = 1e-4;

// The fixture files, read once each.
const SafetensorsFile& fixture(const std::string& name) {
  static std::map<std::string, SafetensorsFile> cache;
  auto it = cache.find(name);
  if (it == cache.end()) it = cache.emplace(name, load_safetensors(kLayersDir + "/" + name)).first;
  return it->second;
}

// Worst error seen per group ("conv2d float64"), for FLUXION_PARITY_REPORT.
std::map<std::string, double>& worst_errors() {
  static std::map<std::string, double> worst;
  return worst;
}

void report(const std::string& group) {
  if (std::getenv("FLUXION_PARITY_REPORT") == nullptr) return;
  for (const auto& [name, worst] : worst_errors())
    if (name.rfind(group, 0) == 0) std::printf("parity worst error  %-34s %.3g\n", name.c_str(), worst);
}

struct Match {
  bool ok = true;
  double worst = 0.0;  // max |got - want| / max(|want|, rms(want))
  std::string message;
};

// got against want with the criterion in the header comment.
Match compare(const Tensor& got, const Tensor& want, double tol) {
  Match m;
  std::ostringstream s;
  s.precision(17);
  if (!got.defined()) {
    m.ok = false;
    m.message = "undefined (expected shape " + to_string(want.shape()) + ")";
    return m;
  }
  if (got.dtype() != want.dtype() || got.shape() != want.shape()) {
    s << "got dtype " << got.dtype() << " shape " << to_string(got.shape()) << ", expected dtype " << want.dtype()
      << " shape " << to_string(want.shape());
    m.ok = false;
    m.message = s.str();
    return m;
  }
  if (want.dtype() == kInt64) {
    const auto a = got.to_vector<std::int64_t>(), e = want.to_vector<std::int64_t>();
    for (std::size_t i = 0; i < a.size(); ++i)
      if (a[i] != e[i]) {
        s << "element " << i << ": got " << a[i] << ", expected " << e[i];
        m.ok = false;
        m.message = s.str();
        return m;
      }
    return m;
  }
  const std::vector<double> a = got.to_vector<double>(), e = want.to_vector<double>();
  double sum_sq = 0.0;
  for (double v : e) sum_sq += v * v;
  const double rms = e.empty() ? 0.0 : std::sqrt(sum_sq / static_cast<double>(e.size()));
  std::size_t worst_at = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double scale = std::max({std::fabs(e[i]), rms, 1e-300});
    const double err = std::isfinite(a[i]) ? std::fabs(a[i] - e[i]) / scale : INFINITY;
    if (err > m.worst) m.worst = err, worst_at = i;
  }
  if (!(m.worst <= tol)) {
    s << "worst element " << worst_at << " of shape " << to_string(want.shape()) << ": got " << a[worst_at]
      << ", expected " << e[worst_at] << " (scaled error " << m.worst << " > tol " << tol << ", rms " << rms << ")";
    m.ok = false;
    m.message = s.str();
  }
  return m;
}

// CHECKs got against want, records the error under `group` and names `what` on failure.
void check_close(const Tensor& got, const Tensor& want, double tol, const std::string& group, const std::string& what) {
  const Match m = compare(got, want, tol);
  double& worst = worst_errors()[group];
  worst = std::max(worst, m.worst);
  CHECK_MESSAGE(m.ok, what << ": " << m.message);
}

const char* precision_name(DType d) { return d == kFloat64 ? "float64" : d == kFloat32 ? "float32" : "int64"; }

// --- building the Fluxion layer of a case ------------------------------------------

// Reads options, remembering which were read, so a case option the test does not know fails.
struct Options {
  const json& o;
  std::set<std::string> used;
  template <class T>
  T get(const std::string& key, T fallback) {
    used.insert(key);
    return o.contains(key) ? o.at(key).get<T>() : fallback;
  }
  template <class T>
  T need(const std::string& key) {
    used.insert(key);
    REQUIRE_MESSAGE(o.contains(key), "option " << key << " missing");
    return o.at(key).get<T>();
  }
  nn::Size2 size2(const std::string& key, nn::Size2 fallback) {
    used.insert(key);
    if (!o.contains(key)) return fallback;
    const json& v = o.at(key);
    if (v.is_array()) return nn::Size2(v.at(0).get<std::int64_t>(), v.at(1).get<std::int64_t>());
    return nn::Size2(v.get<std::int64_t>());
  }
  void check_all_used() const {
    for (const auto& [key, _] : o.items()) CHECK_MESSAGE(used.contains(key), "option " << key << " is not handled");
  }
};

// The composite cases of make_fixtures.py, with the same module names.
struct CatChannels : nn::Module {
  std::shared_ptr<nn::Conv2d> conv;
  CatChannels(std::int64_t in_channels, std::int64_t growth) {
    conv = register_module("conv", std::make_shared<nn::Conv2d>(
                                       nn::Conv2dOptions(in_channels, growth, 3).padding(1).bias(false)));
  }
  Tensor forward(const Tensor& x) override { return cat({conv->forward(x), x}, 1); }
  std::string type_name() const override { return "CatChannels"; }
};

struct ResidualAdd : nn::Module {
  std::shared_ptr<nn::Conv2d> conv;
  std::shared_ptr<nn::BatchNorm2d> bn;
  explicit ResidualAdd(std::int64_t channels) {
    conv = register_module("conv", std::make_shared<nn::Conv2d>(
                                       nn::Conv2dOptions(channels, channels, 3).padding(1).bias(false)));
    bn = register_module("bn", std::make_shared<nn::BatchNorm2d>(channels));
  }
  Tensor forward(const Tensor& x) override { return relu(bn->forward(conv->forward(x)) + x); }
  std::string type_name() const override { return "ResidualAdd"; }
};

struct FlattenLinear : nn::Module {
  std::shared_ptr<nn::Flatten> flatten;
  std::shared_ptr<nn::Linear> linear;
  FlattenLinear(std::int64_t in_features, std::int64_t out_features) {
    flatten = register_module("flatten", std::make_shared<nn::Flatten>());
    linear = register_module("linear", std::make_shared<nn::Linear>(in_features, out_features));
  }
  Tensor forward(const Tensor& x) override { return linear->forward(flatten->forward(x)); }
  std::string type_name() const override { return "FlattenLinear"; }
};

nn::ModulePtr make_layer(const std::string& layer, Options& o) {
  using std::int64_t;
  if (layer == "Linear")
    return std::make_shared<nn::Linear>(
        nn::LinearOptions(o.need<int64_t>("in_features"), o.need<int64_t>("out_features")).bias(o.get("bias", true)));
  if (layer == "Conv2d") {
    nn::Conv2dOptions c(o.need<int64_t>("in_channels"), o.need<int64_t>("out_channels"), o.size2("kernel_size", 1));
    c.stride(o.size2("stride", 1)).padding(o.size2("padding", 0)).dilation(o.size2("dilation", 1));
    c.groups(o.get<int64_t>("groups", 1)).bias(o.get("bias", true));
    return std::make_shared<nn::Conv2d>(c);
  }
  if (layer == "BatchNorm2d" || layer == "BatchNorm1d") {
    nn::BatchNormOptions b(o.need<int64_t>("num_features"));
    b.eps(o.get("eps", 1e-5)).momentum(o.get("momentum", 0.1)).affine(o.get("affine", true));
    b.track_running_stats(o.get("track_running_stats", true));
    if (layer == "BatchNorm2d") return std::make_shared<nn::BatchNorm2d>(b);
    return std::make_shared<nn::BatchNorm1d>(b);
  }
  if (layer == "ReLU") return std::make_shared<nn::ReLU>();
  if (layer == "Flatten") return std::make_shared<nn::Flatten>(o.get<int64_t>("start_dim", 1), o.get<int64_t>("end_dim", -1));
  if (layer == "MaxPool2d") {
    nn::MaxPool2dOptions p(o.size2("kernel_size", 1));
    p.stride(o.size2("stride", 0)).padding(o.size2("padding", 0)).ceil_mode(o.get("ceil_mode", false));
    return std::make_shared<nn::MaxPool2d>(p);
  }
  if (layer == "AvgPool2d") {
    nn::AvgPool2dOptions p(o.size2("kernel_size", 1));
    p.stride(o.size2("stride", 0)).padding(o.size2("padding", 0)).ceil_mode(o.get("ceil_mode", false));
    p.count_include_pad(o.get("count_include_pad", true));
    return std::make_shared<nn::AvgPool2d>(p);
  }
  if (layer == "AdaptiveAvgPool2d") return std::make_shared<nn::AdaptiveAvgPool2d>(o.size2("output_size", 1));
  if (layer == "CatChannels") return std::make_shared<CatChannels>(o.need<int64_t>("in_channels"), o.need<int64_t>("growth"));
  if (layer == "ResidualAdd") return std::make_shared<ResidualAdd>(o.need<int64_t>("channels"));
  if (layer == "FlattenLinear")
    return std::make_shared<FlattenLinear>(o.need<int64_t>("in_features"), o.need<int64_t>("out_features"));
  FAIL("unknown layer " << layer);
  return nullptr;
}

// --- replaying a fixture file --------------------------------------------------------

void run_case(const std::string& family, const SafetensorsFile& file, const json& c, std::set<std::string>& used) {
  const std::string name = c.at("name");
  const std::string prefix = name + "/";
  auto get = [&](const std::string& key) {
    const auto it = file.tensors.find(prefix + key);
    REQUIRE_MESSAGE(it != file.tensors.end(), "fixture tensor " << prefix + key << " missing");
    used.insert(prefix + key);
    return it->second;
  };
  const DType dtype = c.at("dtype") == "float64" ? kFloat64 : kFloat32;
  const double tol = dtype == kFloat64 ? kLayerTol64 : kLayerTol32;
  const std::string group = family + " " + precision_name(dtype);

  Options options{c.at("options"), {}};
  nn::ModulePtr layer = make_layer(c.at("layer"), options);
  options.check_all_used();
  layer->to(dtype);
  TensorMap state;
  const std::string state_prefix = prefix + "state.";
  for (const auto& [key, t] : file.tensors)
    if (key.rfind(state_prefix, 0) == 0) {
      state[key.substr(state_prefix.size())] = t;
      used.insert(key);
    }
  layer->load_state_dict(state, /*strict=*/true, name);  // PyTorch's state_dict names, all of them
  layer->train(c.at("mode") == "train");

  const int calls = c.at("calls").get<int>();
  for (int i = 0; i + 1 < calls; ++i) {
    NoGradGuard no_grad;
    check_close(layer->forward(get("input" + std::to_string(i))), get("output" + std::to_string(i)), tol, group,
                "output of call " + std::to_string(i));
  }
  Tensor x = get("input").clone();
  CHECK(x.shape() == c.at("input_shape").get<Shape>());
  x.requires_grad_(true);
  Tensor out = layer->forward(x);
  check_close(out, get("output"), tol, group, "output");
  out.backward(get("grad_output"));
  check_close(x.grad(), get("grad_input"), tol, group, "grad_input");
  for (const auto& [pname, p] : layer->named_parameters()) check_close(p.grad(), get("grad." + pname), tol, group, "grad of " + pname);
  for (const auto& [bname, b] : layer->named_buffers())
    check_close(b, get("state_after." + bname), tol, group, bname + " after the forward calls");
}

void run_family(const std::string& family) {
  const SafetensorsFile& file = fixture(family + ".safetensors");
  const json cases = json::parse(file.metadata.at("cases"));
  REQUIRE(cases.size() > 0);
  std::set<std::string> used;
  for (const json& c : cases) {
    const std::string name = c.at("name"), layer = c.at("layer"), dtype = c.at("dtype");
    CAPTURE(name);
    CAPTURE(layer);
    CAPTURE(dtype);
    run_case(family, file, c, used);
  }
  // Every stored tensor was compared (or loaded): a case the test skipped would show here.
  for (const auto& [key, _] : file.tensors) CHECK_MESSAGE(used.contains(key), "fixture tensor " << key << " unused");
  report(family + " ");
}

}  // namespace

TEST_CASE("layer parity - Linear") { run_family("linear"); }
TEST_CASE("layer parity - Conv2d") { run_family("conv2d"); }
TEST_CASE("layer parity - BatchNorm1d and BatchNorm2d") { run_family("batch_norm"); }
TEST_CASE("layer parity - MaxPool2d AvgPool2d and AdaptiveAvgPool2d") { run_family("pooling"); }
TEST_CASE("layer parity - ReLU Flatten channel concatenation and residual addition") { run_family("composite"); }

namespace {

// The files hold float32 versions of linear, conv, batchnorm and the residual
// block beside the float64 cases: check the coverage is really there.
void require_float32_cases(const std::string& family) {
  const json cases = json::parse(fixture(family + ".safetensors").metadata.at("cases"));
  int float32 = 0, float64 = 0;
  for (const json& c : cases) (c.at("dtype") == "float32" ? float32 : float64)++;
  CHECK_MESSAGE(float32 > 0, family << " has no float32 case");
  CHECK_MESSAGE(float64 > 0, family << " has no float64 case");
}

void run_resnet20_step(DType dtype) {
  const bool f64 = dtype == kFloat64;
  const double tol = f64 ? kModelTol64 : kModelTol32;
  const std::string group = std::string("resnet20 ") + precision_name(dtype);
  const SafetensorsFile& f32_file = fixture("resnet20_step_f32.safetensors");
  const SafetensorsFile& file = fixture(f64 ? "resnet20_step_f64.safetensors" : "resnet20_step_f32.safetensors");
  auto get = [&](const std::string& key) {
    const auto it = file.tensors.find(key);
    REQUIRE_MESSAGE(it != file.tensors.end(), "fixture tensor " << key << " missing");
    return it->second;
  };

  // The float64 fixture used the float32 weights and input, converted (exactly).
  nn::ModulePtr model = nn::make_model("resnet20", 10);
  model->load(kLayersDir + "/resnet20_torch_checkpoint.safetensors");  // strict
  model->to(dtype);
  const Tensor x = f32_file.tensors.at("input").to(dtype);
  const Tensor y = get("labels");
  REQUIRE(x.shape() == Shape{8, 3, 32, 32});

  model->eval();
  {
    NoGradGuard no_grad;
    check_close(model->forward(x), get("eval_logits"), tol, group, "eval-mode logits");
  }
  model->train();
  Tensor logits = model->forward(x);
  check_close(logits, get("logits"), tol, group, "train-mode logits");
  Tensor loss = cross_entropy(logits, y);
  check_close(loss, get("loss"), tol, group, "loss");
  loss.backward();

  std::size_t grads = 0, buffers = 0;
  for (const auto& [name, p] : model->named_parameters()) {
    check_close(p.grad(), get("grad." + name), tol, group, "grad of " + name);
    ++grads;
  }
  for (const auto& [name, b] : model->named_buffers()) {
    check_close(b, get("state_after." + name), tol, group, name + " after the step");
    ++buffers;
  }
  std::size_t stored_grads = 0, stored_buffers = 0;
  for (const auto& [key, _] : file.tensors) {
    stored_grads += key.rfind("grad.", 0) == 0;
    stored_buffers += key.rfind("state_after.", 0) == 0;
  }
  CHECK(grads == stored_grads);
  CHECK(buffers == stored_buffers);
  CHECK(grads == 59);  // 19 convs, 19 batchnorms (weight, bias), linear (weight, bias)
  report(group);
}

const char* model_dtype_code(DType d) { return d == kFloat32 ? "F32" : d == kFloat64 ? "F64" : "I64"; }

}  // namespace

TEST_CASE("layer parity - the fixtures include float32 cases") {
  for (const char* family : {"linear", "conv2d", "batch_norm", "composite"}) require_float32_cases(family);
}

TEST_CASE("model parity - ResNet-20 train step float32") { run_resnet20_step(kFloat32); }
TEST_CASE("model parity - ResNet-20 train step float64") { run_resnet20_step(kFloat64); }

TEST_CASE("model parity - state_dict keys shapes dtypes and parameter counts match PyTorch") {
  const std::string path = kLayersDir + "/model_keys.json";
  std::ifstream in(path);
  REQUIRE_MESSAGE(in, "cannot open " << path << " (run /usr/bin/python3 scripts/make_fixtures.py)");
  const json data = json::parse(in);
  std::set<std::string> covered;
  for (const json& m : data.at("models")) {
    const std::string name = m.at("name");
    CAPTURE(name);
    covered.insert(name);
    nn::ModelOptions options;
    options.num_classes = m.at("num_classes");
    options.in_channels = m.at("in_channels");
    options.image_size = m.at("image_size");
    const nn::ModulePtr model = nn::make_model(name, options);
    const nn::NamedTensors state = model->named_state();
    const json& want = m.at("state");
    CHECK(state.size() == want.size());
    for (std::size_t i = 0; i < std::min(state.size(), want.size()); ++i) {
      const auto& [key, t] = state[i];
      const std::string want_key = want[i].at(0);
      const Shape want_shape = want[i].at(1).get<Shape>();
      const std::string want_dtype = want[i].at(2);
      CAPTURE(i);
      CHECK(key == want_key);
      CHECK_MESSAGE(t.shape() == want_shape, key << ": " << to_string(t.shape()) << " vs PyTorch's "
                                                 << to_string(want_shape));
      CHECK(model_dtype_code(t.dtype()) == want_dtype);
      if (key != want_key) break;  // one report of where the orders diverge is enough
    }
    CHECK(model->num_parameters() == m.at("num_parameters").at("10").get<std::int64_t>());
    options.num_classes = 100;
    CHECK(nn::make_model(name, options)->num_parameters() == m.at("num_parameters").at("100").get<std::int64_t>());
  }
  // Every registered model has PyTorch's keys here, except these, each for a
  // reason; a new model fails this until scripts/make_fixtures.py covers it
  // (scripts/torch_models.py) or it is listed with its reason.
  const std::map<std::string, std::string> without_fixture = {
      {"resnet32", "resnet20's class (CifarResNet) at another depth"},
      {"resnet44", "resnet20's class (CifarResNet) at another depth"},
      {"resnet56", "resnet20's class (CifarResNet) at another depth"},
      {"resnet110", "resnet20's class (CifarResNet) at another depth"},
      {"mlp", "Flatten, Linear and ReLU, each covered by the layer fixtures"},
  };
  for (const std::string& name : nn::model_names())
    if (!without_fixture.contains(name))
      CHECK_MESSAGE(covered.contains(name), name << " missing from " << path << " (or from without_fixture)");
}
