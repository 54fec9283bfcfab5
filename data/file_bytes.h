//! @file
//! Reading a whole data file into memory, plain or gzip-compressed (detected by
//! the gzip magic bytes 1f 8b, not the name), so every reader accepts both.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace fluxion::data {

/// The file's bytes, decompressed if it is gzip. Throws InputError naming the
/// path when the file is missing or unreadable, when its gzip stream is
/// truncated or corrupt, or when it holds more than max_bytes of data (a guard
/// against a wrong file or a gzip bomb filling memory).
std::vector<std::uint8_t> read_file_bytes(const std::string& path, std::uint64_t max_bytes);

}  // namespace fluxion::data
