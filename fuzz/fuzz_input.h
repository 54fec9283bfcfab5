// What every fuzz target shares. Fluxion's readers take paths, so a target
// writes the fuzzer's bytes to files in a scratch folder of its own, then
// calls the reader. The rule each target checks: for any bytes a reader
// either succeeds or throws fluxion::InputError (a message naming the file
// and the problem, exit code 2 in the CLI). Anything else is a finding: a
// crash, a sanitizer report, a hang or a leak (libFuzzer and ASan catch
// those), or any other exception, which escapes and aborts the run.
//
// Built two ways (fuzz/CMakeLists.txt): with clang's libFuzzer for real
// fuzzing (the `fuzz` preset, scripts/fuzz.sh), and everywhere else with
// replay_main.cpp, which runs the committed corpus (fuzz/corpus/TARGET) as a
// CTest test, under ASan + UBSan in the `asan` preset.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/error.h"

namespace fluxion::fuzz {

// A folder for this process's files, made at the first call and removed at
// exit. The path is never destroyed, so the exit handler (which may run after
// function-local statics are gone) can still read it.
inline const std::filesystem::path& scratch_dir() {
  static const std::filesystem::path* const dir = [] {
    auto* d = new std::filesystem::path(std::filesystem::temp_directory_path() /
                                        ("fluxion_fuzz_" + std::to_string(::getpid())));
    std::filesystem::create_directories(*d);
    std::atexit([] {
      std::error_code ignored;
      std::filesystem::remove_all(scratch_dir(), ignored);
    });
    return d;
  }();
  return *dir;
}

// Writes size bytes to scratch_dir()/name (sub-folders made as needed) and returns the path.
inline std::string write_input(const std::string& name, const std::uint8_t* data, std::size_t size) {
  const std::filesystem::path path = scratch_dir() / name;
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  return path.string();
}

// Runs f; an InputError is the reader doing its job.
template <class F>
void expect_input_errors_only(F&& f) {
  try {
    f();
  } catch (const InputError&) {
  }
}

// The first 4 bytes, little-endian, as a length (for splitting one input into two files).
inline std::size_t le32(const std::uint8_t* data) {
  return std::size_t{data[0]} | std::size_t{data[1]} << 8 | std::size_t{data[2]} << 16 | std::size_t{data[3]} << 24;
}

}  // namespace fluxion::fuzz
