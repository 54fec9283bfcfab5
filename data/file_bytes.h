//! @file
//! Reading a whole data file into memory, plain or gzip-compressed (detected by
//! the gzip magic bytes 1f 8b, not the name), so every reader accepts both.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace fluxion::data {

/// What a format's header says of the file's whole size: given its first
/// `header_bytes` bytes, the exact number of bytes the file holds, or 0 when
/// the header cannot say (a wrong magic number: the reader then names the
/// problem itself).
struct DeclaredSize {
  std::size_t header_bytes = 0;
  std::function<std::uint64_t(const std::uint8_t* header)> from_header;
};

/// The file's bytes, decompressed if it is gzip. Throws InputError naming the
/// path when the file is missing or unreadable, when its gzip stream is
/// truncated or corrupt, or when it holds more than max_bytes of data (a guard
/// against a wrong file or a gzip bomb filling memory). With `declared`, a
/// gzip stream stops inflating, with an InputError, as soon as it yields more
/// than its header declares: a small bomb behind a valid header costs no more
/// memory than the data it claims to hold.
std::vector<std::uint8_t> read_file_bytes(const std::string& path, std::uint64_t max_bytes,
                                          const DeclaredSize& declared = {});

}  // namespace fluxion::data
