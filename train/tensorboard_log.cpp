#include "train/tensorboard_log.h"

#include <cmath>
#include <string>
#include <vector>

#include "core/grad_mode.h"
#include "optim/adabayes.h"

namespace fluxion::train {
namespace fs = std::filesystem;
namespace tb = plot::tensorboard;

namespace {

tb::SummaryValue histogram_value(std::string tag, const std::vector<float>& values) {
  return {std::move(tag), {}, tb::make_histogram(values)};
}

// log10(sigma^2_post / (eta / sqrt(<g^2>))) per weight: at the filter's
// fixed point sigma^2_post lies below both the prior variance sigma^2
// (SGD's rate) and Adam's rate eta / sqrt(<g^2>) (Eq. 24), and reaches the
// latter once the gradients are large, so the ratio says which regime the
// weight is in (0: Adam-like; far below: SGD-like, where sigma^2_post ~
// sigma^2; above 0: not converged yet, early on) without depending on the
// lr's scale, which the two quantities alone would mix in. A weight
// whose <g^2> is 0 has an infinite Adam rate and -inf here: left out of
// the histogram, as every non-finite value.
std::vector<float> adabayes_log10_ratio(const optim::AdaBayes& adabayes, std::size_t param) {
  const Tensor posterior = adabayes.posterior_variance(param);
  if (!posterior.defined()) return {};  // not stepped yet
  const std::vector<double> s2 = posterior.to_vector<double>();
  const std::vector<double> g2 = adabayes.mean_squared_gradient(param).to_vector<double>();
  const double eta = adabayes.lr(adabayes.group_of(param));
  std::vector<float> out(s2.size());
  for (std::size_t k = 0; k < s2.size(); ++k) out[k] = static_cast<float>(std::log10(s2[k] * std::sqrt(g2[k]) / eta));
  return out;
}

}  // namespace

TensorBoardLog::TensorBoardLog(const fs::path& dir, std::int64_t epochs_done) : writer_(dir) {
  if (epochs_done == 0) return;
  tb::Event start;
  start.wall_time = tb::wall_time_now();
  start.step = epochs_done + 1;
  start.session_start = true;
  writer_.write(start);
  writer_.flush();
}

void TensorBoardLog::write_epoch(const EpochMetrics& m, const OptionalColumns& columns, const nn::Module& model,
                                 const optim::Optimizer& optimizer) {
  NoGradGuard no_grad;
  tb::Event scalars;
  scalars.wall_time = tb::wall_time_now();
  scalars.step = m.epoch;
  for (const MetricColumn& column : epoch_metric_columns(columns))
    if (std::string(column.key) != "epoch")
      scalars.summary.push_back({column.key, static_cast<float>(column.value(m)), {}});
  writer_.write(scalars);
  // One event per parameter: a reader holds one event in memory at a time.
  const auto* adabayes = dynamic_cast<const optim::AdaBayes*>(&optimizer);
  const std::vector<Tensor> stepped = optimizer.params();
  const nn::NamedTensors params = model.named_parameters();
  for (std::size_t i = 0; i < params.size(); ++i) {
    const auto& [name, p] = params[i];
    // The optimizer's parameter i is the model's (the trainer builds it
    // from model.parameters(), in this order); checked, not assumed.
    const bool same_param = i < stepped.size() && stepped[i].impl() == p.impl();
    tb::Event e;
    e.wall_time = scalars.wall_time;
    e.step = m.epoch;
    e.summary.push_back(histogram_value("weights/" + name, p.to_vector<float>()));
    if (p.grad().defined()) e.summary.push_back(histogram_value("gradients/" + name, p.grad().to_vector<float>()));
    if (adabayes && same_param) {
      const std::vector<float> ratio = adabayes_log10_ratio(*adabayes, i);
      if (!ratio.empty()) e.summary.push_back(histogram_value("adabayes_log10_ratio/" + name, ratio));
    }
    writer_.write(e);
  }
  writer_.flush();
}

void remove_event_files(const fs::path& dir) {
  std::error_code error;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir, error))
    if (tb::is_event_file_name(entry.path().filename().string())) fs::remove(entry.path(), error);
}

}  // namespace fluxion::train
