// `fluxion bench --model NAME`: the full training step of a model, as a
// trainer runs it: zero_grad, forward, cross-entropy, backward and an SGD step
// (momentum 0.9, weight decay 5e-4), on random CIFAR-shaped input, after
// warm-up steps. Each step is timed on its own; the figure is the batch size
// over the median step time. With --eval, the forward pass alone in eval mode
// under NoGradGuard (the evaluation throughput). With --profile, the timed
// steps also record where their time goes (core/profiler.h) and a table of
// the ops, engine, optimizer and allocation follows, per step. The last
// warm-up step counts the multiply-adds the GEMM kernels do (a "work as run"
// line): over the machine's sgemm rate, the time the step's arithmetic alone
// would take, the bound scripts/compare_torch.sh sets beside it.
//
// scripts/bench_torch.py runs the same step in PyTorch, with the same model
// definition (scripts/torch_models.py) and thread count, and prints its last
// line the same way: "<model> batch <B> threads <T>: <X> img/s".
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "apps/commands.h"
#include "apps/flag_checks.h"
#include "core/cuda.h"
#include "core/memory_stats.h"
#include "core/profiler.h"
#include "fluxion.h"

namespace fluxion::apps {
namespace {

struct BenchModelOptions {
  std::string model;  // empty: no model benchmark (a subcommand runs instead)
  std::int64_t batch_size = 128;
  int threads = 1;  // set to get_num_threads() when the option is registered
  int steps = 10;
  int warmup = 2;
  std::string device = "cpu";
  std::int64_t classes = 10;
  bool eval = false;
  bool profile = false;
};

double peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // Linux reports KiB
}

// The middle sample, or the mean of the two middle ones (Python's
// statistics.median, which scripts/bench_torch.py uses).
double median(std::vector<double> samples) {
  std::sort(samples.begin(), samples.end());
  const std::size_t n = samples.size();
  return n % 2 == 1 ? samples[n / 2] : 0.5 * (samples[n / 2 - 1] + samples[n / 2]);
}

// The profile of the timed steps, per step: each scope's exclusive time,
// its calls and its share of the mean step; what no scope covered is
// "outside any scope" (the clock reads and the loop itself).
void print_profile(const std::vector<double>& samples, int steps) {
  double total = 0.0;
  for (double s : samples) total += s;
  const double per_step = total / steps;
  std::printf("\nprofile: exclusive wall time per step (mean of %d steps, %.1f ms)\n", steps, per_step * 1e3);
  std::printf("%-34s %10s %9s %7s %9s\n", "scope", "ms/step", "calls", "share", "GFLOP/s");
  double covered = 0.0;
  for (const profiler::Entry& e : profiler::entries()) {
    covered += e.seconds;
    std::printf("%-34s %10.2f %9.1f %6.1f%%", e.name.c_str(), e.seconds / steps * 1e3,
                static_cast<double>(e.calls) / steps, 100.0 * e.seconds / total);
    if (e.multiply_adds > 0) std::printf(" %9.1f", 2.0 * e.multiply_adds / e.seconds / 1e9);
    std::printf("\n");
  }
  std::printf("%-34s %10.2f %9s %6.1f%%\n\n", "outside any scope", (total - covered) / steps * 1e3, "",
              100.0 * (total - covered) / total);
}

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// The model and the one batch every step runs on: random input, CIFAR-shaped
// except for the (Fashion-)MNIST CNN.
struct BenchSetup {
  Device device;
  nn::ModulePtr model;
  Tensor input;   // [B, C, H, W]
  Tensor target;  // [B] int64 labels
};

BenchSetup make_setup(const BenchModelOptions& o) {
  nn::ModelOptions model_options;
  model_options.num_classes = o.classes;
  if (o.model == "small_cnn") {
    model_options.in_channels = 1;
    model_options.image_size = 28;
  }
  const std::int64_t side = model_options.image_size;
  BenchSetup s;
  s.device = parse_device(o.device, "--device");
  s.model = nn::make_model(o.model, model_options);
  s.model->to(s.device);
  s.input = randn({o.batch_size, model_options.in_channels, side, side}, s.device);
  s.target = randint(0, o.classes, {o.batch_size}, TensorOptions(kInt64).device(s.device));
  return s;
}

void print_header(const BenchModelOptions& o, const BenchSetup& s, int threads) {
  std::printf("fluxion bench: %s (%lld parameters), %s, batch %lld of %lldx%lldx%lld, %d threads, %s; "
              "fluxion %s, blas %s\n",
              o.model.c_str(), static_cast<long long>(s.model->num_parameters()),
              o.eval ? "eval forward (no grad)" : "train step (SGD lr 0.1, momentum 0.9, weight decay 5e-4)",
              static_cast<long long>(o.batch_size), static_cast<long long>(s.input.size(1)),
              static_cast<long long>(s.input.size(2)), static_cast<long long>(s.input.size(3)), threads,
              o.device.c_str(), version(), blas_backend());
}

// GPU work is queued asynchronously: a step ends when the device is done.
void finish(Device device) {
  if (device.is_cuda()) cuda::synchronize(device.index);
}

// The forward pass alone, in eval mode without a graph. Returns its seconds;
// `loss` gets its loss, computed after the clock stops.
double eval_step(BenchSetup& s, double& loss) {
  const auto t0 = Clock::now();
  NoGradGuard no_grad;
  Tensor logits;
  {
    profiler::Scope scope("forward (other ops)");
    logits = s.model->forward(s.input);
  }
  finish(s.device);
  const double seconds = seconds_since(t0);
  loss = cross_entropy(logits, s.target).item();
  return seconds;
}

// The training step, each part in its own profiler scope. Returns its
// seconds; `loss` gets its loss, read after the clock stops.
double train_step(BenchSetup& s, optim::Optimizer& optimizer, double& loss) {
  const auto t0 = Clock::now();
  {
    profiler::Scope scope("zero_grad");
    optimizer.zero_grad();
  }
  Tensor logits, loss_tensor;
  {
    profiler::Scope scope("forward (other ops)");
    logits = s.model->forward(s.input);
  }
  {
    profiler::Scope scope("cross_entropy forward");
    loss_tensor = cross_entropy(logits, s.target);
  }
  {
    profiler::Scope scope("backward (engine, other ops)");
    loss_tensor.backward();
  }
  {
    profiler::Scope scope("optimizer step");
    optimizer.step();
  }
  finish(s.device);
  const double seconds = seconds_since(t0);
  loss = loss_tensor.item();
  return seconds;
}

struct Timings {
  std::vector<double> seconds;  // of each timed step
  bool finite = true;           // every timed step's loss
  double multiply_adds = 0.0;   // of one step, as its GEMM kernels ran them
};

// The warm-up steps, then the timed ones, from a fresh peak of tensor
// memory and, with --profile, under the profiler.
Timings time_steps(const BenchModelOptions& o, BenchSetup& s, optim::Optimizer& optimizer) {
  double loss = 0.0;
  auto step = [&] { return o.eval ? eval_step(s, loss) : train_step(s, optimizer, loss); };
  // The last untimed step also counts the work its kernels do (the profiler
  // records it, untimed); with no warm-up, one more step after the timed ones.
  Timings t;
  auto count_work = [&] {
    profiler::start();
    const double seconds = step();
    profiler::stop();
    t.multiply_adds = profiler::multiply_adds();
    return seconds;
  };
  for (int i = 0; i < o.warmup; ++i) {
    const double seconds = i + 1 == o.warmup ? count_work() : step();
    std::printf("warm-up %2d  %9.1f ms  loss %.4f\n", i + 1, seconds * 1e3, loss);
  }
  reset_peak_memory_stats(s.device);
  if (o.profile) profiler::start();
  for (int i = 0; i < o.steps; ++i) {
    t.seconds.push_back(step());
    t.finite = t.finite && std::isfinite(loss);
    std::printf("step    %2d  %9.1f ms  loss %.4f\n", i + 1, t.seconds.back() * 1e3, loss);
  }
  if (o.profile) {
    profiler::stop();
    print_profile(t.seconds, o.steps);
  }
  if (o.warmup == 0) count_work();
  return t;
}

// The median step, memory, and the figure scripts/bench_torch.py prints alike.
void print_summary(const BenchModelOptions& o, const BenchSetup& s, const Timings& t, int threads,
                   double rss_at_start) {
  const double mid = median(t.seconds);
  const auto [lo, hi] = std::minmax_element(t.seconds.begin(), t.seconds.end());
  std::printf("median step %.1f ms (min %.1f, max %.1f) over %d steps after %d warm-up\n", mid * 1e3, *lo * 1e3,
              *hi * 1e3, o.steps, o.warmup);
  if (!t.finite) std::printf("warning: the loss was not finite\n");
  const CachingAllocator::Stats memory = memory_stats(s.device);
  std::printf("peak tensor memory on %s %.1f MiB%s (%.1f MiB cached for reuse at the end)\n", o.device.c_str(),
              static_cast<double>(memory.peak_in_use_bytes) / (1 << 20),
              s.device.is_cpu() ? " in blocks of 1 MiB and more" : "",
              static_cast<double>(memory.cached_bytes) / (1 << 20));
  std::printf("peak RSS %.1f MiB (at start: %.1f MiB)\n", peak_rss_mib(), rss_at_start);
  if (t.multiply_adds > 0)  // the CPU kernels count; the CUDA backend's do not
    std::printf("work as run: %.6g GFLOP per image per step (convolutions and matmuls, 2 per multiply-add, "
                "Winograd's reduced count where it runs)\n",
                2.0 * t.multiply_adds / static_cast<double>(o.batch_size) / 1e9);
  std::printf("%s batch %lld threads %d: %.1f img/s\n", o.model.c_str(), static_cast<long long>(o.batch_size), threads,
              static_cast<double>(o.batch_size) / mid);
}

void run_bench_model(const BenchModelOptions& o) {
  const double rss_at_start = peak_rss_mib();
  set_num_threads(o.threads);
  const int threads = get_num_threads();
  manual_seed(0);
  BenchSetup s = make_setup(o);
  optim::SGD optimizer(s.model->parameters(), optim::SGDOptions(0.1).momentum(0.9).weight_decay(5e-4));
  s.model->train(!o.eval);
  print_header(o, s, threads);
  const Timings timings = time_steps(o, s, optimizer);
  print_summary(o, s, timings, threads, rss_at_start);
}

// --device: cpu, cuda or cuda:N, and a GPU that exists.
CLI::Validator device_validator() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        try {
          const std::string unavailable = cuda::unavailable_reason(parse_device(text, "--device"));
          return unavailable.empty() ? "" : "device '" + text + "' is not available: " + unavailable;
        } catch (const InputError& e) {
          return e.what();
        }
      },
      "cpu|cuda|cuda:N");
}

}  // namespace

