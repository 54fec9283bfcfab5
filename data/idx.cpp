#include "data/idx.h"

#include <cstdio>
#include <vector>

#include "core/error.h"
#include "data/file_bytes.h"

namespace fluxion::data {
namespace {

// Larger than any real IDX set (MNIST's training images are 47 MB), small
// enough that a wrong file cannot exhaust memory.
constexpr std::uint64_t kMaxBytes = std::uint64_t{1} << 31;
// Images larger than this on a side are not what these readers are for; the
// bound also keeps count * rows * cols far from overflowing.
constexpr std::uint32_t kMaxSide = 4096;

std::uint32_t be32(const std::vector<std::uint8_t>& b, std::size_t at) {
  return std::uint32_t{b[at]} << 24 | std::uint32_t{b[at + 1]} << 16 | std::uint32_t{b[at + 2]} << 8 | b[at + 3];
}

std::string hex32(std::uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", static_cast<unsigned>(v));
  return buf;
}

// What a wrong magic number says the file is: 00 00 <type> <dims> for IDX.
std::string describe_magic(std::uint32_t magic) {
  if (magic >> 16 != 0) return "not an IDX file";
  const std::uint32_t type = magic >> 8 & 0xff, ndims = magic & 0xff;
  const char* types[] = {"unsigned byte", "signed byte", "?", "int16", "int32", "float32", "float64"};
  std::string what = "an IDX file of ";
  what += type >= 0x08 && type <= 0x0e && type != 0x0a ? types[type - 0x08] : "unknown type";
  what += " elements and " + std::to_string(ndims) + " dimension" + (ndims == 1 ? "" : "s");
  if (magic == 0x801) what += ": a labels file?";
  if (magic == 0x803) what += ": an images file?";
  return what;
}

// An IDX file's bytes and its dimensions, checked against the expected
// number of dimensions (3 for images, 1 for labels) and its exact size.
struct Idx {
  std::vector<std::uint8_t> bytes;
  std::vector<std::uint32_t> dims;
  std::size_t header = 0;
};

// The size an IDX header of `ndims` dimensions declares: the header and one
// byte per element; 0 (unknown) unless the magic number and sides are valid,
// which read_checked then reports itself.
DeclaredSize idx_declared_size(std::uint32_t ndims) {
  return {4 + 4 * std::size_t{ndims}, [ndims](const std::uint8_t* header) -> std::uint64_t {
            const std::vector<std::uint8_t> b(header, header + 4 + 4 * std::size_t{ndims});
            if (be32(b, 0) != (0x800 | ndims)) return 0;
            std::uint64_t size = 1;
            for (std::uint32_t d = 0; d < ndims; ++d) {
              const std::uint32_t n = be32(b, 4 + 4 * std::size_t{d});
              if (d > 0 && n > kMaxSide) return 0;
              size *= n;
            }
            return size + b.size();
          }};
}

Idx read_checked(const std::string& path, std::uint32_t ndims, const std::string& name) {
  const char* kind = ndims == 3 ? "images" : "labels";
  const std::uint32_t magic = 0x800 | ndims;
  Idx idx;
  idx.bytes = read_file_bytes(path, kMaxBytes, idx_declared_size(ndims));
  const auto& b = idx.bytes;
  idx.header = 4 + 4 * std::size_t{ndims};
  FLUXION_CHECK_INPUT(!b.empty(), name, ": '", path, "' is empty; expected an IDX ", kind, " file");
  const auto check_header = [&](std::size_t need) {
    FLUXION_CHECK_INPUT(b.size() >= need, name, ": '", path, "' is truncated: ", b.size(),
                        " bytes, shorter than the ", idx.header, "-byte header of an IDX ", kind, " file");
  };
  check_header(4);
  const std::uint32_t found = be32(b, 0);
  FLUXION_CHECK_INPUT(found == magic, name, ": '", path, "': wrong IDX magic number: expected ", hex32(magic),
                      " (", kind, ": unsigned bytes, ", ndims, ndims == 1 ? " dimension" : " dimensions",
                      "), found ", hex32(found), " (", describe_magic(found), ")");
  check_header(idx.header);
  const char* dim_names[] = {ndims == 3 ? "image count" : "label count", "rows", "columns"};
  std::uint64_t expected = 1;  // < 2^32 * kMaxSide^2: no overflow
  for (std::uint32_t d = 0; d < ndims; ++d) {
    const std::uint32_t n = be32(b, 4 + 4 * std::size_t{d});
    FLUXION_CHECK_INPUT(n > 0, name, ": '", path, "': the IDX header's ", dim_names[d], " is 0; expected > 0");
    FLUXION_CHECK_INPUT(d == 0 || n <= kMaxSide, name, ": '", path, "': the IDX header's ", dim_names[d], " is ", n,
                        ", absurd for an image (at most ", kMaxSide, " supported)");
    idx.dims.push_back(n);
    expected *= n;
  }
  expected += idx.header;
  std::string shape;
  for (std::uint32_t d : idx.dims) shape += (shape.empty() ? "" : " x ") + std::to_string(d);
  FLUXION_CHECK_INPUT(b.size() >= expected, name, ": '", path, "' is truncated: ", b.size(), " bytes, expected ",
                      expected, " (a ", idx.header, "-byte header and ", shape, " bytes)");
  FLUXION_CHECK_INPUT(b.size() <= expected, name, ": '", path, "' has ", b.size() - expected,
                      " trailing bytes: ", b.size(), " bytes, expected ", expected, " (a ", idx.header,
                      "-byte header and ", shape, " bytes)");
  return idx;
}

}  // namespace

Dataset read_idx(const std::string& images_path, const std::string& labels_path, std::int64_t num_classes,
                 const std::string& name) {
  Idx images = read_checked(images_path, 3, name);
  const Idx labels = read_checked(labels_path, 1, name);
  FLUXION_CHECK_INPUT(images.dims[0] == labels.dims[0], name, ": '", images_path, "' holds ", images.dims[0],
                      " images but '", labels_path, "' holds ", labels.dims[0], " labels; expected the same number");

  Dataset d;
  d.name = name;
  d.channels = 1;
  d.height = images.dims[1];
  d.width = images.dims[2];
  d.num_classes = num_classes;
  d.labels.reserve(labels.dims[0]);
  for (std::size_t i = 0; i < labels.dims[0]; ++i) {
    const std::uint8_t label = labels.bytes[labels.header + i];
    FLUXION_CHECK_INPUT(label < num_classes, name, ": '", labels_path, "': label ", int{label}, " of image ", i,
                        " is out of range; expected 0 to ", num_classes - 1);
    d.labels.push_back(label);
  }
  // The pixels are the images file less its header: shift them down in place
  // rather than copying 47 MB.
  images.bytes.erase(images.bytes.begin(), images.bytes.begin() + static_cast<std::ptrdiff_t>(images.header));
  d.pixels = std::move(images.bytes);
  return d;
}

}  // namespace fluxion::data
