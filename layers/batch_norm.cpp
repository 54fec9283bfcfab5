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

Tensor BatchNorm::forward(const Tensor& x) {
  ForwardScope scope(*this, x);
  check_input(x);
  FLUXION_CHECK(x.size(1) == options.num_features(), type_name(), ": input shape ", to_string(x.shape()), " has ",
                x.size(1), " channels, expected num_features = ", options.num_features());
  const bool use_batch_stats = is_training() || !running_mean.defined();
  if (is_training() && num_batches_tracked.defined()) {
    NoGradGuard no_grad;
    num_batches_tracked.add_(1.0);
  }
  // With batch statistics the op also moves the running ones (when tracked).
  return scope.output(
      batch_norm(x, weight, bias, running_mean, running_var, use_batch_stats, options.momentum(), options.eps()));
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
