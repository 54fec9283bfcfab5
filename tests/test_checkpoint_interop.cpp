// Checkpoint interop with PyTorch, both ways, through the committed fixtures
// in tests/fixtures/layers/ (written by scripts/make_fixtures.py):
//
//   * PyTorch -> Fluxion: resnet20_torch_checkpoint.safetensors is PyTorch's
//     ResNet-20 state_dict (scripts/torch_models.py), float32 with int64 0-d
//     num_batches_tracked, exactly torch's keys. It loads into
//     nn::make_model("resnet20") strictly, and the eval-mode logits match the
//     ones PyTorch computed with it (resnet20_step_f32.safetensors).
//   * Fluxion -> PyTorch: a checkpoint Fluxion writes has exactly the PyTorch
//     file's keys, dtypes and shapes (what load_state_dict(strict=True) needs)
//     and reads back to identical bytes. When FLUXION_INTEROP_DIR is set (the
//     CTest entry checkpoint_interop_write_for_pytorch does), the checkpoint
//     and the logits Fluxion computes with it are left there, and
//     checkpoint_interop_pytorch_strict_load runs scripts/check_torch_load.py,
//     which loads them into PyTorch with strict=True and compares the logits
//     (skipped where /usr/bin/python3 has no torch, as in CI).

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "helpers.h"

#ifndef FLUXION_FIXTURES_DIR
#error "FLUXION_FIXTURES_DIR must name tests/fixtures (see tests/CMakeLists.txt)"
#endif

namespace {

using json = nlohmann::json;
using namespace fluxion;

const std::string kLayersDir = FLUXION_FIXTURES_DIR "/layers";
const std::string kTorchCheckpoint = kLayersDir + "/resnet20_torch_checkpoint.safetensors";

// The raw JSON header of a safetensors file, as another reader (PyTorch's side) sees it.
json raw_header(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE_MESSAGE(in, "cannot open " << path);
  unsigned char len_bytes[8];
  in.read(reinterpret_cast<char*>(len_bytes), 8);
  REQUIRE(in.gcount() == 8);
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | len_bytes[i];  // little-endian
  REQUIRE(n < (1u << 24));
  std::string text(n, '\0');
  in.read(text.data(), static_cast<std::streamsize>(n));
  REQUIRE(static_cast<std::uint64_t>(in.gcount()) == n);
  return json::parse(text);
}

// name -> [dtype, shape] of every tensor in a header (metadata left out).
std::map<std::string, json> layout(const json& header) {
  std::map<std::string, json> out;
  for (const auto& [name, entry] : header.items())
    if (name != "__metadata__") out[name] = json::array({entry.at("dtype"), entry.at("shape")});
  return out;
}

bool same_bytes(const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype() || a.shape() != b.shape()) return false;
  const Tensor ac = a.contiguous(), bc = b.contiguous();
  const std::size_t bytes = static_cast<std::size_t>(a.numel()) * (a.dtype() == kFloat32 ? 4 : 8);
  return std::memcmp(ac.raw_data(), bc.raw_data(), bytes) == 0;
}

// |got - want| <= tol * max(|want|, rms(want)) elementwise (see tests/test_layer_parity.cpp);
// returns the worst scaled error.
double scaled_error(const Tensor& got, const Tensor& want) {
  REQUIRE(got.shape() == want.shape());
  const std::vector<double> a = got.to_vector<double>(), e = want.to_vector<double>();
  double sum_sq = 0.0;
  for (double v : e) sum_sq += v * v;
  const double rms = std::sqrt(sum_sq / static_cast<double>(e.size()));
  double worst = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double err = std::fabs(a[i] - e[i]) / std::max({std::fabs(e[i]), rms, 1e-300});
    worst = std::max(worst, std::isfinite(err) ? err : INFINITY);
  }
  return worst;
}

}  // namespace

