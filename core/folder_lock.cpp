#include "core/folder_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <utility>

#include "core/error.h"

namespace fluxion {
namespace {

// "pid 1234 on host node7", as the holder wrote it; "" if it has not yet.
std::string holder(int fd) {
  char text[256] = {};
  const ssize_t n = ::pread(fd, text, sizeof text - 1, 0);
  std::string s(text, n > 0 ? static_cast<std::size_t>(n) : 0);
  while (!s.empty() && (s.back() == '\n' || s.back() == '\0')) s.pop_back();
  return s;
}

std::string this_process() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) std::strcpy(host, "?");
  return "pid " + std::to_string(::getpid()) + " on host " + host;
}

}  // namespace

FolderLock::FolderLock(const std::string& folder, const std::string& who) {
  const std::string path = (std::filesystem::path(folder) / kFolderLockName).string();
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  FLUXION_CHECK_INPUT(fd >= 0, who, " ", folder, ": cannot create the lock file '", path, "': ", std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    const std::string by = holder(fd);
    ::close(fd);
    FLUXION_CHECK_INPUT(error != EWOULDBLOCK, who, " ", folder, ": another process (",
                        by.empty() ? std::string("starting up") : by, ") is using this folder (it holds '", path,
                        "'); wait for it to end, or choose another folder");
    throw InputError(detail::concat(who, " ", folder, ": cannot lock '", path, "': ", std::strerror(error)));
  }
  const std::string me = this_process() + "\n";
  // Best effort: the lock holds either way; the text only names the holder.
  [[maybe_unused]] const bool named =
      ::ftruncate(fd, 0) == 0 && ::pwrite(fd, me.data(), me.size(), 0) == static_cast<ssize_t>(me.size());
  fd_ = fd;
}

FolderLock::FolderLock(FolderLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

FolderLock& FolderLock::operator=(FolderLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

FolderLock::~FolderLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the last descriptor releases the flock
}

}  // namespace fluxion
