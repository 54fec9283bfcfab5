// The CUDA parity suite: every op and layer run on the CPU and on a GPU with
// the same inputs, outputs and gradients compared; every optimizer's fused
// kernel against the CPU's update; a few ResNet-20 training steps with each
// optimizer; the caching allocator's steady state; errors. TF32 is off for
// the comparisons (cuda::set_allow_tf32(false)), so float32 differences are
// summation order only. Tolerances are stated per check: float64 ops agree
// to ~1e-12; float32 convolutions and training steps to what reordered
// float32 sums allow.
//
// Without a GPU the whole program reports itself skipped (exit 77, which
// CTest shows as "Skipped" with the reason) rather than passing vacuously.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "fluxion.h"

using namespace fluxion;

namespace {

const Device kGPU = Device::cuda(0);

// Largest |a - b| / (1 + |b|) over all elements (both moved to the CPU).
double max_rel_diff(const Tensor& actual, const Tensor& expected) {
  REQUIRE(actual.shape() == expected.shape());
  const std::vector<double> a = actual.to_vector<double>(), e = expected.to_vector<double>();
  double worst = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(a[i]) && std::isnan(e[i])) continue;
    worst = std::max(worst, std::abs(a[i] - e[i]) / (1.0 + std::abs(e[i])));
  }
  return worst;
}

// Runs fn on `inputs` on the CPU and on the GPU, backpropagates the same
// random output gradient on both, and checks outputs and every input
// gradient agree within tol.
void check_parity(const std::string& name, std::vector<Tensor> cpu_inputs,
                  const std::function<Tensor(const std::vector<Tensor>&)>& fn, double tol) {
  CAPTURE(name);
  std::vector<Tensor> gpu_inputs;
  for (Tensor& t : cpu_inputs) {
    Tensor g = t.detach().to(kGPU);
    if (t.requires_grad()) g.requires_grad_();
    gpu_inputs.push_back(g);
  }
  const Tensor out_cpu = fn(cpu_inputs);
  const Tensor out_gpu = fn(gpu_inputs);
  CHECK(out_gpu.device() == kGPU);
  CHECK_MESSAGE(max_rel_diff(out_gpu, out_cpu) <= tol, name, ": forward differs by ", max_rel_diff(out_gpu, out_cpu));
  if (!out_cpu.requires_grad()) return;
  const Tensor grad = randn(out_cpu.shape(), out_cpu.dtype());
  out_cpu.backward(grad);
  out_gpu.backward(grad.to(kGPU));
  for (std::size_t i = 0; i < cpu_inputs.size(); ++i) {
    if (!cpu_inputs[i].requires_grad()) continue;
    REQUIRE(gpu_inputs[i].grad().defined());
    const double diff = max_rel_diff(gpu_inputs[i].grad(), cpu_inputs[i].grad());
    CHECK_MESSAGE(diff <= tol, name, ": gradient of input ", i, " differs by ", diff);
  }
}

Tensor param(const Shape& shape, DType dtype = kFloat64) { return randn(shape, dtype).requires_grad_(); }

}  // namespace

TEST_CASE("cuda parity - elementwise ops with broadcasting, float64 and float32") {
  for (DType dtype : {kFloat64, kFloat32}) {
    const double tol = dtype == kFloat64 ? 1e-12 : 1e-5;
    check_parity("add/mul/sub/div broadcast", {param({4, 1, 5}, dtype), param({3, 1}, dtype)},
                 [](const auto& x) { return (x[0] + x[1]) * x[0] - x[1] / (x[0] * x[0] + 1.0); }, tol);
    check_parity("unary chain", {param({6, 7}, dtype)}, [](const auto& x) {
      return exp(tanh(x[0])) + sigmoid(x[0]) * relu(x[0]) + sqrt(abs(x[0]) + 1.0) + log(x[0] * x[0] + 2.0) +
             pow(x[0], 3.0) + clamp(x[0], -0.5, 0.5);
    }, tol);
    check_parity("add_relu broadcast (a residual block's end)", {param({4, 3, 5}, dtype), param({3, 1}, dtype)},
                 [](const auto& x) { return add_relu(x[0], x[1]); }, tol);
    check_parity("where and comparisons", {param({5, 6}, dtype), param({5, 6}, dtype)},
                 [](const auto& x) { return where(gt(x[0], x[1]), x[0] * 2.0, x[1]) + maximum(x[0], x[1]); }, tol);
    check_parity("non-contiguous views", {param({4, 6, 5}, dtype)}, [](const auto& x) {
      return x[0].transpose(0, 2).slice(1, 1, 5, 2) * x[0].permute({2, 1, 0}).slice(1, 0, 2);
    }, tol);
  }
}

