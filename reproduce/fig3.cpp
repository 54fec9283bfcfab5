#include "reproduce/fig3.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <sstream>
#include <unordered_set>

#include "core/error.h"
#include "core/random.h"
#include "layers/models/registry.h"
#include "optim/adabayes_regimes.h"
#include "optim/rules.h"
#include "plot/svg_plot.h"
#include "train/trainer.h"

namespace fluxion::reproduce {

double fixed_point_variance(double mean_square, double sigma2, double eta) {
  return 1.0 / optim::rules::fixed_point_precision(mean_square, sigma2, eta);  // Eq. 21
}

double Fig3Point::adam_lr() const { return lr / std::sqrt(mean_square_gradient); }
double Fig3Point::fixed_point() const { return fixed_point_variance(mean_square_gradient, prior_variance, lr); }
bool Fig3Point::near_fixed_point(double tolerance) const {
  return std::abs(posterior_variance / fixed_point() - 1.0) <= tolerance;
}

namespace {

// Indices into `params` of the named ones (all when `only` is empty).
std::vector<std::size_t> chosen_parameters(const nn::NamedTensors& params, const std::vector<std::string>& only) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < params.size(); ++i)
    if (only.empty() || std::find(only.begin(), only.end(), params[i].first) != only.end()) out.push_back(i);
  for (const std::string& name : only) {
    const bool known = std::any_of(params.begin(), params.end(), [&](const auto& p) { return p.first == name; });
    if (known) continue;
    std::vector<std::string> names;
    for (const auto& p : params) names.push_back(p.first);
    throw InputError(
        detail::concat("--parameters: the model has no parameter '", name, "'; it has ", detail::join(names)));
  }
  return out;
}

}  // namespace

Fig3Sampler::Fig3Sampler(const nn::Module& model, std::int64_t count, std::uint64_t seed,
                         const std::vector<std::string>& only) {
  FLUXION_CHECK_INPUT(count >= 1, "--samples: expected at least 1 weight, got ", count);
  const nn::NamedTensors params = model.named_parameters();
  FLUXION_CHECK(!params.empty(), "Fig3Sampler: the model has no parameters");
  Generator rng(seed);
  auto below = [&rng](std::int64_t n) {
    return std::min(n - 1, static_cast<std::int64_t>(rng.uniform() * static_cast<double>(n)));
  };
  // An even share of what is left for each tensor, smallest first, so a
  // tensor with fewer weights than its share passes the rest on.
  std::vector<std::size_t> order = chosen_parameters(params, only);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return params[a].second.numel() < params[b].second.numel(); });
  std::int64_t left = count;
  for (std::size_t k = 0; k < order.size(); ++k) {
    const std::size_t p = order[k];
    const std::int64_t n = params[p].second.numel();
    const std::int64_t share = (left + static_cast<std::int64_t>(order.size() - k) - 1) /
                               static_cast<std::int64_t>(order.size() - k);
    const std::int64_t take = std::min(n, share);
    // Floyd's algorithm: `take` distinct indices of n in O(take).
    std::unordered_set<std::int64_t> picked;
    for (std::int64_t j = n - take; j < n; ++j) {
      const std::int64_t r = below(j + 1);
      picked.insert(picked.count(r) ? j : r);
    }
    std::vector<std::int64_t> sorted(picked.begin(), picked.end());
    std::sort(sorted.begin(), sorted.end());  // the set's order is not reproducible across libraries
    for (std::int64_t index : sorted) chosen_.push_back({p, index});
    left -= take;
  }
  for (std::size_t i = chosen_.size(); i > 1; --i)  // shuffled: any prefix spans the layers
    std::swap(chosen_[i - 1], chosen_[static_cast<std::size_t>(below(static_cast<std::int64_t>(i)))]);
  for (const auto& [name, tensor] : params) names_.push_back(name);
}

