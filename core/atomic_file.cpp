#include "core/atomic_file.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <filesystem>
#include <system_error>

#include "core/error.h"

namespace fluxion {
namespace {

std::string errno_text(int err) { return std::system_category().message(err); }

// The rename itself lives in the folder; until the folder is synced a crash
// may bring back the old file.
void sync_directory_of(const std::string& path, const std::string& who) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  const std::string dir = parent.empty() ? std::string(".") : parent.string();
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  FLUXION_CHECK_INPUT(fd >= 0, who, ": '", path, "': cannot open folder '", dir, "' to sync it: ", errno_text(errno));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  FLUXION_CHECK_INPUT(rc == 0, who, ": '", path, "': cannot sync folder '", dir, "': ", errno_text(err));
}

// This machine's name as it appears in temporary files: letters, digits and
// '-' only, so the name splits at its dots.
const std::string& host_tag() {
  static const std::string tag = [] {
    char name[256] = {};
    if (::gethostname(name, sizeof name - 1) != 0 || !name[0]) return std::string("host");
    std::string t(name);
    for (char& c : t)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') c = '-';
    return t;
  }();
  return tag;
}

// The writer's pid when `name` is "<target>.tmp.<host>.<pid>.<n>" written on
// this machine, else 0 (not a temporary, or another machine's: its process
// cannot be asked about from here).
pid_t temporary_file_pid(const std::string& name) {
  const std::size_t tmp = name.rfind(".tmp.");
  if (tmp == std::string::npos || tmp == 0) return 0;
  const std::string rest = name.substr(tmp + 5);  // host.pid.n
  const std::size_t a = rest.find('.'), b = a == std::string::npos ? a : rest.find('.', a + 1);
  if (b == std::string::npos || rest.substr(0, a) != host_tag()) return 0;
  const std::string pid = rest.substr(a + 1, b - a - 1), n = rest.substr(b + 1);
  auto digits = [](const std::string& t) {
    return !t.empty() && t.size() <= 9 && std::all_of(t.begin(), t.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  return digits(pid) && digits(n) ? static_cast<pid_t>(std::stol(pid)) : 0;
}

}  // namespace

AtomicFile::AtomicFile(std::string path, std::string who) : path_(std::move(path)), who_(std::move(who)) {
  // Machine, pid and a per-process counter: two writes of one path, from two
  // machines (a shared file system), processes or threads, never share a
  // temporary file.
  static std::atomic<std::uint64_t> count{0};
  tmp_path_ = path_ + ".tmp." + host_tag() + "." + std::to_string(::getpid()) + "." + std::to_string(count++);
  fd_ = ::open(tmp_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  FLUXION_CHECK_INPUT(fd_ >= 0, who_, ": cannot write '", path_, "': cannot create '", tmp_path_, "': ", errno_text(errno));
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) ::unlink(tmp_path_.c_str());
}

void AtomicFile::write(const void* data, std::size_t size) {
  // write() may write less than asked (signals; a full disk reports ENOSPC
  // only on the next call), so loop until everything is out.
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd_, p, size);
    if (n < 0 && errno == EINTR) continue;
    FLUXION_CHECK_INPUT(n > 0, who_, ": cannot write '", path_, "' (writing '", tmp_path_,
                  "'): ", errno_text(n < 0 ? errno : EIO));
    p += n;
    size -= static_cast<std::size_t>(n);
  }
}

void AtomicFile::commit() {
  // fsync before rename: otherwise the rename can reach the disk before the
  // data, and a crash leaves an empty or partial file under the final name.
  FLUXION_CHECK_INPUT(::fsync(fd_) == 0, who_, ": cannot write '", path_, "' (syncing '", tmp_path_,
                "'): ", errno_text(errno));
  const int rc = ::close(fd_);  // on NFS, close is where a failed write shows
  fd_ = -1;
  FLUXION_CHECK_INPUT(rc == 0, who_, ": cannot write '", path_, "' (closing '", tmp_path_, "'): ", errno_text(errno));
  FLUXION_CHECK_INPUT(::rename(tmp_path_.c_str(), path_.c_str()) == 0, who_, ": cannot rename '", tmp_path_, "' to '",
                path_, "': ", errno_text(errno));
  committed_ = true;
  sync_directory_of(path_, who_);
}

void write_file_atomically(const std::string& path, std::string_view bytes, const std::string& who) {
  AtomicFile file(path, who);
  file.write(bytes.data(), bytes.size());
  file.commit();
}

std::vector<std::string> remove_stale_temporaries(const std::string& dir) {
  std::vector<std::string> removed;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    const pid_t pid = temporary_file_pid(name);
    // kill(pid, 0) sends nothing; ESRCH says no such process exists.
    if (pid <= 0 || pid == ::getpid() || ::kill(pid, 0) == 0 || errno != ESRCH) continue;
    std::error_code ignored;
    if (std::filesystem::remove(entry.path(), ignored)) removed.push_back(name);
  }
  return removed;
}

}  // namespace fluxion
