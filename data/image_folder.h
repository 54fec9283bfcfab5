//! @file
//! A folder of the user's own images in torchvision's ImageFolder layout:
//!
//! @code
//!   DIR/train/CLASS/*.png|*.jpg|*.jpeg    the training split
//!   DIR/test/CLASS/...  (or DIR/val/)     the test split
//! @endcode
//!
//! The classes are the train/ folder's subfolders, sorted by name (label 0
//! is the first); files are found in subfolders too, in sorted order. A
//! first pass over a split reads every image (on get_num_threads() threads):
//! it checks them, measures the per-channel statistics and keeps the first
//! images, decoded, up to the cache bound; the loader's workers decode the
//! rest from their files each epoch (data/dataset.h's ImageSource).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "data/dataset.h"

namespace fluxion::data {

struct ImageFolderOptions {
  /// Resize every image to height x width (--image-size). Otherwise all
  /// must share one size: the training split's first image's, or, for a test
  /// split, height x width when given (the training images' size).
  bool resize = false;
  std::int64_t height = 0, width = 0;
  /// 1 (grey) or 3 (RGB); 0: 1 when every image of the split is grey, else 3.
  std::int64_t channels = 0;
  /// The classes, in label order. Empty: the split's own folders (training);
  /// a test split's folders must each be one of them.
  std::vector<std::string> classes;
  /// Decoded images kept in memory (the split's first ones), in bytes.
  std::uint64_t cache_bytes = std::uint64_t{1} << 30;
  /// Leave out images that cannot be decoded (counted) instead of stopping.
  bool skip_bad_images = false;
};

struct ImageFolderSplit {
  std::shared_ptr<Dataset> dataset;
  std::string folder;                ///< DIR/train, DIR/test or DIR/val
  std::vector<std::string> classes;  ///< in label order
  /// Per channel, the mean and standard deviation of pixel / 255 over the
  /// split, after conversion and resizing (what the network is fed).
  std::vector<float> mean, std;
  std::int64_t ignored_files = 0;  ///< files without an image extension, not read
  std::int64_t bad_images = 0;     ///< skipped with skip_bad_images
  std::string first_bad;           ///< "PATH: what is wrong" of the first skipped one
  std::uint64_t cached_bytes() const { return dataset ? dataset->pixels.size() : 0; }
};

/// Reads the training (`train`) or test split of the image folder `dir`.
/// Throws InputError with one line naming the file or folder and what was
/// expected: no train/ (or neither test/ nor val/) folder, no class folders,
/// a class folder without images, a test class that is not a training class,
/// an image that cannot be decoded (unless skip_bad_images), images of
/// different sizes without resize (naming the first two sizes and files).
ImageFolderSplit read_image_folder(const std::string& dir, bool train, const ImageFolderOptions& options);

/// One image file as `channels` planes of height x width (data/image_decode.h's
/// to_planes); InputError naming the path when it cannot be read or decoded.
std::vector<std::uint8_t> read_image_file(const std::string& path, std::int64_t channels, std::int64_t height,
                                          std::int64_t width);

/// --image-size's text, "N" or "HxW", as {H, W}; InputError naming `flag`
/// unless both are whole numbers from 1 to 4096.
std::pair<std::int64_t, std::int64_t> parse_image_size(const std::string& text, const std::string& flag);

/// --mean/--std's text, numbers separated by commas (one per channel);
/// InputError naming `flag` for anything else, or for a non-positive one
/// when `positive`.
std::vector<float> parse_channel_values(const std::string& text, const std::string& flag, bool positive);

}  // namespace fluxion::data
