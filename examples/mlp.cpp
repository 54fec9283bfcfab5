// A two-layer MLP, written with Fluxion's ops alone, learns the two-spirals
// problem: 2-D points on two interleaved spirals, one class each. It is the
// smallest complete training loop: data, forward, loss, backward, update.
//
//   ./build/release/examples/mlp [--steps N] [--hidden H] [--seed S]
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "fluxion.h"

using namespace fluxion;

namespace {

// PyTorch's nn.Linear initialisation: uniform in +-1/sqrt(fan_in).
Tensor init_uniform(const Shape& shape, std::int64_t fan_in, Generator& gen) {
  const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
  return uniform(shape, -bound, bound, {}, &gen).requires_grad_();
}

long parse_flag(int argc, char** argv, const char* name, long fallback) {
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], name) == 0) {
      char* end = nullptr;
      long value = std::strtol(argv[i + 1], &end, 10);
      if (*end != '\0' || value < 1) {
        std::fprintf(stderr, "mlp: %s expects a positive integer, got '%s'\n", name, argv[i + 1]);
        std::exit(2);
      }
      return value;
    }
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  const long steps = parse_flag(argc, argv, "--steps", 2000);
  const long hidden = parse_flag(argc, argv, "--hidden", 128);
  Generator gen(static_cast<std::uint64_t>(parse_flag(argc, argv, "--seed", 1)));

  const data::Spirals data = data::make_spirals(500, gen);
  // Two layers: 2 -> hidden -> 2, tanh in between.
  Tensor w1 = init_uniform({hidden, 2}, 2, gen), b1 = init_uniform({hidden}, 2, gen);
  Tensor w2 = init_uniform({2, hidden}, hidden, gen), b2 = init_uniform({2}, hidden, gen);
  const TensorList params{w1, b1, w2, b2};

  // Adam, written out: the optimizers proper live in optim/.
  const double lr = 0.01, beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  TensorList m, v;
  for (const Tensor& p : params) {
    m.push_back(zeros_like(p));
    v.push_back(zeros_like(p));
  }

  auto forward = [&](const Tensor& x) { return linear(tanh(linear(x, w1, b1)), w2, b2); };
  auto accuracy = [&] {
    NoGradGuard no_grad;
    Tensor predicted = argmax(forward(data.points), 1);
    return mean(eq(predicted, data.labels).to(kFloat32)).item();
  };

  const auto start = std::chrono::steady_clock::now();
  for (long step = 1; step <= steps; ++step) {
    Tensor loss = cross_entropy(forward(data.points), data.labels);
    for (const Tensor& p : params) p.set_grad(Tensor());
    loss.backward();

    NoGradGuard no_grad;
    const double correction1 = 1.0 - std::pow(beta1, step), correction2 = 1.0 - std::pow(beta2, step);
    for (std::size_t i = 0; i < params.size(); ++i) {
      Tensor g = params[i].grad();
      m[i].mul_(beta1).add_(g * (1.0 - beta1));
      v[i].mul_(beta2).add_(g * g * (1.0 - beta2));
      Tensor p = params[i];
      p.sub_((m[i] / correction1) / (sqrt(v[i] / correction2) + eps) * lr);
    }
    if (step % 200 == 0 || step == 1)
      std::printf("step %5ld  loss %.4f  accuracy %.1f%%\n", step, loss.item(), 100.0 * accuracy());
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double final_accuracy = accuracy();
  std::printf("trained %ld steps in %.2f s: accuracy %.2f%% on %lld points\n", steps, seconds, 100.0 * final_accuracy,
              static_cast<long long>(data.labels.numel()));
  return final_accuracy >= 0.99 ? 0 : 1;
}
