//! @file
//! Gradient clipping with torch.nn.utils' semantics (defaults: the 2-norm,
//! error_if_nonfinite false): the total norm of all gradients, rescaling
//! them to a maximum norm, and clamping each element. Parameters whose
//! gradient is undefined are skipped, as torch skips a None .grad.
#pragma once

#include <vector>

#include "core/tensor.h"

namespace fluxion::optim {

/// The total 2-norm of the parameters' gradients: the norm of the
/// per-tensor norms, as torch.nn.utils.get_total_norm. 0 when no parameter
/// has a gradient; NaN or inf when a gradient is. One read back.
double grad_norm(const std::vector<Tensor>& params);

/// Scales every gradient by min(1, max_norm / (total_norm + 1e-6)), as
/// torch.nn.utils.clip_grads_with_norm_, given the norm grad_norm returned
/// (so a caller that needs the norm anyway reduces once).
void clip_grads_with_norm_(const std::vector<Tensor>& params, double max_norm, double total_norm);

/// torch.nn.utils.clip_grad_norm_(params, max_norm): grad_norm, then
/// clip_grads_with_norm_; returns the norm before clipping.
double clip_grad_norm_(const std::vector<Tensor>& params, double max_norm);

/// torch.nn.utils.clip_grad_value_(params, clip): every gradient element
/// clamped to [-clip, clip].
void clip_grad_value_(const std::vector<Tensor>& params, double clip);

}  // namespace fluxion::optim
