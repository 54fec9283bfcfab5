#include "data/image_decode.h"

// clang-format off: jpeglib.h needs <cstdio>'s FILE first
#include <csetjmp>
#include <cstdio>
#include <jpeglib.h>
#include <png.h>
// clang-format on

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>

#include "core/error.h"

namespace fluxion::data {
namespace {

// libpng and libjpeg report errors by longjmp. C++ allows a longjmp only
// where a throw to the same place would destroy nothing: so each run_lib*
// below keeps its state in a job object owned by its caller, creates no
// object with a destructor after its setjmp, and the caller turns a failure
// into an InputError once the libraries' frames are gone.

constexpr std::size_t kMessageBytes = 256;
constexpr int kMaxJpegScans = 1000;  // progressive JPEGs of more are refused (a known decoder time sink)

void set_message(char* message, const char* text) { std::snprintf(message, kMessageBytes, "%s", text); }

// --- PNG --------------------------------------------------------------------

struct PngJob {
  const std::uint8_t* data = nullptr;
  std::size_t size = 0, pos = 0;
  bool header_only = false;
  Image* out = nullptr;
  std::vector<png_bytep> rows;
  char message[kMessageBytes] = {};
  png_structp png = nullptr;
  png_infop info = nullptr;
  ~PngJob() { png_destroy_read_struct(&png, info ? &info : nullptr, nullptr); }
};

void png_on_error(png_structp png, png_const_charp text) {
  set_message(static_cast<PngJob*>(png_get_error_ptr(png))->message, text);
  png_longjmp(png, 1);
}
void png_on_warning(png_structp, png_const_charp) {}  // ancillary-chunk trouble: PIL ignores it too

void png_read_memory(png_structp png, png_bytep dst, std::size_t n) {
  auto* job = static_cast<PngJob*>(png_get_io_ptr(png));
  if (n > job->size - job->pos) png_error(png, "the file ends early (truncated)");
  std::memcpy(dst, job->data + job->pos, n);
  job->pos += n;
}

// The PNG in job.data into *job.out (header only, or 8-bit grey or RGB);
// false with job.message on an error.
bool run_libpng(PngJob& job) {
  job.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &job, png_on_error, png_on_warning);
  if (job.png != nullptr) job.info = png_create_info_struct(job.png);
  if (job.png == nullptr || job.info == nullptr) {
    set_message(job.message, "out of memory");
    return false;
  }
  if (setjmp(png_jmpbuf(job.png))) return false;
  png_set_read_fn(job.png, &job, png_read_memory);
  png_set_user_limits(job.png, 1u << 16, 1u << 16);
  png_set_chunk_malloc_max(job.png, std::size_t{64} << 20);  // text and other chunks
  png_read_info(job.png, job.info);
  Image& out = *job.out;
  out.width = png_get_image_width(job.png, job.info);
  out.height = png_get_image_height(job.png, job.info);
  out.channels = (png_get_color_type(job.png, job.info) & PNG_COLOR_MASK_COLOR) ? 3 : 1;  // palette is colour
  if (job.header_only) return true;
  if (static_cast<std::uint64_t>(out.width) * static_cast<std::uint64_t>(out.height) > kMaxImagePixels)
    png_error(job.png, "the image is larger than 8192x8192 pixels");
  png_set_scale_16(job.png);  // 16-bit samples to 8, rounded (not truncated)
  png_set_expand_gray_1_2_4_to_8(job.png);
  png_set_palette_to_rgb(job.png);
  png_set_strip_alpha(job.png);
  png_set_interlace_handling(job.png);
  png_read_update_info(job.png, job.info);
  if (png_get_rowbytes(job.png, job.info) != static_cast<std::size_t>(out.width * out.channels))
    png_error(job.png, "unexpected row size after conversion to 8-bit samples");
  out.pixels.resize(static_cast<std::size_t>(out.height * out.width * out.channels));
  job.rows.resize(static_cast<std::size_t>(out.height));
  for (std::size_t y = 0; y < job.rows.size(); ++y)
    job.rows[y] = out.pixels.data() + y * static_cast<std::size_t>(out.width * out.channels);
  png_read_image(job.png, job.rows.data());
  png_read_end(job.png, nullptr);
  return true;
}

Image decode_png(const std::uint8_t* data, std::size_t size, bool header_only) {
  Image image;
  PngJob job;
  job.data = data, job.size = size, job.header_only = header_only, job.out = &image;
  FLUXION_CHECK_INPUT(run_libpng(job), "corrupt PNG: ", job.message);
  return image;
}

// --- JPEG -------------------------------------------------------------------

struct JpegJob {
  jpeg_decompress_struct cinfo{};
  jpeg_error_mgr errors{};
  jpeg_progress_mgr progress{};
  std::jmp_buf jump{};
  bool created = false, header_only = false;
  int warnings = 0;
  Image* out = nullptr;
  char message[kMessageBytes] = {}, warning[kMessageBytes] = {};
  ~JpegJob() {
    if (created) jpeg_destroy_decompress(&cinfo);
  }
};

JpegJob& job_of(j_common_ptr cinfo) { return *static_cast<JpegJob*>(cinfo->client_data); }

void jpeg_on_error(j_common_ptr cinfo) {
  char text[JMSG_LENGTH_MAX];
  cinfo->err->format_message(cinfo, text);
  set_message(job_of(cinfo).message, text);
  std::longjmp(job_of(cinfo).jump, 1);
}

// Level -1 is a warning about corrupt data (a truncated file, a bad
// marker): libjpeg decodes on with made-up pixels, which a training set
// must not hold, so it counts as an error once decoding ends. Higher
// levels are trace messages.
void jpeg_on_message(j_common_ptr cinfo, int level) {
  if (level >= 0) return;
  JpegJob& job = job_of(cinfo);
  if (job.warnings++ == 0) {
    char text[JMSG_LENGTH_MAX];
    cinfo->err->format_message(cinfo, text);
    set_message(job.warning, text);
  }
}

void jpeg_on_progress(j_common_ptr cinfo) {
  auto* d = reinterpret_cast<j_decompress_ptr>(cinfo);
  if (d->input_scan_number <= kMaxJpegScans) return;
  std::snprintf(job_of(cinfo).message, kMessageBytes, "more than %d progressive scans", kMaxJpegScans);
  std::longjmp(job_of(cinfo).jump, 1);
}

bool run_libjpeg(JpegJob& job, const std::uint8_t* data, std::size_t size) {
  job.cinfo.err = jpeg_std_error(&job.errors);
  job.errors.error_exit = jpeg_on_error;
  job.errors.emit_message = jpeg_on_message;
  job.cinfo.client_data = &job;
  if (setjmp(job.jump)) return false;
  jpeg_create_decompress(&job.cinfo);
  job.created = true;
  job.progress.progress_monitor = jpeg_on_progress;
  job.cinfo.progress = &job.progress;
  jpeg_mem_src(&job.cinfo, data, static_cast<unsigned long>(size));
  jpeg_read_header(&job.cinfo, TRUE);
  Image& out = *job.out;
  out.width = job.cinfo.image_width;
  out.height = job.cinfo.image_height;
  const J_COLOR_SPACE space = job.cinfo.jpeg_color_space;
  if (space != JCS_GRAYSCALE && space != JCS_YCbCr && space != JCS_RGB) {
    set_message(job.message, "a CMYK or YCCK JPEG; expected grey or colour (YCbCr/RGB)");
    return false;
  }
  out.channels = space == JCS_GRAYSCALE ? 1 : 3;
  if (job.header_only) return true;
  if (static_cast<std::uint64_t>(out.width) * static_cast<std::uint64_t>(out.height) > kMaxImagePixels) {
    set_message(job.message, "the image is larger than 8192x8192 pixels");
    return false;
  }
  job.cinfo.out_color_space = out.channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_start_decompress(&job.cinfo);
  if (job.cinfo.output_components != out.channels) {
    set_message(job.message, "unexpected number of decoded components");
    return false;
  }
  out.pixels.resize(static_cast<std::size_t>(out.height * out.width * out.channels));
  while (job.cinfo.output_scanline < job.cinfo.output_height) {
    JSAMPROW row = out.pixels.data() + static_cast<std::size_t>(job.cinfo.output_scanline) *
                                           static_cast<std::size_t>(out.width * out.channels);
    jpeg_read_scanlines(&job.cinfo, &row, 1);
  }
  jpeg_finish_decompress(&job.cinfo);
  return true;
}

Image decode_jpeg(const std::uint8_t* data, std::size_t size, bool header_only) {
  Image image;
  JpegJob job;
  job.header_only = header_only, job.out = &image;
  FLUXION_CHECK_INPUT(run_libjpeg(job, data, size), "corrupt JPEG: ", job.message);
  FLUXION_CHECK_INPUT(job.warnings == 0, "corrupt JPEG: ", job.warning);
  return image;
}

// --- resizing ---------------------------------------------------------------

// For each output position along one axis: the first input index and the
// normalised weights of the inputs from there.
struct Taps {
  std::vector<std::int64_t> first;
  std::vector<std::vector<float>> weights;
};

// The triangle filter's taps for in_size -> out_size (PIL's
// precompute_coeffs with its bilinear filter, support 1): output pixel x
// has its centre at (x + 0.5) * scale in input coordinates; when shrinking
// (scale > 1) the filter is scale times wider, averaging every input pixel.
Taps triangle_taps(std::int64_t in_size, std::int64_t out_size) {
  const double scale = static_cast<double>(in_size) / static_cast<double>(out_size);
  const double filter_scale = std::max(scale, 1.0);
  const double support = filter_scale;  // the triangle's support, 1, widened
  Taps taps;
  for (std::int64_t x = 0; x < out_size; ++x) {
    const double centre = (static_cast<double>(x) + 0.5) * scale;
    const auto lo = std::max<std::int64_t>(0, static_cast<std::int64_t>(std::floor(centre - support)));
    const auto hi = std::min<std::int64_t>(in_size, static_cast<std::int64_t>(std::ceil(centre + support)));
    std::vector<double> w;
    double total = 0;
    for (std::int64_t j = lo; j < hi; ++j) {
      const double t = std::abs((static_cast<double>(j) + 0.5 - centre) / filter_scale);
      w.push_back(std::max(0.0, 1.0 - t));
      total += w.back();
    }
    taps.first.push_back(lo);
    std::vector<float> normalised;
    for (double v : w) normalised.push_back(static_cast<float>(total > 0 ? v / total : 0.0));
    taps.weights.push_back(std::move(normalised));
  }
  return taps;
}

std::uint8_t to_byte(float v) { return static_cast<std::uint8_t>(std::clamp(std::lround(v), 0L, 255L)); }

}  // namespace