TEST_CASE("cuda parity - reductions, softmax, losses, indexing") {
  check_parity("sum over dims", {param({3, 4, 5, 6})}, [](const auto& x) { return sum(x[0], {0, 2}, true); }, 1e-12);
  check_parity("full sum of a large tensor (split reduction)", {param({300000})},
               [](const auto& x) { return sum(x[0] * x[0]); }, 1e-12);
  check_parity("mean", {param({7, 9})}, [](const auto& x) { return mean(x[0], {1}); }, 1e-12);
  check_parity("max", {param({7, 9})}, [](const auto& x) { return max(x[0]); }, 1e-12);
  check_parity("softmax dim 0 and log_softmax dim 1", {param({6, 10})},
               [](const auto& x) { return softmax(x[0], 0) + log_softmax(x[0], 1); }, 1e-12);
  const Tensor target = randint(0, 10, {16}, kInt64);
  check_parity("cross_entropy", {param({16, 10})}, [&](const auto& x) {
    return cross_entropy(x[0], target.to(x[0].device()), Reduction::mean, 0.1);
  }, 1e-12);
  check_parity("mse_loss, stack and views", {param({4, 6}), param({4, 6})}, [](const auto& x) {
    return mse_loss(stack({x[0], x[1]}, 1).view({4, 12}).unsqueeze(0).squeeze(0),
                    cat({x[1], x[0]}, 1));
  }, 1e-12);
  {
    // The same generator state gives the same mask on both devices: it is
    // drawn on the CPU.
    Generator cpu_gen(5), gpu_gen(5);
    check_parity("dropout", {param({6, 8})}, [&](const auto& x) {
      return dropout(x[0], 0.3, true, x[0].device().is_cuda() ? &gpu_gen : &cpu_gen);
    }, 1e-12);
  }
  const Tensor index = randint(0, 8, {5}, kInt64);
  check_parity("index_select and cat", {param({8, 3}), param({2, 3})}, [&](const auto& x) {
    return cat({index_select(x[0], 0, index.to(x[0].device())), x[1]}, 0);
  }, 1e-12);
  CHECK(argmax(randn({4, 7}).to(kGPU), 1).to_vector<std::int64_t>().size() == 4);
  const Tensor logits = randn({5, 7});
  CHECK(argmax(logits.to(kGPU), 1).to_vector<std::int64_t>() == argmax(logits, 1).to_vector<std::int64_t>());
  // An index out of range is an error on the GPU too, not a silent read.
  CHECK_THROWS_WITH_AS(gather(randn({2, 3}).to(kGPU), 1, full({2, 1}, 5.0, TensorOptions(kInt64).device(kGPU))),
                       doctest::Contains("out of bounds"), Error);
  // Mixing devices is an error that names both, never a host read of GPU memory.
  CHECK_THROWS_WITH_AS(cross_entropy(randn({4, 3}), randint(0, 3, {4}, TensorOptions(kInt64).device(kGPU))),
                       doctest::Contains("cuda:0"), Error);
  CHECK_THROWS_WITH_AS(randn({2}) + randn({2}).to(kGPU), doctest::Contains("device mismatch"), Error);
}

