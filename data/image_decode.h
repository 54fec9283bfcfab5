//! @file
//! PNG and JPEG images to 8-bit pixels, through libpng and libjpeg-turbo
//! (Debian's libpng-dev, libjpeg62-turbo-dev), and the bilinear resize the
//! image-folder dataset (data/image_folder.h) and `fluxion predict` apply.
//!
//!   Image img = decode_image(bytes.data(), bytes.size());   // grey or RGB, H x W x C
//!   std::vector<std::uint8_t> chw = to_planes(img, 3, 32, 32);  // C x H x W, resized
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace fluxion::data {

/// An image as decoded: 8-bit samples, row after row, each pixel's channels
/// together (H x W x C). channels is 1 (grey) or 3 (RGB).
struct Image {
  std::int64_t height = 0, width = 0, channels = 0;
  std::vector<std::uint8_t> pixels;
};

/// The most pixels an image may declare (8192 x 8192): a header claiming
/// more is refused before any memory is taken, so a few bytes cannot ask
/// for gigabytes.
inline constexpr std::uint64_t kMaxImagePixels = std::uint64_t{1} << 26;

/// Whether a file name ends in .png, .jpg or .jpeg (any case): the files an
/// image folder reads; others are ignored (and counted).
bool has_image_extension(const std::string& path);

/// Decodes a PNG or JPEG file's bytes (told apart by their signature, not
/// the name). Grey stays one channel; RGB, palette and CMYK-free JPEG become
/// three; alpha is dropped (as PIL's convert("RGB")); 1-, 2- and 4-bit
/// samples are expanded and 16-bit ones scaled to 8 bits (v * 255 / 65535,
/// rounded). With header_only, only height, width and channels are filled.
/// Throws InputError saying what is wrong (not a PNG or JPEG, truncated,
/// corrupt data, too large), without the file's name: callers add it.
Image decode_image(const std::uint8_t* data, std::size_t size, bool header_only = false);

/// `image` as `channels` planes (C x H x W) of height x width: grey to RGB
/// repeats the plane; RGB to grey is ITU-R 601 luma, (299 R + 587 G + 114 B)
/// / 1000 rounded (PIL's convert("L")). The resize is resize_bilinear's.
std::vector<std::uint8_t> to_planes(const Image& image, std::int64_t channels, std::int64_t height,
                                    std::int64_t width);

/// Resizes H x W x C interleaved 8-bit pixels to out_h x out_w (same layout)
/// with the triangle (bilinear) filter on half-pixel centres, widened by the
/// scale factor when shrinking so that every input pixel counts
/// (antialiasing, as PIL's resize(BILINEAR) and torchvision's antialias=True);
/// enlarging is plain bilinear interpolation with edges clamped (PyTorch's
/// align_corners=False). Equal sizes copy the pixels unchanged.
void resize_bilinear(const std::uint8_t* in, std::int64_t in_h, std::int64_t in_w, std::int64_t channels,
                     std::uint8_t* out, std::int64_t out_h, std::int64_t out_w);

}  // namespace fluxion::data