bool has_image_extension(const std::string& path) {
  const std::size_t dot = path.rfind('.');
  if (dot == std::string::npos) return false;
  std::string ext = path.substr(dot + 1);
  for (char& ch : ext) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return ext == "png" || ext == "jpg" || ext == "jpeg";
}

Image decode_image(const std::uint8_t* data, std::size_t size, bool header_only) {
  static constexpr std::uint8_t kPng[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (size >= 8 && std::memcmp(data, kPng, 8) == 0) return decode_png(data, size, header_only);
  if (size >= 3 && data[0] == 0xff && data[1] == 0xd8 && data[2] == 0xff) return decode_jpeg(data, size, header_only);
  throw InputError(size == 0 ? "empty file; expected a PNG or JPEG image"
                             : "not a PNG or JPEG image (its first bytes are neither signature)");
}

void resize_bilinear(const std::uint8_t* in, std::int64_t in_h, std::int64_t in_w, std::int64_t channels,
                     std::uint8_t* out, std::int64_t out_h, std::int64_t out_w) {
  FLUXION_CHECK(in_h > 0 && in_w > 0 && out_h > 0 && out_w > 0 && channels > 0, "resize_bilinear: sizes ", in_h,
                "x", in_w, " -> ", out_h, "x", out_w, " with ", channels, " channels must be positive");
  if (in_h == out_h && in_w == out_w) {
    std::memcpy(out, in, static_cast<std::size_t>(in_h * in_w * channels));
    return;
  }
  const Taps across = triangle_taps(in_w, out_w), down = triangle_taps(in_h, out_h);
  // Horizontal pass: rows [in_h, out_w, C] in float, then the vertical one.
  std::vector<float> rows(static_cast<std::size_t>(in_h * out_w * channels));
  for (std::int64_t y = 0; y < in_h; ++y)
    for (std::int64_t x = 0; x < out_w; ++x)
      for (std::int64_t c = 0; c < channels; ++c) {
        const auto& w = across.weights[static_cast<std::size_t>(x)];
        const std::uint8_t* src = in + (y * in_w + across.first[static_cast<std::size_t>(x)]) * channels + c;
        float v = 0;
        for (std::size_t k = 0; k < w.size(); ++k) v += w[k] * src[static_cast<std::int64_t>(k) * channels];
        rows[static_cast<std::size_t>((y * out_w + x) * channels + c)] = v;
      }
  for (std::int64_t y = 0; y < out_h; ++y) {
    const auto& w = down.weights[static_cast<std::size_t>(y)];
    const std::int64_t first = down.first[static_cast<std::size_t>(y)];
    for (std::int64_t i = 0; i < out_w * channels; ++i) {
      float v = 0;
      for (std::size_t k = 0; k < w.size(); ++k)
        v += w[k] * rows[static_cast<std::size_t>((first + static_cast<std::int64_t>(k)) * out_w * channels + i)];
      out[y * out_w * channels + i] = to_byte(v);
    }
  }
}

std::vector<std::uint8_t> to_planes(const Image& image, std::int64_t channels, std::int64_t height,
                                    std::int64_t width) {
  FLUXION_CHECK(channels == 1 || channels == 3, "to_planes: channels must be 1 or 3, got ", channels);
  FLUXION_CHECK(image.channels == 1 || image.channels == 3, "to_planes: an image of ", image.channels, " channels");
  const std::int64_t pixels = image.height * image.width;
  // Channel conversion first, interleaved.
  std::vector<std::uint8_t> converted;
  const std::uint8_t* src = image.pixels.data();
  if (channels != image.channels) {
    converted.resize(static_cast<std::size_t>(pixels * channels));
    for (std::int64_t p = 0; p < pixels; ++p) {
      if (channels == 3) {
        for (int c = 0; c < 3; ++c) converted[static_cast<std::size_t>(p * 3 + c)] = src[p];
      } else {
        const std::uint8_t* rgb = src + p * 3;
        converted[static_cast<std::size_t>(p)] =
            static_cast<std::uint8_t>((299 * rgb[0] + 587 * rgb[1] + 114 * rgb[2] + 500) / 1000);
      }
    }
    src = converted.data();
  }
  std::vector<std::uint8_t> resized(static_cast<std::size_t>(height * width * channels));
  resize_bilinear(src, image.height, image.width, channels, resized.data(), height, width);
  // Interleaved to planes.
  std::vector<std::uint8_t> planes(resized.size());
  const std::int64_t plane = height * width;
  for (std::int64_t p = 0; p < plane; ++p)
    for (std::int64_t c = 0; c < channels; ++c)
      planes[static_cast<std::size_t>(c * plane + p)] = resized[static_cast<std::size_t>(p * channels + c)];
  return planes;
}

}  // namespace fluxion::data
