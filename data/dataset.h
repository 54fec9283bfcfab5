//! @file
//! A labelled image set as 8-bit pixels, each image channel-major
//! (C x H x W). Readers (data/idx.h, data/cifar.h) hold every image in
//! `pixels`; an image folder (data/image_folder.h) holds there only the
//! first images, as many as its cache bound allows, and decodes the others
//! from their files when a batch needs them. The loader (data/loader.h) turns
//! either into batches.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace fluxion::data {

/// Images that stay in their files until needed: image(i) decodes image i.
class ImageSource {
 public:
  virtual ~ImageSource() = default;
  /// Writes image i, C x H x W bytes of the dataset's shape, to `out`. Safe
  /// to call from several threads at once. Throws InputError naming the
  /// file when it can no longer be read.
  virtual void decode(std::int64_t i, std::uint8_t* out) const = 0;
};

struct Dataset {
  std::string name;                 ///< for example "cifar10 train", for messages
  std::int64_t channels = 0, height = 0, width = 0;
  std::int64_t num_classes = 0;     ///< labels are in [0, num_classes)
  /// The first images in memory, cached_images() * image_bytes() bytes: all
  /// of them unless `source` decodes the rest.
  std::vector<std::uint8_t> pixels;
  std::vector<std::int64_t> labels;
  /// Decodes the images beyond the cached ones; null when all are in pixels.
  std::shared_ptr<const ImageSource> source;

  std::int64_t size() const { return static_cast<std::int64_t>(labels.size()); }
  std::int64_t image_bytes() const { return channels * height * width; }
  std::int64_t cached_images() const {
    return image_bytes() > 0 ? static_cast<std::int64_t>(pixels.size()) / image_bytes() : 0;
  }
  /// Image i of those held in memory (i < cached_images()).
  const std::uint8_t* image(std::int64_t i) const { return pixels.data() + i * image_bytes(); }
  /// Image i, from memory, or decoded by `source` into `scratch` (resized
  /// to fit): the loader's way, which works for any dataset.
  const std::uint8_t* image(std::int64_t i, std::vector<std::uint8_t>& scratch) const {
    if (i < cached_images() || !source) return image(i);
    scratch.resize(static_cast<std::size_t>(image_bytes()));
    source->decode(i, scratch.data());
    return scratch.data();
  }
  /// Keeps the first n images (all of them if n >= size()).
  void keep_first(std::int64_t n) {
    if (n >= size()) return;
    labels.resize(static_cast<std::size_t>(n));
    if (n < cached_images()) pixels.resize(static_cast<std::size_t>(n * image_bytes()));
  }
};

}  // namespace fluxion::data
