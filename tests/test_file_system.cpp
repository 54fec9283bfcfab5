// The folder lock that keeps two processes off one run (core/folder_lock.h),
// lookups of paths the system refuses (core/path_check.h), and running out of
// memory as an error that says how much (core/storage.cpp).
#include <doctest/doctest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "core/folder_lock.h"
#include "core/path_check.h"
#include "core/storage.h"
#include "helpers.h"

using namespace fluxion;
namespace fs = std::filesystem;

TEST_CASE("folder lock: a second claim is refused naming the holder, and released with the first") {
  test::TempDir dir;
  {
    const FolderLock first(dir.path.string(), "--out");
    CHECK(first.held());
    // flock locks belong to an open file description: a second open in this
    // very process conflicts, as another process's would.
    const std::string message = test::error_message<InputError>([&] { FolderLock(dir.path.string(), "--out"); });
    CHECK_MESSAGE(message.find("--out " + dir.path.string() + ": another process (pid " + std::to_string(::getpid()) +
                               " on host ") != std::string::npos,
                  message);
    CHECK_MESSAGE(message.find("wait for it to end, or choose another folder") != std::string::npos, message);
  }
  // Released by the first one's end; the file stays (see folder_lock.h).
  CHECK(fs::exists(dir.path / kFolderLockName));
  FolderLock again(dir.path.string(), "--out");
  CHECK(again.held());
  FolderLock moved = std::move(again);
  CHECK(moved.held());
  CHECK_FALSE(again.held());
  CHECK(test::error_message<InputError>([&] { FolderLock((dir.path / "absent").string(), "--resume"); })
            .find("--resume " + (dir.path / "absent").string() + ": cannot create the lock file") != std::string::npos);
}

TEST_CASE("path checks: a loop of symbolic links or a name too long is an InputError naming the path") {
  test::TempDir dir;
  fs::create_symlink(dir.path / "b", dir.path / "a");
  fs::create_symlink(dir.path / "a", dir.path / "b");
  const std::string loop = test::error_message<InputError>([&] { path_exists(dir.path / "a", "--data-dir"); });
  CHECK_MESSAGE(loop.find("--data-dir: cannot look up '" + (dir.path / "a").string() + "': ") != std::string::npos, loop);
  CHECK(test::error_message<InputError>([&] { is_folder(dir.path / std::string(300, 'x'), "--out"); })
            .find("--out: cannot look up") != std::string::npos);
  // Absent is an answer, not an error, also below a file.
  CHECK_FALSE(path_exists(dir.path / "absent", "--out"));
  std::ofstream(dir.path / "file") << "x";
  CHECK_FALSE(path_exists(dir.path / "file" / "below", "--out"));
  CHECK(path_exists(dir.path / "file", "--out"));
  CHECK_FALSE(is_folder(dir.path / "file", "--out"));
  CHECK(is_folder(dir.path, "--out"));
}

TEST_CASE("storage: memory that cannot be had is an OutOfMemory error saying how much and where") {
  // Larger than any machine's: refused before the system is asked (the
  // allocator's rounding would wrap), so also under ASan.
  const std::string message = test::error_message<OutOfMemory>([] { Storage(SIZE_MAX - 100, Device::cpu()); });
  CHECK_MESSAGE(message.find("out of memory: a tensor of ") == 0, message);
  CHECK_MESSAGE(message.find(" MiB on cpu could not be allocated") != std::string::npos, message);
}
