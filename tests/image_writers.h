// PNG and JPEG files written with libpng and libjpeg-turbo, for the tests of
// the decoder and the image folder (test_image_folder.cpp) and the files
// tests/cli_test.sh trains on: made in the test, not kept as binary blobs.
#pragma once

// clang-format off: jpeglib.h needs <cstdio>'s FILE first
#include <cstdio>
#include <jpeglib.h>
#include <png.h>
// clang-format on

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace test {

// A PNG of `color_type` (PNG_COLOR_TYPE_GRAY, _RGB, _RGBA, _GRAY_ALPHA or
// _PALETTE with `palette`) and `bit_depth`, from samples as stored: for
// 16-bit, two bytes each, big-endian; for palette, one index byte per pixel
// (packed by libpng for depths below 8); for grey below 8 bits, one byte per
// pixel holding the small value. Interlaced (Adam7) when asked.
inline void write_png(const std::string& path, int width, int height, int color_type, int bit_depth,
                      const std::vector<std::uint8_t>& samples, const std::vector<png_color>& palette = {},
                      bool interlaced = false) {
  // Rows for 8-bit samples (one byte per pixel below 8 bits, packed by libpng).
  const int channels = color_type == PNG_COLOR_TYPE_GRAY || color_type == PNG_COLOR_TYPE_PALETTE ? 1
                       : color_type == PNG_COLOR_TYPE_GRAY_ALPHA                                   ? 2
                       : color_type == PNG_COLOR_TYPE_RGB                                          ? 3
                                                                                                   : 4;
  const std::size_t row_bytes =
      static_cast<std::size_t>(width * channels * (bit_depth == 16 ? 2 : 1));
  std::vector<png_bytep> rows(static_cast<std::size_t>(height));
  for (int y = 0; y < height; ++y)
    rows[static_cast<std::size_t>(y)] = const_cast<png_bytep>(samples.data()) + static_cast<std::size_t>(y) * row_bytes;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) throw std::runtime_error("write_png: cannot open " + path);
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  if (setjmp(png_jmpbuf(png))) {  // nothing with a destructor is made past here
    png_destroy_write_struct(&png, &info);
    std::fclose(f);
    throw std::runtime_error("write_png: libpng failed on " + path);
  }
  png_init_io(png, f);
  png_set_IHDR(png, info, static_cast<png_uint_32>(width), static_cast<png_uint_32>(height), bit_depth, color_type,
               interlaced ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  if (color_type == PNG_COLOR_TYPE_PALETTE)
    png_set_PLTE(png, info, palette.data(), static_cast<int>(palette.size()));
  png_write_info(png, info);
  if (bit_depth < 8) png_set_packing(png);
  png_write_image(png, rows.data());
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  std::fclose(f);
}

// A JPEG (baseline, or progressive) of 1 (grey) or 3 (RGB) channels, interleaved samples.
inline void write_jpeg(const std::string& path, int width, int height, int channels,
                       const std::vector<std::uint8_t>& samples, int quality = 95, bool progressive = false) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) throw std::runtime_error("write_jpeg: cannot open " + path);
  jpeg_compress_struct cinfo{};
  jpeg_error_mgr errors{};
  cinfo.err = jpeg_std_error(&errors);  // a writer error exits the test program: fine for a test helper
  jpeg_create_compress(&cinfo);
  jpeg_stdio_dest(&cinfo, f);
  cinfo.image_width = static_cast<JDIMENSION>(width);
  cinfo.image_height = static_cast<JDIMENSION>(height);
  cinfo.input_components = channels;
  cinfo.in_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, quality, TRUE);
  if (progressive) jpeg_simple_progression(&cinfo);
  jpeg_start_compress(&cinfo, TRUE);
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = const_cast<JSAMPROW>(samples.data()) +
                   static_cast<std::size_t>(cinfo.next_scanline) * static_cast<std::size_t>(width * channels);
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  std::fclose(f);
}

// An RGB image of one colour, with a little position-dependent texture.
inline std::vector<std::uint8_t> solid_rgb(int width, int height, std::uint8_t r, std::uint8_t g, std::uint8_t b,
                                           int texture = 0) {
  std::vector<std::uint8_t> out;
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x)
      for (std::uint8_t v : {r, g, b}) out.push_back(static_cast<std::uint8_t>(v ^ ((x * 3 + y * 5 + texture) & 15)));
  return out;
}

}  // namespace test