TEST_CASE("checkpoint interop - a PyTorch ResNet-20 checkpoint loads into Fluxion") {
  nn::ModulePtr model = nn::make_model("resnet20", 10);
  model->load(kTorchCheckpoint);  // strict: every key present, no other

  // Every tensor arrived unchanged, num_batches_tracked included.
  const SafetensorsFile file = load_safetensors(kTorchCheckpoint);
  const nn::NamedTensors state = model->named_state();
  CHECK(state.size() == file.tensors.size());
  for (const auto& [name, t] : state) {
    CAPTURE(name);
    REQUIRE(file.tensors.contains(name));
    CHECK(same_bytes(t, file.tensors.at(name)));
  }
  CHECK(model->state_dict().at("bn1.num_batches_tracked").item<std::int64_t>() == 3);

  // The eval-mode logits PyTorch computed with these weights (float32, so the ResNet-20 parity tolerance).
  const SafetensorsFile step = load_safetensors(kLayersDir + "/resnet20_step_f32.safetensors");
  model->eval();
  NoGradGuard no_grad;
  const Tensor logits = model->forward(step.tensors.at("input"));
  const double err = scaled_error(logits, step.tensors.at("eval_logits"));
  CHECK_MESSAGE(err <= 1e-4, "eval logits differ from PyTorch's by " << err);

  // Strict loading names what does not fit, and changes nothing then.
  TensorMap missing = file.tensors;
  missing.erase("layer2.0.bn1.running_var");
  nn::ModulePtr other = nn::make_model("resnet20", 10);
  CHECK_THROWS_WITH_AS(other->load_state_dict(missing), doctest::Contains("layer2.0.bn1.running_var"), Error);
  TensorMap extra = file.tensors;
  extra["layer1.0.shortcut.0.weight"] = zeros({16, 16, 1, 1});
  CHECK_THROWS_WITH_AS(other->load_state_dict(extra), doctest::Contains("layer1.0.shortcut.0.weight"), Error);
  // A checkpoint for another model (option B shortcuts) does not load strictly either.
  CHECK_THROWS_AS(nn::make_model("resnet20b", 10)->load(kTorchCheckpoint), Error);
}

// The CTest entry checkpoint_interop_write_for_pytorch runs this case with FLUXION_INTEROP_DIR set.
TEST_CASE("checkpoint interop - a Fluxion ResNet-20 checkpoint has the PyTorch layout") {
  test::TempDir scratch;
  const char* env_dir = std::getenv("FLUXION_INTEROP_DIR");
  const std::filesystem::path dir = env_dir != nullptr && *env_dir != '\0' ? env_dir : scratch.path;
  std::filesystem::create_directories(dir);
  const std::string checkpoint = (dir / "fluxion_resnet20.safetensors").string();
  const std::string eval_file = (dir / "fluxion_resnet20_eval.safetensors").string();

  // A Fluxion-made model: Fluxion's initialisation, random batchnorm and linear
  // weights and biases, and running statistics from one training-mode batch.
  manual_seed(1234);
  nn::ModulePtr model = nn::make_model("resnet20", 10);
  Generator gen(99);
  {
    NoGradGuard no_grad;
    for (auto& [name, p] : model->named_parameters())
      if (p.dim() == 1) p.copy_(uniform(p.shape(), 0.5, 1.5, p.options(), &gen));
  }
  model->train();
  {
    NoGradGuard no_grad;
    model->forward(randn({8, 3, 32, 32}, {}, &gen));
  }
  model->eval();
  const Tensor input = randn({4, 3, 32, 32}, {}, &gen);
  Tensor logits;
  {
    NoGradGuard no_grad;
    logits = model->forward(input);
  }
  model->save(checkpoint, {{"format", "pt"}, {"generator", "tests/test_checkpoint_interop.cpp"}});
  save_safetensors(eval_file, {{"input", input}, {"logits", logits}});

  // Exactly PyTorch's keys, dtypes and shapes: what load_state_dict(strict=True) needs.
  const auto ours = layout(raw_header(checkpoint));
  const auto torchs = layout(raw_header(kTorchCheckpoint));
  for (const auto& [name, entry] : torchs) {
    CAPTURE(name);
    const auto it = ours.find(name);
    CHECK_MESSAGE(it != ours.end(), "missing from the Fluxion checkpoint");
    if (it != ours.end()) CHECK_MESSAGE(it->second == entry, it->second.dump() << " vs PyTorch's " << entry.dump());
  }
  for (const auto& [name, _] : ours) CHECK_MESSAGE(torchs.contains(name), name << " is not in PyTorch's state_dict");
  CHECK(ours.at("bn1.num_batches_tracked") == json::array({"I64", json::array()}));

  // Reading it back gives the same bytes, and a fresh model computes the same logits.
  const SafetensorsFile back = load_safetensors(checkpoint);
  CHECK(back.metadata.at("format") == "pt");
  const TensorMap state = model->state_dict();
  CHECK(back.tensors.size() == state.size());
  for (const auto& [name, t] : state) {
    CAPTURE(name);
    REQUIRE(back.tensors.contains(name));
    CHECK(same_bytes(back.tensors.at(name), t));
  }
  CHECK(state.at("bn1.num_batches_tracked").item<std::int64_t>() == 1);
  nn::ModulePtr fresh = nn::make_model("resnet20", 10);
  fresh->load(checkpoint);
  fresh->eval();
  NoGradGuard no_grad;
  CHECK(same_bytes(fresh->forward(input), logits));
}
