#include "train/lr_find.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cmath>
#include <iostream>
#include <limits>

#include "autograd/ops.h"
#include "core/parallel.h"
#include "core/random.h"
#include "data/loader.h"
#include "optim/make_optimizer.h"
#include "train/run_data.h"
#include "train/trainer.h"

namespace fluxion::train {
namespace {

using Clock = std::chrono::steady_clock;

bool has_sgd_lr(const std::string& optimizer) { return optim::has_option(optimizer, "sgd_lr"); }

// numpy.gradient(y, x) with edge_order 1: second-order central differences
// inside (for any spacing), one-sided ones at the two ends. Needs 2 points.
std::vector<double> gradient(const std::vector<double>& y, const std::vector<double>& x) {
  const std::size_t n = y.size();
  std::vector<double> g(n);
  g[0] = (y[1] - y[0]) / (x[1] - x[0]);
  g[n - 1] = (y[n - 1] - y[n - 2]) / (x[n - 1] - x[n - 2]);
  for (std::size_t i = 1; i + 1 < n; ++i) {
    const double h0 = x[i] - x[i - 1], h1 = x[i + 1] - x[i];
    g[i] = (h0 * h0 * y[i + 1] - h1 * h1 * y[i - 1] + (h1 * h1 - h0 * h0) * y[i]) / (h0 * h1 * (h0 + h1));
  }
  return g;
}

// The training split behind a loader, exactly as run_training's (its first
// `subset` images, shuffled and augmented with config.seed), on one process.
std::unique_ptr<data::DataLoader> training_loader(const TrainConfig& config, RunData& data) {
  FLUXION_CHECK_INPUT(config.subset <= data.train->size(), "--subset ", config.subset, " exceeds the ",
                      data.train->size(), " training images of ", config.dataset);
  if (config.subset > 0) data.train->keep_first(config.subset);
  const bool augment = config.augment == -1 ? data.info.augment_by_default : config.augment == 1;
  const auto options = data::LoaderOptions()
                           .batch_size(config.batch_size)
                           .mean(data.info.mean)
                           .std(data.info.std)
                           .seed(config.seed)
                           .workers(config.workers)
                           .shuffle(true)
                           .augment(augment);
  auto loader = std::make_unique<data::DataLoader>(data.train, options);
  FLUXION_CHECK_INPUT(loader->batches_per_epoch() > 0, "--dataset ", config.dataset, ": no training images");
  return loader;
}

// Batch after batch, into the next epoch (reshuffled as training would)
// when one ends.
class EndlessBatches {
 public:
  explicit EndlessBatches(data::DataLoader& loader) : loader_(loader) { loader_.start_epoch(0); }
  data::Batch next() {
    std::optional<data::Batch> batch = loader_.next();
    if (!batch) {
      loader_.start_epoch(++epoch_);
      batch = loader_.next();
    }
    return std::move(*batch);
  }

