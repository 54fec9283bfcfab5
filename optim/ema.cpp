#include "optim/ema.h"

#include <algorithm>
#include <cmath>

#include "autograd/ops.h"
#include "core/grad_mode.h"

namespace fluxion::optim {
namespace {

void check_same(const std::vector<Tensor>& averaged, const std::vector<Tensor>& model, const char* what) {
  FLUXION_CHECK(averaged.size() == model.size(), "WeightEma: ", model.size(), " ", what, " given, ",
                averaged.size(), " averaged");
  for (std::size_t i = 0; i < model.size(); ++i)
    FLUXION_CHECK(averaged[i].shape() == model[i].shape(), "WeightEma: ", what, " ", i, " has shape ",
                  to_string(model[i].shape()), ", its average ", to_string(averaged[i].shape()));
}

}  // namespace

double ema_decay(const EmaOptions& o, std::int64_t update) {
  // timm: step = max(0, step - update_after_step - 1); 0 -> decay 0.
  const std::int64_t step = std::max<std::int64_t>(0, update - 1);
  if (step <= 0) return 0.0;
  if (!o.warmup) return o.decay;
  const double decay = 1.0 - std::pow(1.0 + static_cast<double>(step) / o.warmup_gamma, -o.warmup_power);
  return std::max(std::min(decay, o.decay), o.min_decay);
}

void lerp_(Tensor& average, const Tensor& value, double weight) {
  NoGradGuard no_grad;
  // PyTorch's two branches (ATen's lerp), so that weight 1 copies exactly
  // and small weights lose no precision.
  if (std::fabs(weight) < 0.5) average.add_((value - average) * weight);
  else average.copy_(value - (value - average) * (1.0 - weight));
}

WeightEma::WeightEma(std::vector<Tensor> parameters, std::vector<Tensor> buffers, EmaOptions options)
    : parameters_(std::move(parameters)), buffers_(std::move(buffers)), options_(options) {
  FLUXION_CHECK_INPUT(options_.decay > 0.0 && options_.decay < 1.0, "--ema: expected a decay in (0, 1), got ",
                      options_.decay);
}

void WeightEma::update(const std::vector<Tensor>& parameters, const std::vector<Tensor>& buffers) {
  check_same(parameters_, parameters, "parameters");
  check_same(buffers_, buffers, "buffers");
  NoGradGuard no_grad;
  ++updates_;
  const double weight = 1.0 - ema_decay(options_, updates_);
  for (std::size_t i = 0; i < parameters.size(); ++i) lerp_(parameters_[i], parameters[i], weight);
  for (std::size_t i = 0; i < buffers.size(); ++i) buffers_[i].copy_(buffers[i]);
}

void WeightEma::set_updates(std::int64_t updates) {
  FLUXION_CHECK(updates >= 0, "WeightEma: updates must be >= 0, got ", updates);
  updates_ = updates;
}

}  // namespace fluxion::optim