void add_bench_model_options(CLI::App* bench) {
  auto options = std::make_shared<BenchModelOptions>();
  options->threads = get_num_threads();
  CLI::Option* model = bench->add_option("--model", options->model, "Time this model's training step (no subcommand)");
  model->check(CLI::IsMember(nn::model_names()));
  const std::vector<CLI::Option*> model_options{
      bench->add_option("--batch-size", options->batch_size, "Images per step")
          ->check(whole_number_in(1, std::int64_t{1} << 20)),
      bench->add_option("--threads", options->threads, "Threads for BLAS and Fluxion")->check(whole_number_in(1, 4096)),
      bench->add_option("--steps", options->steps, "Timed steps")->check(whole_number_in(1, 1000000)),
      bench->add_option("--warmup", options->warmup, "Untimed steps before them")->check(whole_number_in(0, 1000000)),
      bench->add_option("--device", options->device, "Where to run")->check(device_validator()),
      bench->add_option("--classes", options->classes, "Classes the model predicts")
          ->check(whole_number_in(1, std::int64_t{1} << 20)),
      bench->add_flag("--eval", options->eval, "Time the forward pass alone, in eval mode without gradients"),
      bench->add_flag("--profile", options->profile, "Print where the timed steps' time goes (ops, engine, optimizer)"),
  };
  for (CLI::Option* option : model_options) {
    option->needs(model);
    option->capture_default_str();
  }
  // `bench ops` and `bench optim` take none of these.
  for (CLI::App* sub : bench->get_subcommands([](CLI::App*) { return true; })) {
    sub->excludes(model);
    for (CLI::Option* option : model_options) sub->excludes(option);
  }
  bench->callback([bench, options] {
    if (!options->model.empty()) {
      run_bench_model(*options);
    } else if (bench->get_subcommands().empty()) {
      throw CLI::ValidationError("bench", "give --model NAME to time a model's training step, or a subcommand "
                                          "(ops, optim); see fluxion bench --help");
    }
  });
}

}  // namespace fluxion::apps
