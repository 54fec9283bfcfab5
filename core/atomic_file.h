//! @file
//! Files that are never seen half-written. Bytes go to "<path>.tmp.<host>.<pid>.<n>"
//! in the destination's folder; commit() flushes them to disk (fsync), renames
//! the temporary over `path` and syncs the folder. A crash at any point leaves
//! the old file or the whole new one; a failure before commit() removes the
//! temporary. Checkpoints, metrics and plots are all written this way.
//! Every failure (no such folder, read-only, disk full, ...) throws
//! InputError naming the file and the system's reason: the output folder is
//! the user's to fix, and the CLI exits 2.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace fluxion {

class AtomicFile {
 public:
  /// `who` prefixes error messages ("save_safetensors"). Throws InputError naming
  /// the path when the temporary file cannot be created.
  AtomicFile(std::string path, std::string who);
  ~AtomicFile();  ///< removes the temporary unless committed
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, std::size_t size);
  void commit();

 private:
  std::string path_, tmp_path_, who_;
  int fd_ = -1;
  bool committed_ = false;
};

/// The whole of `bytes` as `path`, atomically.
void write_file_atomically(const std::string& path, std::string_view bytes, const std::string& who);

/// A process killed mid-write (SIGKILL, power loss) leaves its temporary
/// "<name>.tmp.<host>.<pid>.<n>" behind; nothing reads it. Removes those in
/// `dir` that this machine wrote and whose process is gone; a live pid (this
/// one's or another writer's) and other machines' files (on a shared file
/// system, where their pids mean nothing here) are left alone. Returns the
/// names removed. Errors are ignored: this is tidying.
std::vector<std::string> remove_stale_temporaries(const std::string& dir);

}  // namespace fluxion