TEST_CASE("cuda parity - matmul through cuBLAS: transposed, batched, broadcast") {
  cuda::set_allow_tf32(false);
  check_parity("2-D", {param({33, 17}), param({17, 9})}, [](const auto& x) { return matmul(x[0], x[1]); }, 1e-12);
  check_parity("transposed operands", {param({17, 33}), param({9, 17})},
               [](const auto& x) { return matmul(x[0].t(), x[1].t()); }, 1e-12);
  check_parity("batched with broadcast", {param({4, 5, 6}), param({6, 3})},
               [](const auto& x) { return matmul(x[0], x[1]); }, 1e-12);
  check_parity("linear float32", {param({8, 20}, kFloat32), param({7, 20}, kFloat32), param({7}, kFloat32)},
               [](const auto& x) { return linear(x[0], x[1], x[2]); }, 1e-5);
}

TEST_CASE("cuda parity - conv2d through cuDNN: strides, padding, dilation, groups, bias") {
  cuda::set_allow_tf32(false);
  struct Case {
    Conv2dParams p;
    std::int64_t in, out, k, groups;
  };
  const std::vector<Case> cases = {
      {{1, 1, 1, 1, 1, 1, 1}, 3, 8, 3, 1},   // the CIFAR stem
      {{2, 2, 1, 1, 1, 1, 1}, 8, 16, 3, 1},  // downsampling
      {{1, 1, 0, 0, 1, 1, 1}, 16, 8, 1, 1},  // 1x1
      {{1, 1, 2, 2, 2, 2, 1}, 4, 4, 3, 1},   // dilated
      {{1, 2, 1, 0, 1, 1, 2}, 4, 6, 3, 2},   // grouped, asymmetric
  };
  for (const Case& c : cases) {
    Conv2dParams p = c.p;
    p.groups = c.groups;
    for (DType dtype : {kFloat64, kFloat32}) {
      check_parity("conv2d", {param({2, c.in, 9, 10}, dtype), param({c.out, c.in / c.groups, c.k, c.k}, dtype),
                              param({c.out}, dtype)},
                   [p](const auto& x) { return conv2d(x[0], x[1], x[2], p); }, dtype == kFloat64 ? 1e-11 : 2e-4);
    }
  }
}

TEST_CASE("cuda parity - batch_norm (training with running statistics, and eval) and pooling") {
  for (DType dtype : {kFloat64, kFloat32}) {
    const double tol = dtype == kFloat64 ? 1e-10 : 2e-5;
    Tensor mean_cpu = zeros({5}, dtype), var_cpu = ones({5}, dtype);
    Tensor mean_gpu = mean_cpu.to(kGPU), var_gpu = var_cpu.to(kGPU);
    check_parity("batch_norm training", {param({4, 5, 3, 3}, dtype), param({5}, dtype), param({5}, dtype)},
                 [&](const auto& x) {
                   const bool gpu = x[0].device().is_cuda();
                   return batch_norm(x[0], x[1], x[2], gpu ? mean_gpu : mean_cpu, gpu ? var_gpu : var_cpu, true, 0.1,
                                     1e-5);
                 }, tol);
    CHECK(max_rel_diff(mean_gpu, mean_cpu) <= tol);
    CHECK(max_rel_diff(var_gpu, var_cpu) <= tol);  // unbiased running variance on both
    check_parity("batch_norm_relu training (relu and relu_grad around cuDNN)",
                 {param({4, 5, 3, 3}, dtype), param({5}, dtype), param({5}, dtype)}, [&](const auto& x) {
                   return batch_norm_relu(x[0], x[1], x[2], Tensor(), Tensor(), true, 0.1, 1e-5);
                 }, tol);
    check_parity("batch_norm without affine, [N, C] input", {param({6, 5}, dtype)}, [&](const auto& x) {
      return batch_norm(x[0], Tensor(), Tensor(), Tensor(), Tensor(), true, 0.1, 1e-5);
    }, tol);
    check_parity("batch_norm of a 5-D input (trailing dims folded)", {param({3, 4, 2, 3, 5}, dtype)},
                 [&](const auto& x) { return batch_norm(x[0], Tensor(), Tensor(), Tensor(), Tensor(), true, 0.1, 1e-3); },
                 tol);
    {
      // Evaluation without a gradient: the backend's channel_affine.
      NoGradGuard no_grad;
      const Tensor x = randn({4, 5, 3, 3}).to(dtype), w = randn({5}).to(dtype), b = randn({5}).to(dtype);
      const Tensor rv = rand({5}).to(dtype) + 0.5;
      for (const bool with_relu : {false, true}) {
        const auto eval = [&](Device d) {
          const auto op = with_relu ? batch_norm_relu : batch_norm;
          return op(x.to(d), w.to(d), b.to(d), mean_cpu.to(d), rv.to(d), false, 0.1, 1e-5);
        };
        CHECK(max_rel_diff(eval(kGPU).to(kCPU), eval(kCPU)) <= tol);
      }
    }
    check_parity("max_pool2d ceil_mode with padding", {param({2, 3, 7, 7}, dtype)}, [](const auto& x) {
      return max_pool2d(x[0], Pool2dParams{3, 3, 2, 2, 1, 1, true, true});
    }, tol);
    check_parity("max_pool2d 2x2 stride 2 (the CPU's vectorised kernel)", {param({2, 3, 8, 6}, dtype)},
                 [](const auto& x) { return max_pool2d(x[0], Pool2dParams{2, 2, 2, 2, 0, 0, false, true}); }, tol);
    check_parity("avg_pool2d without count_include_pad", {param({2, 3, 7, 6}, dtype)}, [](const auto& x) {
      return avg_pool2d(x[0], Pool2dParams{3, 2, 2, 2, 1, 1, true, false});
    }, tol);
    check_parity("adaptive_avg_pool2d", {param({2, 3, 8, 8}, dtype)},
                 [](const auto& x) { return adaptive_avg_pool2d(x[0], 1, 1); }, tol);
  }
}

