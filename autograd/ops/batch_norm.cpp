// Batch normalisation with PyTorch's semantics. Training mode normalises with
// the batch's statistics (a backend kernel, core/cpu/batch_norm.cpp, which
// also moves the running statistics); evaluation mode is an affine map with
// the running statistics, written with ops so its gradient comes for free,
// or, when no gradient is wanted, one backend kernel (channel_affine) that
// rounds as those ops do.
// batch_norm_relu is relu(batch_norm(...)) with the ReLU inside the training
// kernels, which saves a pass over the activation each way; in evaluation it
// is the ops when recording (so the ONNX export sees the pattern it folds),
// else channel_affine with its ReLU.
#include "autograd/ops/common.h"

namespace fluxion {
using namespace ops_detail;

namespace {

void check_channel_vector(const Tensor& x, const Tensor& t, const char* what) {
  if (!t.defined()) return;
  check_compatible(x, t, "batch_norm");
  FLUXION_CHECK(t.dim() == 1 && t.size(0) == x.size(1), "batch_norm: ", what, " shape ", to_string(t.shape()),
                " does not match the input's ", x.size(1), " channels (input shape ", to_string(x.shape()), ")");
}

// A per-channel vector [C] shaped to broadcast against x [N, C, ...].
Tensor per_channel(const Tensor& t, const Tensor& x) {
  Shape shape(static_cast<std::size_t>(x.dim()), 1);
  shape[1] = t.size(0);
  return t.reshape(shape);
}

void check_arguments(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& running_mean,
                     const Tensor& running_var, double momentum, double eps) {
  check_floating(x, "batch_norm");
  FLUXION_CHECK(x.dim() >= 2, "batch_norm: input must be [N, C] or [N, C, ...], got shape ", to_string(x.shape()));
  check_channel_vector(x, weight, "weight");
  check_channel_vector(x, bias, "bias");
  check_channel_vector(x, running_mean, "running_mean");
  check_channel_vector(x, running_var, "running_var");
  FLUXION_CHECK(running_mean.defined() == running_var.defined(),
                "batch_norm: running_mean and running_var must both be given or both be absent");
  FLUXION_CHECK(eps > 0.0, "batch_norm: eps must be > 0, got ", eps);
  FLUXION_CHECK(momentum >= 0.0 && momentum <= 1.0, "batch_norm: momentum must be in [0, 1], got ", momentum);
  FLUXION_CHECK(!(running_mean.defined() && running_mean.requires_grad()) &&
                    !(running_var.defined() && running_var.requires_grad()),
                "batch_norm: running statistics are buffers and must not require grad");
}

// Evaluation mode: y = x * scale + shift with per-channel scale = weight /
// sqrt(var + eps) and shift = bias - mean * scale, from the running
// statistics. The work on x is two ops (three with the ReLU) when recording,
// else one pass of channel_affine, which rounds as they do.
Tensor normalise_with_running_stats(const Tensor& x, const Tensor& weight, const Tensor& bias,
                                    const Tensor& running_mean, const Tensor& running_var, double eps,
                                    bool with_relu) {
  FLUXION_CHECK(running_mean.defined(), "batch_norm: evaluation mode needs running statistics "
                                        "(track_running_stats = true)");
  profiler::Scope scope("batch_norm forward (eval)");
  Tensor scale = (running_var + eps).pow(-0.5);
  if (weight.defined()) scale = scale * weight;
  Tensor shift = -running_mean * scale;
  if (bias.defined()) shift = shift + bias;
  if (should_record({x, weight, bias})) {
    const Tensor out = x * per_channel(scale, x) + per_channel(shift, x);
    return with_relu ? relu(out) : out;
  }
  Tensor out = empty(x.shape(), x.options());
  backend(x.device()).channel_affine(x.contiguous(), scale.contiguous(), shift.contiguous(), with_relu, out);
  return out;
}

Tensor normalise(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& running_mean,
                 const Tensor& running_var, bool training, double momentum, double eps, bool with_relu) {
  check_arguments(x, weight, bias, running_mean, running_var, momentum, eps);
  if (!training) return normalise_with_running_stats(x, weight, bias, running_mean, running_var, eps, with_relu);

  const std::int64_t per_channel_count = x.numel() / std::max<std::int64_t>(x.size(1), 1);
  FLUXION_CHECK(per_channel_count > 1, "batch_norm: expected more than 1 value per channel when training, got input "
                                       "shape ", to_string(x.shape()));
  FLUXION_CHECK(!running_mean.defined() || (running_mean.is_contiguous() && running_var.is_contiguous()),
                "batch_norm: running statistics must be contiguous");
  const Tensor xc = x.detach().contiguous();
  const Tensor wc = weight.defined() ? weight.detach().contiguous() : Tensor();
  const Tensor bc = bias.defined() ? bias.detach().contiguous() : Tensor();
  Tensor out = empty(x.shape(), x.options());
  Tensor mean = empty({x.size(1)}, x.options()), invstd = empty({x.size(1)}, x.options());
  profiler::Scope scope(with_relu ? "batch_norm_relu forward" : "batch_norm forward");
  backend(x.device()).batch_norm(xc, wc, bc, running_mean, running_var, momentum, eps, with_relu, out, mean, invstd);
  if (running_mean.defined()) {
    running_mean.storage()->bump_version();
    running_var.storage()->bump_version();
  }

  BackwardFn backward = [sx = save(xc), sw = save(wc), sy = save(with_relu ? out.detach() : Tensor()), mean, invstd, eps,
                         need_x = x.requires_grad(), need_w = weight.defined() && weight.requires_grad(),
                         need_b = bias.defined() && bias.requires_grad()](const Tensor& g) -> TensorList {
    const Tensor &x = sx.get(), &w = sw.get();
    Tensor gx = need_x ? empty(x.shape(), x.options()) : Tensor();
    Tensor gw = need_w ? empty(w.shape(), w.options()) : Tensor();
    Tensor gb = need_b ? empty(mean.shape(), x.options()) : Tensor();
    backend(x.device()).batch_norm_backward(g.contiguous(), x, w, mean, invstd, sy.get(), gx, gw, gb, eps);
    return {gx, gw, gb};
  };
  if (with_relu) record(out, "batch_norm_relu", {x, weight, bias}, std::move(backward));
  else record(out, "batch_norm", {x, weight, bias}, std::move(backward));
  return out;
}

}  // namespace

Tensor batch_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& running_mean,
                  const Tensor& running_var, bool training, double momentum, double eps) {
  return normalise(x, weight, bias, running_mean, running_var, training, momentum, eps, false);
}

Tensor batch_norm_relu(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& running_mean,
                       const Tensor& running_var, bool training, double momentum, double eps) {
  return normalise(x, weight, bias, running_mean, running_var, training, momentum, eps, true);
}

}  // namespace fluxion
