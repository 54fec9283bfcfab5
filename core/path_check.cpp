#include "core/path_check.h"

#include <system_error>

#include "core/error.h"

namespace fluxion {
namespace {

std::filesystem::file_status status_of(const std::filesystem::path& path, const std::string& what) {
  std::error_code error;
  const std::filesystem::file_status status = std::filesystem::status(path, error);
  // "No such file" is an answer (the path is absent), not a failure.
  FLUXION_CHECK_INPUT(!error || error == std::errc::no_such_file_or_directory || error == std::errc::not_a_directory,
                      what, ": cannot look up '", path.string(), "': ", error.message());
  return status;
}

}  // namespace

bool path_exists(const std::filesystem::path& path, const std::string& what) {
  return std::filesystem::exists(status_of(path, what));
}

bool is_folder(const std::filesystem::path& path, const std::string& what) {
  return std::filesystem::is_directory(status_of(path, what));
}

}  // namespace fluxion