TEST_CASE("cuda parity - every optimizer's fused kernel follows the CPU update") {
  for (const std::string& name : optim::optimizer_names()) {
    CAPTURE(name);
    manual_seed(3);
    Tensor w_cpu = randn({1000}, kFloat64).requires_grad_();
    Tensor w_gpu = w_cpu.detach().to(kGPU).requires_grad_();
    auto opt_cpu = optim::make_optimizer(name, {w_cpu}, {});
    auto opt_gpu = optim::make_optimizer(name, {w_gpu}, {});
    for (int step = 0; step < 5; ++step) {
      const Tensor g = randn({1000}, kFloat64) * 0.1;
      w_cpu.set_grad(g.clone());
      w_gpu.set_grad(g.to(kGPU));
      opt_cpu->step();
      opt_gpu->step();
    }
    CHECK(w_gpu.device() == kGPU);
    CHECK(max_rel_diff(w_gpu, w_cpu) <= 1e-12);
    for (const auto& [key, t] : opt_cpu->state_dict()) {
      CAPTURE(key);
      CHECK(max_rel_diff(opt_gpu->state_dict().at(key), t) <= 1e-12);
    }
  }
}

TEST_CASE("cuda parity - ResNet-20 training steps with each optimizer") {
  cuda::set_allow_tf32(false);
  for (const std::string& name : optim::optimizer_names()) {
    CAPTURE(name);
    manual_seed(7);
    nn::ModelOptions o;
    auto cpu_model = nn::make_model("resnet20", o);
    manual_seed(7);
    auto gpu_model = nn::make_model("resnet20", o);
    gpu_model->to(kGPU);
    auto opt_cpu = optim::make_optimizer(name, cpu_model->parameters(), {});
    auto opt_gpu = optim::make_optimizer(name, gpu_model->parameters(), {});
    for (int step = 0; step < 3; ++step) {
      const Tensor x = randn({8, 3, 32, 32});
      const Tensor y = randint(0, 10, {8}, kInt64);
      opt_cpu->zero_grad();
      opt_gpu->zero_grad();
      const Tensor loss_cpu = cross_entropy(cpu_model->forward(x), y);
      const Tensor loss_gpu = cross_entropy(gpu_model->forward(x.to(kGPU)), y.to(kGPU));
      CHECK(loss_gpu.item() == doctest::Approx(loss_cpu.item()).epsilon(1e-4));
      loss_cpu.backward();
      loss_gpu.backward();
      opt_cpu->step();
      opt_gpu->step();
    }
    // Three steps of float32 training, summed in a different order: 1e-3.
    const auto cpu_state = cpu_model->named_state(), gpu_state = gpu_model->named_state();
    for (std::size_t i = 0; i < cpu_state.size(); ++i) {
      CAPTURE(cpu_state[i].first);
      CHECK(max_rel_diff(gpu_state[i].second, cpu_state[i].second) <= 1e-3);
    }
  }
}