void Fig3Sampler::sample(const optim::AdaBayes& optimizer, double epoch, std::vector<Fig3Point>& out) const {
  std::vector<std::vector<double>> post(names_.size()), mean_square(names_.size());
  for (const Choice& c : chosen_) {
    if (!post[c.param].empty()) continue;
    const Tensor p = optimizer.posterior_variance(c.param);
    if (!p.defined()) return;  // before the first step
    post[c.param] = p.to_vector<double>();
    mean_square[c.param] = optimizer.mean_squared_gradient(c.param).to_vector<double>();
  }
  for (const Choice& c : chosen_) {
    const auto i = static_cast<std::size_t>(c.index);
    const std::size_t group = optimizer.group_of(c.param);  // each weight's own sigma^2 and eta
    out.push_back({epoch, names_[c.param], c.index, mean_square[c.param][i], post[c.param][i],
                   optimizer.prior_variance(group), optimizer.lr(group)});
  }
}

Fig3Summary summarize_fig3(const std::vector<Fig3Point>& points) {
  Fig3Summary s;
  std::size_t near = 0, near_last = 0, sgd_like = 0, adam_like = 0;
  for (const Fig3Point& p : points) {
    if (p.epoch == points.back().epoch) ++s.counted_last, near_last += p.near_fixed_point();
    if (p.epoch < 1.0) continue;
    ++s.counted;
    near += p.near_fixed_point();
    // The regimes as optim/adabayes_regimes.h defines them (the step log's too).
    const double x = p.adam_lr(), sigma2 = p.prior_variance;
    const optim::Regime regime = optim::regime_of(p.posterior_variance, sigma2, x);
    s.low_data += optim::low_data_limit(x, sigma2);
    s.high_data += optim::high_data_limit(x, sigma2);
    sgd_like += regime == optim::Regime::sgd_like;
    adam_like += regime == optim::Regime::adam_like;
  }
  auto share = [](std::size_t k, std::size_t n) { return n ? static_cast<double>(k) / static_cast<double>(n) : NAN; };
  s.share_near = share(near, s.counted);
  s.share_near_last = share(near_last, s.counted_last);
  s.share_sgd_like = share(sgd_like, s.low_data);
  s.share_adam_like = share(adam_like, s.high_data);
  return s;
}

std::vector<Fig3Point> run_fig3(const Fig3Options& options, const std::string& out_dir, std::ostream& log) {
  // Checked before training, which validates the rest and only then makes
  // out_dir: a refused run creates nothing.
  FLUXION_CHECK_INPUT(options.config.optimizer == "adabayes", "--optimizer: Fig. 3 follows the author's AdaBayes "
                      "filter (adabayes), got '", options.config.optimizer, "'");
  // The names are checked before training, on a model of the same layout.
  if (!options.parameters.empty()) Fig3Sampler(*nn::make_model(options.config.model, 10), 1, 0, options.parameters);
  train::TrainConfig config = options.config;
  config.out_dir = (std::filesystem::path(out_dir) / "run").string();
  std::vector<Fig3Point> points;
  std::unique_ptr<Fig3Sampler> sampler;  // made at the first step, from the model the trainer built
  train::TrainOptions train_options;
  train_options.log = &log;
  train_options.on_step = [&](const train::StepInfo& step) {
    if (!sampler) sampler = std::make_unique<Fig3Sampler>(step.model, options.samples, config.seed, options.parameters);
    const std::int64_t b = step.batch, n = step.batches_per_epoch;
    const bool at = b == n || (step.epoch == 1 && (b == std::max<std::int64_t>(1, n / 10) || b == n / 2));
    // A skipped batch (--skip-nonfinite) is sampled too: the filter state
    // is then the previous step's, still valid, and the end of the epoch
    // keeps its sample.
    if (!at) return;
    const auto* adabayes = dynamic_cast<const optim::AdaBayes*>(&step.optimizer);
    FLUXION_CHECK(adabayes, "run_fig3: the trainer did not build an AdaBayes optimizer");
    sampler->sample(*adabayes, static_cast<double>(step.epoch - 1) + static_cast<double>(b) / static_cast<double>(n),
                    points);
  };
  train::run_training(config, train_options);
  return points;
}

