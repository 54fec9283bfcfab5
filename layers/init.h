//! @file
//! Parameter initialisation, with PyTorch's defaults so an untrained Fluxion
//! model behaves like an untrained PyTorch one. All draw from the default
//! generator (manual_seed) unless given another.
#pragma once

#include <cstdint>

#include "core/random.h"
#include "core/tensor.h"

namespace fluxion::nn::init {

/// Inputs feeding one output unit: dim 1 times the receptive field (weight
/// [out, in, kH, kW] -> in * kH * kW).
std::int64_t fan_in(const Tensor& weight);

/// Fills t with U(low, high), in place.
void uniform_(const Tensor& t, double low, double high, Generator* generator = nullptr);
/// He et al.'s uniform initialisation for a leaky-ReLU slope a:
/// U(-b, b), b = gain * sqrt(3 / fan_in), gain = sqrt(2 / (1 + a^2)).
/// PyTorch's Conv2d and Linear use a = sqrt(5), which makes b = 1 / sqrt(fan_in).
void kaiming_uniform_(const Tensor& weight, double a, Generator* generator = nullptr);
/// N(0, std^2) with std = gain / sqrt(fan), gain = sqrt(2) (ReLU); fan_out
/// mode uses dim 0 times the receptive field (torchvision's ResNet init).
void kaiming_normal_(const Tensor& weight, bool fan_out_mode = false, Generator* generator = nullptr);

/// PyTorch's reset_parameters() for Conv2d and Linear: kaiming_uniform_ with
/// a = sqrt(5) on the weight, and U(-1/sqrt(fan_in), 1/sqrt(fan_in)) on the
/// bias (if defined).
void default_linear_init(const Tensor& weight, const Tensor& bias, Generator* generator = nullptr);

}  // namespace fluxion::nn::init
