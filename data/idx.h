//! @file
//! MNIST-style IDX files (MNIST, Fashion-MNIST), plain or gzipped: an images
//! file (magic 0x00000803: unsigned bytes, 3 dimensions N x rows x cols) and a
//! labels file (magic 0x00000801: unsigned bytes, 1 dimension N), every number
//! in the header a big-endian uint32. http://yann.lecun.com/exdb/mnist/
#pragma once

#include <cstdint>
#include <string>

#include "data/dataset.h"

namespace fluxion::data {

/// Reads both files into a one-channel Dataset called `name`. Throws
/// InputError naming the file and what is wrong: a missing file, a wrong magic
/// number, zero or absurd dimensions, a truncated file or trailing bytes, a
/// different number of images and labels, or a label >= num_classes.
Dataset read_idx(const std::string& images_path, const std::string& labels_path, std::int64_t num_classes,
                 const std::string& name);

}  // namespace fluxion::data