// cuda::set_deterministic (--deterministic): the kernels that add in no
// fixed order (atomic scatter_add, some cuDNN backward-filter algorithms)
// are replaced, so repeating a computation repeats its bits.
TEST_CASE("cuda - deterministic mode: scatter_add with repeated indices and conv2d's backward repeat their bits") {
  struct Restore {
    ~Restore() { cuda::set_deterministic(false); }
  } restore;
  cuda::set_deterministic(true);
  // index_select's backward adds 400 gradients into 3 rows: every row's sum
  // meets many float32 additions, whose order atomics would vary.
  const Tensor index = randint(0, 3, {400}, kInt64).to(kGPU);
  const Tensor x_cpu = randn({3, 64});
  const Tensor upstream = randn({400, 64});
  auto index_grad = [&](const Device& device) {
    const Tensor x = x_cpu.to(device).requires_grad_();
    index_select(x, 0, index.to(device)).backward(upstream.to(device));
    return x.grad().to(Device::cpu());
  };
  const Tensor first = index_grad(kGPU);
  CHECK(index_grad(kGPU).to_vector<float>() == first.to_vector<float>());
  CHECK(max_rel_diff(first, index_grad(Device::cpu())) <= 1e-5);
  // A convolution's weight gradient, twice, with a deterministic algorithm.
  const Tensor x = randn({32, 16, 16, 16}).to(kGPU);
  const Tensor grad_out = randn({32, 32, 16, 16}).to(kGPU);
  Conv2dParams p;
  p.pad_h = p.pad_w = 1;
  auto weight_grad = [&] {
    const Tensor w = randn({32, 16, 3, 3}).to(kGPU).requires_grad_();
    conv2d(x, w, Tensor(), p).backward(grad_out);
    return w.grad().to(Device::cpu()).to_vector<float>();
  };
  CHECK(weight_grad() == weight_grad());
}

TEST_CASE("cuda - module.to, checkpoints across devices, and a steady-state step allocates nothing") {
  manual_seed(1);
  auto model = nn::make_model("resnet20", {});
  model->to(kGPU);
  for (const Tensor& p : model->parameters()) CHECK(p.device() == kGPU);
  optim::AdaBayes optimizer(model->parameters(), optim::AdaBayesOptions());
  auto step = [&] {
    optimizer.zero_grad();
    cross_entropy(model->forward(randn({16, 3, 32, 32}, kGPU)), randint(0, 10, {16}, TensorOptions(kInt64).device(kGPU)))
        .backward();
    optimizer.step();
  };
  step();
  step();
  const std::size_t misses = cuda::memory_stats().misses;
  for (int i = 0; i < 3; ++i) step();
  CHECK_MESSAGE(cuda::memory_stats().misses == misses, "a steady-state step called cudaMalloc");
  CHECK(cuda::memory_stats().peak_in_use_bytes > 0);

  // Saved from the GPU, loaded on the CPU: the same values.
  const std::string path = (std::filesystem::temp_directory_path() / "fluxion_cuda_parity.safetensors").string();
  model->save(path);
  manual_seed(2);
  auto cpu_model = nn::make_model("resnet20", {});
  cpu_model->load(path);
  const auto a = model->named_state(), b = cpu_model->named_state();
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(max_rel_diff(a[i].second, b[i].second) == 0.0);
  std::filesystem::remove(path);
}

TEST_CASE("cuda - out of memory names the request and the cache") {
  CHECK_THROWS_WITH_AS(empty({std::int64_t{1} << 40}, kGPU), doctest::Contains("CUDA out of memory"), Error);
}

int main(int argc, char** argv) {
  if (!cuda::is_available()) {
    std::printf("SKIPPED: no CUDA GPU is visible to this process; the CUDA parity suite needs one "
                "(it was compiled, which CI checks)\n");
    return 77;
  }
  doctest::Context context(argc, argv);
  return context.run();
}
