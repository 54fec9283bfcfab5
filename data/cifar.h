//! @file
//! CIFAR-10 and CIFAR-100 in the official binary format
//! (https://www.cs.toronto.edu/~kriz/cifar.html): fixed-size records of the
//! label byte(s) then a 32x32 colour image, red plane, green plane, blue plane,
//! each row-major (3072 bytes, already the C x H x W of Dataset).
//!   CIFAR-10:  `<label> <3072 pixels>`; data_batch_1.bin .. data_batch_5.bin
//!              (training), test_batch.bin; in cifar-10-batches-bin/.
//!   CIFAR-100: `<coarse label> <fine label> <3072 pixels>`; train.bin, test.bin;
//!              in cifar-100-binary/.
//! scripts/get-cifar.sh DIR downloads and checks both.
#pragma once

#include <string>

#include "data/dataset.h"

namespace fluxion::data {

/// `dir` is the folder holding the .bin files or the one the tarball was
/// extracted in (holding cifar-10-batches-bin/ or cifar-100-binary/). Throws
/// InputError naming the file and the problem: a missing file (listing the
/// expected ones and how to get them), a size that is not a non-zero whole
/// number of records, or a label out of range.
Dataset read_cifar10(const std::string& dir, bool train);
/// The 100 fine labels (the record's second byte) are the labels; the 20
/// coarse ones are checked and dropped.
Dataset read_cifar100(const std::string& dir, bool train);

}  // namespace fluxion::data
