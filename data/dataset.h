//! @file
//! A labelled image set held in memory as its files store it: 8-bit pixels,
//! image after image, each channel-major (C x H x W). Readers (data/idx.h,
//! data/cifar.h) fill it; the loader (data/loader.h) turns it into batches.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace fluxion::data {

struct Dataset {
  std::string name;                 ///< for example "cifar10 train", for messages
  std::int64_t channels = 0, height = 0, width = 0;
  std::int64_t num_classes = 0;     ///< labels are in [0, num_classes)
  std::vector<std::uint8_t> pixels;  ///< size() * image_bytes() bytes
  std::vector<std::int64_t> labels;

  std::int64_t size() const { return static_cast<std::int64_t>(labels.size()); }
  std::int64_t image_bytes() const { return channels * height * width; }
  const std::uint8_t* image(std::int64_t i) const { return pixels.data() + i * image_bytes(); }
  /// Keeps the first n images (all of them if n >= size()).
  void keep_first(std::int64_t n) {
    if (n >= size()) return;
    labels.resize(static_cast<std::size_t>(n));
    pixels.resize(static_cast<std::size_t>(n * image_bytes()));
  }
};

}  // namespace fluxion::data
