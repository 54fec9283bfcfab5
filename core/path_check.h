//! @file
//! std::filesystem's exists and is_directory for paths a user typed. The
//! throwing forms report a symlink loop, a name too long or a parent without
//! permission as a filesystem_error, which reads as an internal error; these
//! throw InputError instead, starting with `what` (the flag or file that
//! named the path) and naming the path and the system's reason.
#pragma once

#include <filesystem>
#include <string>

namespace fluxion {

bool path_exists(const std::filesystem::path& path, const std::string& what);
bool is_folder(const std::filesystem::path& path, const std::string& what);

}  // namespace fluxion