 private:
  data::DataLoader& loader_;
  std::int64_t epoch_ = 0;
};

// The swept option set to `value` for the coming step; the optimizer then
// steps as one made with it, the other options held (see set_initial_lr).
void set_swept(optim::Optimizer& optimizer, const std::string& param, double value) {
  if (param == "lr") {
    optimizer.set_lr(value);
    optimizer.set_initial_lr(value);
  } else {
    optimizer.set_option(param, value);
  }
}

// The batch's mean cross-entropy before the step; the step only when it is finite.
double train_step(nn::Module& model, optim::Optimizer& optimizer, const data::Batch& batch, const Device& device) {
  optimizer.zero_grad();
  const Tensor loss = cross_entropy(model.forward(batch.images.to(device)), batch.labels.to(device));
  const double value = loss.item();
  if (!std::isfinite(value)) return value;
  loss.backward();
  optimizer.step();
  return value;
}

void log_point(std::ostream& log, const LrFindPoint& p, std::int64_t steps, const std::string& param) {
  char line[160];
  std::snprintf(line, sizeof line, "step %lld/%lld  %s %.3g  loss %.4g  smoothed %.4g\n",
                static_cast<long long>(p.step + 1), static_cast<long long>(steps), param.c_str(), p.lr, p.loss,
                p.smoothed_loss);
  log << line << std::flush;
}

}  // namespace

std::vector<double> lr_sequence(double start, double end, std::int64_t steps) {
  FLUXION_CHECK(steps >= 2 && start > 0 && end > start, "lr_sequence: needs 0 < start < end and steps >= 2");
  std::vector<double> lrs(static_cast<std::size_t>(steps));
  const double ratio = end / start;
  for (std::int64_t i = 0; i < steps; ++i)
    lrs[static_cast<std::size_t>(i)] = start * std::pow(ratio, static_cast<double>(i) / static_cast<double>(steps - 1));
  return lrs;
}

double LossSmoother::add(double loss) {
  average_ = beta_ * average_ + (1.0 - beta_) * loss;
  correction_ *= beta_;
  return average_ / (1.0 - correction_);
}

bool DivergenceCheck::diverged(double smoothed_loss) {
  best_ = std::min(best_, smoothed_loss);
  return smoothed_loss > factor_ * best_;
}

void suggest(LrFindResult& result, std::int64_t skip_start) {
  result.steepest.reset();
  result.minimum.reset();
  // The points considered: result.points[first + k] is the k-th.
  const auto first = static_cast<std::size_t>(std::max<std::int64_t>(skip_start, 0));
  std::vector<double> log_lr, smoothed;
  for (std::size_t i = first; i < result.points.size(); ++i) {
    const LrFindPoint& p = result.points[i];
    if (!std::isfinite(p.smoothed_loss)) break;
    log_lr.push_back(std::log10(p.lr));
    smoothed.push_back(p.smoothed_loss);
  }
  if (smoothed.empty()) return;
  const auto lowest = static_cast<std::size_t>(std::min_element(smoothed.begin(), smoothed.end()) - smoothed.begin());
  const LrFindPoint& at_lowest = result.points[first + lowest];
  result.minimum = LrSuggestion{at_lowest.lr / 10.0, at_lowest.step, 0.0};
  if (lowest == 0) return;  // the loss never fell below its first value
  log_lr.resize(lowest + 1);
  smoothed.resize(lowest + 1);
  const std::vector<double> slopes = gradient(smoothed, log_lr);
  const auto steepest = static_cast<std::size_t>(std::min_element(slopes.begin(), slopes.end()) - slopes.begin());
  const LrFindPoint& at_steepest = result.points[first + steepest];
  if (slopes[steepest] < 0) result.steepest = LrSuggestion{at_steepest.lr, at_steepest.step, slopes[steepest]};
}

void validate(const LrFindOptions& o, const TrainConfig& config) {
  FLUXION_CHECK_INPUT(std::isfinite(o.start_lr) && o.start_lr > 0, "--start-lr: expected a number > 0, got ",
                      o.start_lr);
  FLUXION_CHECK_INPUT(std::isfinite(o.end_lr) && o.end_lr > 0, "--end-lr: expected a number > 0, got ", o.end_lr);
  FLUXION_CHECK_INPUT(o.start_lr < o.end_lr, "--start-lr ", o.start_lr, " must be below --end-lr ", o.end_lr,
                      ": the sweep grows the lr from one to the other");
  FLUXION_CHECK_INPUT(o.steps >= 2, "--steps: expected a whole number >= 2, got ", o.steps);
  FLUXION_CHECK_INPUT(o.smooth >= 0 && o.smooth < 1, "--smooth: expected a number >= 0 and < 1, got ", o.smooth);
  FLUXION_CHECK_INPUT(std::isfinite(o.diverge) && o.diverge > 1, "--diverge: expected a number > 1, got ",
                      o.diverge);
  FLUXION_CHECK_INPUT(o.param == "lr" || o.param == "sgd_lr", "--param: expected lr or sgd_lr, got ", o.param);
  FLUXION_CHECK_INPUT(o.param == "lr" || has_sgd_lr(config.optimizer), "--param sgd_lr: --optimizer ",
                      config.optimizer, " has no sgd_lr (only the AdaBayes family does); sweep its lr with --param lr");
  FLUXION_CHECK_INPUT(!config.distributed, "--distributed: lr-find runs on one process");
}

LrFindResult lr_find(const TrainConfig& config, const LrFindOptions& options, const LrFindHooks& hooks) {
  validate(config);
  validate(options, config);
  std::ostream& log = options.log ? *options.log : std::cout;
  if (config.threads > 0) set_num_threads(config.threads);
  RunData data = read_run_data(config, log);
  std::unique_ptr<data::DataLoader> loader = training_loader(config, data);
  // As run_training's build_model: seeded after the data is read, built on
  // the CPU, then moved.
  manual_seed(config.seed);
  nn::ModulePtr model = make_model_for(config.model, data.info);
  const Device device = parse_device(config.device, "--device");
  model->to(device);
  const std::vector<double> values = lr_sequence(options.start_lr, options.end_lr, options.steps);
  LrFindResult result;
  result.held = resolved_optimizer_options(config);
  result.held[options.param] = values.front();
  std::unique_ptr<optim::Optimizer> optimizer = optim::make_optimizer(config.optimizer, model->parameters(), result.held);
  if (hooks.on_start) hooks.on_start(*model);
  LossSmoother smoother(options.smooth);
  EndlessBatches batches(*loader);
  DivergenceCheck divergence(options.diverge);
  const auto t0 = Clock::now();
  for (std::int64_t i = 0; i < options.steps; ++i) {
    LrFindPoint p;
    p.step = i;
    p.lr = values[static_cast<std::size_t>(i)];
    set_swept(*optimizer, options.param, p.lr);
    p.loss = train_step(*model, *optimizer, batches.next(), device);
    p.smoothed_loss = std::isfinite(p.loss) ? smoother.add(p.loss) : std::numeric_limits<double>::quiet_NaN();
    result.points.push_back(p);
    if (hooks.on_step) hooks.on_step(p, *optimizer);
    if ((i + 1) % 10 == 0 || i == 0) log_point(log, p, options.steps, options.param);
    if (!std::isfinite(p.loss)) {
      result.stopped = "nan";
      break;
    }
    if (divergence.diverged(p.smoothed_loss)) {
      result.stopped = "diverged";
      break;
    }
  }
  result.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  suggest(result, options.steps / 10);
  return result;
}

}  // namespace fluxion::train
