#include "data/file_bytes.h"

#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

#include "core/error.h"

namespace fluxion::data {
namespace {

constexpr std::size_t kChunk = 1 << 16;
constexpr std::uint64_t kMaxReserve = std::uint64_t{64} << 20;

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

// Reads up to `n` bytes; a read error (not the end of the file) throws.
std::size_t read_chunk(std::FILE* f, std::uint8_t* buf, std::size_t n, const std::string& path) {
  errno = 0;
  const std::size_t got = std::fread(buf, 1, n, f);
  FLUXION_CHECK_INPUT(!std::ferror(f), "cannot read '", path, "': ", std::strerror(errno));
  return got;
}

void check_size(std::uint64_t size, std::uint64_t max_bytes, const std::string& path, const char* what) {
  FLUXION_CHECK_INPUT(size <= max_bytes, "'", path, "': ", what, " more than ", max_bytes,
                      " bytes, more than any valid file of this kind: is it the right file?");
}

// Once the header is in, what it declares becomes the bound (when it is
// tighter than max_bytes), and the output's memory is reserved at once.
struct Bound {
  std::uint64_t max_bytes;
  const DeclaredSize& declared;
  bool known = false;
  std::uint64_t header_says = 0;

  void check(std::vector<std::uint8_t>& out, const std::string& path) {
    if (!known && declared.from_header && out.size() >= declared.header_bytes) {
      known = true;
      header_says = declared.from_header(out.data());
      // Reserved up to 64 MiB only: a few bytes of gzip may declare 2 GiB.
      if (header_says > 0 && header_says <= max_bytes)
        out.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(header_says, kMaxReserve)) + kChunk);
    }
    if (known && header_says > 0 && header_says <= max_bytes)
      FLUXION_CHECK_INPUT(out.size() <= header_says, "'", path, "': decompresses to more than the ", header_says,
                          " bytes its header declares: the file is corrupt (or a gzip bomb)");
    check_size(out.size(), max_bytes, path, "decompresses to");
  }
};

// Inflates the gzip stream(s) of `f`, whose first `have` bytes are in `in`.
// Concatenated gzip members are read one after the other, as gunzip does.
std::vector<std::uint8_t> inflate_file(std::FILE* f, std::vector<std::uint8_t>& in, std::size_t have, Bound bound,
                                       const std::string& path) {
  z_stream z{};
  FLUXION_CHECK(inflateInit2(&z, 16 + MAX_WBITS) == Z_OK, "'", path, "': zlib: cannot start inflating");
  struct End {
    z_stream* z;
    ~End() { inflateEnd(z); }
  } end{&z};

  std::vector<std::uint8_t> out;
  z.next_in = in.data();
  z.avail_in = static_cast<uInt>(have);
  bool eof = have < in.size();
  for (;;) {
    if (z.avail_in == 0 && !eof) {
      have = read_chunk(f, in.data(), in.size(), path);
      eof = have < in.size();
      z.next_in = in.data();
      z.avail_in = static_cast<uInt>(have);
    }
    const std::size_t done = out.size();
    out.resize(done + kChunk);
    z.next_out = out.data() + done;
    z.avail_out = static_cast<uInt>(kChunk);
    const int rc = inflate(&z, Z_NO_FLUSH);
    out.resize(done + kChunk - z.avail_out);
    bound.check(out, path);
    if (rc == Z_STREAM_END) {
      if (z.avail_in == 0 && !eof) {  // more members may follow in the next chunk
        have = read_chunk(f, in.data(), in.size(), path);
        eof = have < in.size();
        z.next_in = in.data();
        z.avail_in = static_cast<uInt>(have);
      }
      if (z.avail_in == 0) return out;
      FLUXION_CHECK_INPUT(z.next_in[0] == 0x1f, "'", path, "': unexpected bytes after the end of the gzip data",
                          " (the file is corrupt)");
      FLUXION_CHECK(inflateReset(&z) == Z_OK, "'", path, "': zlib: cannot restart inflating");
      continue;
    }
    FLUXION_CHECK_INPUT(rc == Z_OK || rc == Z_BUF_ERROR, "'", path, "': corrupt gzip data (",
                        z.msg ? z.msg : zError(rc), "): re-download the file");
    // Z_BUF_ERROR, or Z_OK with all input used, at the end of the file: the
    // stream stopped before its end marker and checksum.
    FLUXION_CHECK_INPUT(!(eof && z.avail_in == 0 && z.avail_out != 0), "'", path,
                        "': the gzip data is truncated (the file ends before the end of the compressed stream, after ",
                        out.size(), " decompressed bytes): re-download the file");
  }
}

}  // namespace

std::vector<std::uint8_t> read_file_bytes(const std::string& path, std::uint64_t max_bytes,
                                          const DeclaredSize& declared) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  FLUXION_CHECK_INPUT(fs::exists(st), "cannot open '", path, "': ",
                      ec && ec != std::errc::no_such_file_or_directory ? ec.message() : "no such file");
  // Only regular files: a directory fails oddly, a FIFO could block forever.
  FLUXION_CHECK_INPUT(fs::is_regular_file(st), "cannot read '", path, "': not a regular file");
  File f(std::fopen(path.c_str(), "rb"));
  FLUXION_CHECK_INPUT(f != nullptr, "cannot open '", path, "': ", std::strerror(errno));

  std::vector<std::uint8_t> in(kChunk);
  const std::size_t have = read_chunk(f.get(), in.data(), in.size(), path);
  if (have >= 2 && in[0] == 0x1f && in[1] == 0x8b) return inflate_file(f.get(), in, have, Bound{max_bytes, declared}, path);

  // A plain file: its size says what to expect, but the loop reads to the
  // end whatever it is, and the guard still holds if the file grows meanwhile.
  const std::uint64_t size = fs::file_size(path, ec);
  check_size(ec ? 0 : size, max_bytes, path, "holds");
  std::vector<std::uint8_t> out;
  out.reserve(ec ? have : static_cast<std::size_t>(size));
  out.assign(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(have));
  for (std::size_t got = have; got == kChunk;) {
    check_size(out.size(), max_bytes, path, "holds");
    const std::size_t done = out.size();
    out.resize(done + kChunk);
    got = read_chunk(f.get(), out.data() + done, kChunk, path);
    out.resize(done + got);
  }
  check_size(out.size(), max_bytes, path, "holds");
  return out;
}

}  // namespace fluxion::data
