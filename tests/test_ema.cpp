// The weight EMA (optim/ema.h) against PyTorch's AveragedModel with
// get_ema_multi_avg_fn and timm's ModelEmaV3 (use_warmup, exclude_buffers):
// scripts/make_ema_fixtures.py recorded a float64 model's parameters and
// buffers after each of 12 SGD steps, and each reference EMA after each
// update, in tests/fixtures/ema.json. Replayed here, every element to 1e-12
// (the decays to 1e-15), and the buffers exactly.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fixture_file.h"
#include "fluxion.h"


namespace {

using json = nlohmann::json;
using namespace fluxion;

const json& fixture() {
  static const json data = test::fixture_json("ema.json", ".venv-compare/bin/python scripts/make_ema_fixtures.py");
  return data;
}

Shape shape_of(const json& dims) { return dims.get<std::vector<std::int64_t>>(); }

// The fixture's flat lists as tensors of the recorded shapes (float64, or
// int64 for num_batches_tracked).
std::vector<Tensor> tensors(const json& lists, const json& shapes, const json* dtypes = nullptr) {
  std::vector<Tensor> out;
  for (std::size_t i = 0; i < lists.size(); ++i) {
    const bool whole = dtypes && (*dtypes)[i] == "int64";
    out.push_back(tensor(lists[i].get<std::vector<double>>(), shape_of(shapes[i]), whole ? kInt64 : kFloat64));
  }
  return out;
}

std::vector<Tensor> parameters_of(const json& state) { return tensors(state["parameters"], fixture()["parameter_shapes"]); }
std::vector<Tensor> buffers_of(const json& state) {
  return tensors(state["buffers"], fixture()["buffer_shapes"], &fixture()["buffer_dtypes"]);
}

// Fresh copies: the EMA updates its tensors in place.
std::vector<Tensor> clones(const std::vector<Tensor>& ts) {
  std::vector<Tensor> out;
  for (const Tensor& t : ts) out.push_back(t.clone());
  return out;
}

optim::EmaOptions options_of(const json& c) {
  optim::EmaOptions o;
  o.decay = c["decay"].get<double>();
  o.warmup = c["warmup"].get<bool>();
  if (o.warmup) {
    o.warmup_gamma = c["warmup_gamma"].get<double>();
    o.warmup_power = c["warmup_power"].get<double>();
    o.min_decay = c["min_decay"].get<double>();
  }
  return o;
}

}  // namespace

TEST_CASE("ema: the decays are AveragedModel's and timm ModelEmaV3's, warmup included") {
  for (const json& c : fixture()["cases"]) {
    const std::string name = c["name"];
    CAPTURE(name);
    const optim::EmaOptions o = options_of(c);
    const auto& want = c["decays"];
    for (std::size_t n = 0; n < want.size(); ++n) {
      CAPTURE(n);
      CHECK(std::fabs(optim::ema_decay(o, static_cast<std::int64_t>(n) + 1) - want[n].get<double>()) <= 1e-15);
    }
  }
  // timm's defaults are the warmup's (gamma 1, power 2/3, no floor).
  const optim::EmaOptions defaults;
  CHECK(defaults.warmup_gamma == 1.0);
  CHECK(defaults.warmup_power == 2.0 / 3.0);
  CHECK(defaults.min_decay == 0.0);
}

TEST_CASE("ema: the averaged weights equal PyTorch's and timm's after every update, the buffers copied") {
  const json& f = fixture();
  INFO("fixture made with torch ", f["versions"]["torch"].get<std::string>(), ", timm ",
       f["versions"]["timm"].get<std::string>());
  double worst = 0;
  for (const json& c : f["cases"]) {
    const std::string name = c["name"];
    CAPTURE(name);
    // The EMA starts as a copy of the initial model, as both references do.
    std::vector<Tensor> params = clones(parameters_of(f["initial"])), buffers = clones(buffers_of(f["initial"]));
    optim::WeightEma ema(params, buffers, options_of(c));
    REQUIRE(c["ema"].size() == f["models"].size());
    for (std::size_t step = 0; step < f["models"].size(); ++step) {
      CAPTURE(step);
      ema.update(parameters_of(f["models"][step]), buffers_of(f["models"][step]));
      CHECK(ema.updates() == static_cast<std::int64_t>(step) + 1);
      const std::vector<Tensor> want = parameters_of(c["ema"][step]);
      for (std::size_t i = 0; i < want.size(); ++i) {
        const std::vector<double> got = params[i].to_vector<double>(), expected = want[i].to_vector<double>();
        for (std::size_t k = 0; k < got.size(); ++k) {
          worst = std::max(worst, std::fabs(got[k] - expected[k]));
          CHECK(std::fabs(got[k] - expected[k]) <= 1e-12);
        }
      }
      const std::vector<Tensor> want_buffers = buffers_of(c["ema"][step]);
      for (std::size_t i = 0; i < want_buffers.size(); ++i)
        CHECK(buffers[i].to_vector<double>() == want_buffers[i].to_vector<double>());  // copied, exactly
    }
  }
  MESSAGE("largest deviation from the references: ", worst);
  CHECK(worst <= 1e-12);
}

TEST_CASE("ema: the first update copies the model exactly, and an average is PyTorch's lerp") {
  Tensor average = tensor({1.0, -2.0, 3.0}, kFloat64), value = tensor({0.1, 0.7, -1e300}, kFloat64);
  std::vector<Tensor> params{average.clone()};
  optim::WeightEma ema(params, {}, optim::EmaOptions{0.9});
  ema.update({value}, {});
  CHECK(params[0].to_vector<double>() == value.to_vector<double>());
  // Both of lerp's branches: weight < 0.5 and >= 0.5.
  Tensor a = tensor({1.0, 3.0}, kFloat64);
  optim::lerp_(a, tensor({2.0, -1.0}, kFloat64), 0.25);
  CHECK(a.to_vector<double>() == std::vector<double>{1.0 + 0.25 * 1.0, 3.0 + 0.25 * -4.0});
  Tensor b = tensor({1.0, 3.0}, kFloat64);
  optim::lerp_(b, tensor({2.0, -1.0}, kFloat64), 0.75);
  CHECK(b.to_vector<double>() == std::vector<double>{2.0 - (2.0 - 1.0) * 0.25, -1.0 - (-1.0 - 3.0) * 0.25});
  // A resumed EMA continues the warmup from its count.
  optim::EmaOptions warm{0.99, true};
  CHECK(optim::ema_decay(warm, 1) == 0.0);
  CHECK(optim::ema_decay(warm, 1000000) == 0.99);  // the ceiling
  ema.set_updates(41);
  CHECK(ema.updates() == 41);
}

TEST_CASE("ema: a decay outside (0, 1) and mismatched tensors are refused") {
  for (double decay : {0.0, 1.0, -0.1, 1.5, std::nan("")}) {
    CAPTURE(decay);
    CHECK_THROWS_AS(optim::WeightEma({}, {}, optim::EmaOptions{decay}), InputError);
  }
  std::vector<Tensor> params{zeros({2}, kFloat64)};
  optim::WeightEma ema(params, {}, optim::EmaOptions{0.5});
  CHECK_THROWS_AS(ema.update({zeros({3}, kFloat64)}, {}), Error);
  CHECK_THROWS_AS(ema.update({zeros({2}, kFloat64), zeros({2}, kFloat64)}, {}), Error);
}
