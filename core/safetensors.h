//! @file
//! Checkpoints in Hugging Face's safetensors format, so Fluxion's weights can be
//! read by PyTorch, JAX or the `safetensors` package and the other way round.
//!
//! A file is: an 8-byte little-endian header length N, N bytes of UTF-8 JSON
//! mapping each tensor name to {"dtype", "shape", "data_offsets": [begin, end]}
//! (offsets into the byte buffer that follows the header) plus an optional
//! "__metadata__" object of strings, then the tensors' bytes, row-major and
//! little-endian. Fluxion reads and writes its own dtypes: F32, F64 and I64;
//! it also reads F16 and BF16 (what PyTorch and Hugging Face often save),
//! widened exactly to float32 (infinities and NaNs stay what they are).
#pragma once

#include <map>
#include <string>

#include "core/tensor.h"

namespace fluxion {

using TensorMap = std::map<std::string, Tensor>;
using Metadata = std::map<std::string, std::string>;

struct SafetensorsFile {
  TensorMap tensors;
  Metadata metadata;
};

/// Writes `tensors` (any strides; written row-major) and `metadata` to `path`.
/// Atomic: the bytes go to "<path>.tmp.<host>.<pid>.<n>" in the same directory, are
/// flushed to disk, and the temporary file is then renamed over `path`, so a
/// crash leaves either the old file or the whole new one, never a partial one.
/// Throws fluxion::Error naming the path on any failure.
void save_safetensors(const std::string& path, const TensorMap& tensors, const Metadata& metadata = {});

/// Reads `path` and validates all of it (header, dtypes, shapes, offsets, that
/// the tensors tile the data buffer exactly). Returns contiguous CPU tensors
/// that own their memory (F16 and BF16 tensors as float32). Throws fluxion::InputError (the file is the user's
/// to fix) naming the path, and the tensor where there is one, when the file
/// cannot be read or anything in it is malformed.
SafetensorsFile load_safetensors(const std::string& path);

/// Copies `loaded` into the tensors of `targets` with the same names (what a
/// module's load_state_dict does). With `strict`, every target must be in
/// `loaded` and nothing else may be; the error lists every missing and every
/// unexpected key, as PyTorch's load_state_dict(strict=True) does. Shapes and
/// dtypes must match exactly (no broadcasting, no conversion). Everything is
/// checked before anything is copied, so a failure leaves `targets` unchanged.
/// Targets that require grad are fine: the copy is not recorded. `source`
/// names where `loaded` came from (a file path) for messages.
void load_into(const TensorMap& targets, const TensorMap& loaded, bool strict, const std::string& source);

}  // namespace fluxion
