//! @file
//! An exclusive claim on a folder for as long as its holder lives: a
//! `flock` on FOLDER/.lock. The kernel drops the lock when the process exits
//! or is killed, so a dead holder never leaves a stale claim. The file stays
//! behind (removing it would let a third process lock a fresh file while a
//! second still holds the old one); it names the holder's pid and host for
//! the message that refuses the next claimant. A training run holds its
//! --out folder this way, so two processes never write one run.
#pragma once

#include <string>

namespace fluxion {

/// The lock file's name inside a locked folder.
inline constexpr const char* kFolderLockName = ".lock";

class FolderLock {
 public:
  FolderLock() = default;  ///< holds nothing
  /// Locks `folder`, which exists, or throws InputError that starts with
  /// `who` (the flag that named the folder, say) and names the holder's pid
  /// and host when another process holds it, or the system's reason.
  FolderLock(const std::string& folder, const std::string& who);
  FolderLock(FolderLock&& other) noexcept;
  FolderLock& operator=(FolderLock&& other) noexcept;
  FolderLock(const FolderLock&) = delete;
  FolderLock& operator=(const FolderLock&) = delete;
  ~FolderLock();  ///< releases the lock

  bool held() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

}  // namespace fluxion
