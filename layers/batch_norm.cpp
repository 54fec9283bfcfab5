#include "layers/batch_norm.h"

#include <sstream>

#include "autograd/ops.h"
#include "layers/forward_trace.h"

namespace fluxion::nn {

BatchNorm::BatchNorm(BatchNormOptions opts, const char* name) : options(opts) {
  const std::int64_t c = options.num_features();
  FLUXION_CHECK(c >= 1, name, ": num_features must be >= 1, got ", c);
  FLUXION_CHECK(options.eps() > 0.0, name, ": eps must be > 0, got ", options.eps());
  FLUXION_CHECK(options.momentum() >= 0.0 && options.momentum() <= 1.0, name, ": momentum must be in [0, 1], got ",
                options.momentum());
  if (options.affine()) {
    weight = register_parameter("weight", ones({c}));
    bias = register_parameter("bias", zeros({c}));
  }
  if (options.track_running_stats()) {
    running_mean = register_buffer("running_mean", zeros({c}));
    running_var = register_buffer("running_var", ones({c}));
    num_batches_tracked = register_buffer("num_batches_tracked", zeros({}, kInt64));
  }
}

Tensor BatchNorm::forward(const Tensor& x) { return normalise(x, false); }

Tensor BatchNorm::forward_relu(const Tensor& x) {
  if (forward_trace_active()) return relu(normalise(x, false));
  return normalise(x, true);
}

Tensor BatchNorm::normalise(const Tensor& x, bool with_relu) {
  ForwardScope scope(*this, x);
  check_input(x);
  FLUXION_CHECK(x.size(1) == options.num_features(), type_name(), ": input shape ", to_string(x.shape()), " has ",
                x.size(1), " channels, expected num_features = ", options.num_features());
  const bool use_batch_stats = is_training() || !running_mean.defined();
  if (is_training() && num_batches_tracked.defined()) {
    NoGradGuard no_grad;
    num_batches_tracked.add_(1.0);
  }
  if (is_training() && options.sync_across_ranks() != nullptr) {
    const Tensor out = forward_synchronised(x);
    return scope.output(with_relu ? relu(out) : out);
  }
  // With batch statistics the op also moves the running ones (when tracked).
  const auto op = with_relu ? batch_norm_relu : batch_norm;
  return scope.output(op(x, weight, bias, running_mean, running_var, use_batch_stats, options.momentum(),
                         options.eps()));
}

Tensor BatchNorm::forward_synchronised(const Tensor& x) {
  // Statistics over every dimension but the channels, of every rank's share:
  // per-channel sums of x and x^2 and the count, summed over the ranks.
  std::vector<std::int64_t> dims{0};
  for (std::int64_t d = 2; d < x.dim(); ++d) dims.push_back(d);
  const std::int64_t c = options.num_features();
  Shape channel_shape(static_cast<std::size_t>(x.dim()), 1);
  channel_shape[1] = c;
  const double local_count = static_cast<double>(x.numel() / c);
  const Tensor count = full({1}, local_count, x.options().requires_grad(false));
  const Tensor sums = options.sync_across_ranks()(cat({x.sum(dims), (x * x).sum(dims), count}));
  const double n = sums.slice(0, 2 * c, 2 * c + 1).item();
  FLUXION_CHECK(n > 1, type_name(), ": synchronised batchnorm needs more than one value per channel over all ranks");
  const Tensor mean = sums.slice(0, 0, c) * (1.0 / n);
  // E[x^2] - E[x]^2, as PyTorch's SyncBatchNorm combines the ranks' moments.
  const Tensor var = sums.slice(0, c, 2 * c) * (1.0 / n) - mean * mean;
  Tensor out = (x - mean.reshape(channel_shape)) * pow(var + options.eps(), -0.5).reshape(channel_shape);
  if (weight.defined()) out = out * weight.reshape(channel_shape) + bias.reshape(channel_shape);
  if (running_mean.defined()) {
    NoGradGuard no_grad;
    const double m = options.momentum();
    running_mean.mul_(1.0 - m).add_(mean.detach() * m);
    running_var.mul_(1.0 - m).add_(var.detach() * (m * n / (n - 1)));  // unbiased, as PyTorch
  }
  return out;
}

std::string BatchNorm::extra_repr() const {
  std::ostringstream s;
  s << options.num_features() << ", eps=" << options.eps() << ", momentum=" << options.momentum()
    << ", affine=" << (options.affine() ? "True" : "False")
    << ", track_running_stats=" << (options.track_running_stats() ? "True" : "False");
  return s.str();
}

void BatchNorm1d::check_input(const Tensor& x) const {
  FLUXION_CHECK(x.dim() == 2 || x.dim() == 3, "BatchNorm1d: expected 2-D [N, C] or 3-D [N, C, L] input, got shape ",
                to_string(x.shape()));
}

void BatchNorm2d::check_input(const Tensor& x) const {
  FLUXION_CHECK(x.dim() == 4, "BatchNorm2d: expected 4-D [N, C, H, W] input, got shape ", to_string(x.shape()));
}

}  // namespace fluxion::nn