std::string fig3_csv(const std::vector<Fig3Point>& points) {
  std::ostringstream out;
  out << "epoch,parameter,index,mean_square_gradient,posterior_variance,prior_variance,lr,adam_lr,fixed_point\n";
  char line[512];
  for (const Fig3Point& p : points) {
    std::snprintf(line, sizeof line, "%.4f,%s,%lld,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g\n", p.epoch, p.parameter.c_str(),
                  static_cast<long long>(p.index), p.mean_square_gradient, p.posterior_variance, p.prior_variance,
                  p.lr, p.adam_lr(), p.fixed_point());
    out << line;
  }
  return out.str();
}

std::string fig3_svg(const std::vector<Fig3Point>& points, const std::string& subtitle, std::size_t max_per_time) {
  FLUXION_CHECK(!points.empty(), "fig3_svg: no points");
  // Three moments: the first sample, the end of the first epoch, the last.
  std::vector<double> times;
  for (const Fig3Point& p : points)
    if (times.empty() || times.back() != p.epoch) times.push_back(p.epoch);
  std::vector<double> shown = {times.front()};
  for (double t : {1.0, times.back()})
    if (std::find(times.begin(), times.end(), t) != times.end() && t != shown.back()) shown.push_back(t);

  plot::Panel panel{.title = subtitle,
                    .x = {.label = "Adam's learning rate, eta / sqrt(<g^2>)", .log = true},
                    .y = {.label = "AdaBayes's learning rate, sigma^2_post", .log = true},
                    .legend = plot::LegendLocation::upper_left};
  double lo = INFINITY, hi = 0, y_lo = INFINITY;
  for (std::size_t k = 0; k < shown.size(); ++k) {
    char label[64];
    std::snprintf(label, sizeof label, "weights at epoch %.1f", shown[k]);
    plot::Series s{.label = label, .style = plot::Series::points, .color = plot::color_cycle(k == 0 ? 7 : k == 1 ? 9 : 0)};
    for (const Fig3Point& p : points) {
      if (p.epoch != shown[k] || s.x.size() >= max_per_time) continue;
      const double x = p.adam_lr();
      if (!(std::isfinite(x) && x > 0)) continue;
      s.x.push_back(x);
      s.y.push_back(p.posterior_variance);
      lo = std::min(lo, x), hi = std::max(hi, x), y_lo = std::min(y_lo, p.posterior_variance);
    }
    panel.series.push_back(std::move(s));
  }
  FLUXION_CHECK(hi > 0, "fig3_svg: no point has a finite, positive eta / sqrt(<g^2>)");
  // The curves at the last moment's sigma^2 and eta, over the points' range.
  const double sigma2 = points.back().prior_variance, eta = points.back().lr;
  lo = std::min(lo, sigma2) / 3, hi = std::max(hi, sigma2) * 3;
  plot::Series fixed{.label = "fixed point (Eq. 21)", .color = "#2ca02c"};
  plot::Series sgd{.label = "low-data limit sigma^2 (Eq. 22)", .color = "#ff7f0e", .dashed = true};
  plot::Series adam{.label = "high-data limit eta / sqrt(<g^2>)", .color = "#1f77b4", .dashed = true};
  for (int i = 0; i <= 200; ++i) {
    const double x = lo * std::pow(hi / lo, i / 200.0);
    fixed.x.push_back(x), fixed.y.push_back(fixed_point_variance((eta / x) * (eta / x), sigma2, eta));
    sgd.x.push_back(x), sgd.y.push_back(sigma2);
    adam.x.push_back(x), adam.y.push_back(x);
  }
  plot::Series boundary{.label = "eta / sqrt(<g^2>) = sigma^2", .x = {sigma2, sigma2},
                        .y = {std::min(y_lo, sigma2) / 3, sigma2 * 3}, .color = "#9467bd",
                        .dashed = true};
  panel.series.push_back(std::move(fixed));
  panel.series.push_back(std::move(sgd));
  panel.series.push_back(std::move(adam));
  panel.series.push_back(std::move(boundary));
  return plot::render_svg({panel}, {.title = "Fig. 3: AdaBayes's learning rates on the fixed-point curve",
                                    .panel_width = 720, .panel_height = 520});
}

}  // namespace fluxion::reproduce
