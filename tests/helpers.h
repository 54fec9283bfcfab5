// Shared helpers for the Fluxion test suite: element-wise comparison of a
// tensor with expected values, deterministic input makers (contiguous and
// non-contiguous layouts), and a way to run code that may crash in a child
// process so that one crashing library bug does not take the suite down.
//
// Test case names become CTest names through doctest_discover_tests: they must
// not contain '[', ']' or ';' (CMake list syntax), or ctest breaks.
#pragma once

#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <numeric>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "fluxion.h"

namespace test {

using namespace fluxion;

// A fresh directory under the system temp dir, removed with everything in it
// when the test ends (also when it fails).
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    static std::atomic<int> counter{0};
    path = std::filesystem::temp_directory_path() /
           ("fluxion_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

// CIFAR-10's six binary files with `per_file` random records each (labels
// cycle through the classes, pixels depend on the label so there is
// something to learn).
inline void write_cifar10(const std::filesystem::path& dir, int per_file) {
  std::filesystem::create_directories(dir);
  Generator gen(5);
  const char* names[] = {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
                         "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"};
  for (const char* name : names) {
    std::ofstream out(dir / name, std::ios::binary);
    for (int r = 0; r < per_file; ++r) {
      const auto label = static_cast<unsigned char>(r % 10);
      out.put(static_cast<char>(label));
      for (int i = 0; i < 3072; ++i)
        out.put(static_cast<char>(static_cast<int>(gen.uniform() * 128) + (i % 3 == label % 3 ? 100 : 0)));
    }
  }
}

// The outcome of comparing a tensor with expected values: ok, or the first
// mismatching element, for CHECK_MESSAGE.
struct Comparison {
  bool ok = true;
  std::string message;
  explicit operator bool() const { return ok; }
};

// Elements match when |actual - expected| <= tol * max(1, |expected|) (a
// relative tolerance for large values, an absolute one near zero). NaN matches
// only NaN; infinities match only the same infinity. The element count must
// match too.
inline Comparison compare(const Tensor& t, const std::vector<double>& expected, double tol = 1e-12) {
  Comparison c;
  const std::vector<double> actual = t.to_vector<double>();
  if (actual.size() != expected.size()) {
    c.ok = false;
    c.message = "element count " + std::to_string(actual.size()) + " != expected " + std::to_string(expected.size()) +
                " (shape " + to_string(t.shape()) + ")";
    return c;
  }
  for (std::size_t i = 0; i < actual.size(); ++i) {
    const double a = actual[i], e = expected[i];
    bool same;
    if (std::isnan(e)) same = std::isnan(a);
    else if (std::isinf(e)) same = a == e;
    else same = std::fabs(a - e) <= tol * std::max(1.0, std::fabs(e));
    if (!same) {
      std::ostringstream s;
      s.precision(17);
      s << "element " << i << " of shape " << to_string(t.shape()) << ": got " << a << ", expected " << e
        << " (tol " << tol << ")";
      c.ok = false;
      c.message = s.str();
      return c;
    }
  }
  return c;
}

inline bool approx_equal(const Tensor& t, const std::vector<double>& expected, double tol = 1e-12) {
  return compare(t, expected, tol).ok;
}

inline std::vector<double> values(const Tensor& t) { return t.to_vector<double>(); }

// The message of the E (an Error, or InputError for the user's mistakes) that
// `body` throws; a message saying otherwise when it throws something else or
// nothing, so a CHECK on the text fails and shows why.
template <class E = Error>
std::string error_message(const std::function<void()>& body) {
  try {
    body();
  } catch (const E& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("(expected an ") + (std::is_same_v<E, InputError> ? "InputError" : "Error") +
           ", got another exception: " + e.what() + ")";
  }
  return "(nothing was thrown)";
}

}  // namespace test

// CHECK that tensor `t` holds `expected` (row-major) within `tol`, reporting
// the first mismatch.
#define CHECK_TENSOR(t, expected, tol)                                   \
  do {                                                                   \
    const ::test::Comparison check_tensor_result_ = ::test::compare((t), (expected), (tol)); \
    CHECK_MESSAGE(check_tensor_result_.ok, check_tensor_result_.message); \
  } while (0)

namespace test {

// --- deterministic inputs ------------------------------------------------------

// How many values an input maker must produce, and the generator to draw them from.
using ValueMaker = std::function<std::vector<double>(std::int64_t count, Generator& gen)>;

inline std::vector<double> normal_values(std::int64_t count, Generator& gen) {
  std::vector<double> v(static_cast<std::size_t>(count));
  for (auto& x : v) x = gen.normal();
  return v;
}

// In [0.5, 2.5): safe for log, sqrt, pow with any exponent, division.
inline std::vector<double> positive_values(std::int64_t count, Generator& gen) {
  std::vector<double> v(static_cast<std::size_t>(count));
  for (auto& x : v) x = 0.5 + 2.0 * gen.uniform();
  return v;
}

// |x| in [0.3, 1.8), random sign: away from the kinks of abs and relu at 0.
inline std::vector<double> nonzero_values(std::int64_t count, Generator& gen) {
  std::vector<double> v(static_cast<std::size_t>(count));
  for (auto& x : v) {
    const double magnitude = 0.3 + 1.5 * gen.uniform();
    x = gen.uniform() < 0.5 ? -magnitude : magnitude;
  }
  return v;
}

// Distinct values at least 0.1 apart, in a random order: no ties for max, and
// no finite-difference step (<= 2e-4) can change which element is largest.
inline std::vector<double> distinct_values(std::int64_t count, Generator& gen) {
  std::vector<double> v(static_cast<std::size_t>(count));
  for (std::int64_t i = 0; i < count; ++i) v[static_cast<std::size_t>(i)] = 0.1 * static_cast<double>(i) - 1.0;
  for (std::int64_t i = count - 1; i > 0; --i) {  // Fisher-Yates with the test's generator
    const auto j = static_cast<std::int64_t>(gen.next_u64() % static_cast<std::uint64_t>(i + 1));
    std::swap(v[static_cast<std::size_t>(i)], v[static_cast<std::size_t>(j)]);
  }
  return v;
}

// Memory layouts for test inputs.
enum class Layout {
  contiguous,  // a fresh row-major tensor
  permuted,    // allocated with the dims reversed, then permuted back: transposed strides
  strided,     // every dim sliced with step 2 from offset 1 out of a larger tensor
};

inline const char* layout_name(Layout layout) {
  switch (layout) {
    case Layout::contiguous: return "contiguous";
    case Layout::permuted: return "permuted";
    case Layout::strided: return "strided";
  }
  return "?";
}

// A tensor of `shape` and dtype holding `vals` (row-major), laid out as
// `layout`. For the non-contiguous layouts the elements of the underlying
// storage that the view does not cover are NaN, so a kernel that reads outside
// the view produces NaN and fails its check.
inline Tensor make_tensor(const std::vector<double>& vals, const Shape& shape, Layout layout,
                          DType dtype = kFloat64) {
  Tensor src = tensor(vals, shape, dtype);
  if (layout == Layout::contiguous) return src;
  NoGradGuard no_grad;
  Tensor view;
  const std::int64_t nd = static_cast<std::int64_t>(shape.size());
  if (layout == Layout::permuted) {
    Shape reversed(shape.rbegin(), shape.rend());
    Tensor base = full(reversed, std::nan(""), dtype);
    std::vector<std::int64_t> dims(static_cast<std::size_t>(nd));
    std::iota(dims.rbegin(), dims.rend(), 0);  // nd-1, ..., 0
    if (nd == 0) return make_tensor(vals, shape, Layout::strided, dtype);
    view = base.permute(dims);
    if (view.is_contiguous()) {
      // Reversing a shape with at most one non-1 dim changes nothing: use a
      // strided view instead so this layout is never contiguous by accident.
      return make_tensor(vals, shape, Layout::strided, dtype);
    }
  } else {
    Shape big = shape;
    for (auto& s : big) s = 2 * s + 1;
    if (nd == 0) {
      // A 0-d tensor cannot have strides; give it a non-zero offset instead.
      Tensor base = full({3}, std::nan(""), dtype);
      view = base.select(0, 1);
    } else {
      view = full(big, std::nan(""), dtype);
      for (std::int64_t d = 0; d < nd; ++d) view = view.slice(d, 1, 2 * shape[static_cast<std::size_t>(d)] + 1, 2);
    }
  }
  view.copy_(src);
  return view.detach();
}

// A float64 leaf that requires grad, with values from `maker` drawn from `gen`.
inline Tensor make_leaf(const Shape& shape, Layout layout, Generator& gen, const ValueMaker& maker = normal_values) {
  Tensor t = make_tensor(maker(numel(shape), gen), shape, layout, kFloat64);
  t.requires_grad_(true);
  return t;
}

// Row-major multi-index helpers for reference loops.
inline std::int64_t flat_index(const Shape& shape, const std::vector<std::int64_t>& index) {
  std::int64_t flat = 0;
  for (std::size_t d = 0; d < shape.size(); ++d) flat = flat * shape[d] + index[d];
  return flat;
}

// --- crash isolation ------------------------------------------------------------

// Runs `body` in a forked child process and returns its exit status: body's
// return value, 100 if it threw a fluxion::Error, 101 for any other exception,
// or 128 + signal number if it crashed. Used for library bugs that crash, so
// the test fails without aborting the whole suite. `body` must stay small
// (serial kernels only: a forked child cannot use the parent's OpenMP pool).
inline int run_isolated(const std::function<int()>& body) {
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    // doctest's crash handlers would report the child's crash as the whole
    // suite's; let a crash simply kill the child.
    for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) std::signal(sig, SIG_DFL);
    int rc;
    try {
      rc = body();
    } catch (const fluxion::Error&) {
      rc = 100;
    } catch (...) {
      rc = 101;
    }
    std::fflush(stdout);
    std::fflush(stderr);
    _exit(rc);
  }
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return -1;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// Human-readable description of a run_isolated status.
inline std::string describe_status(int status) {
  if (status == 0) return "ok";
  if (status == 100) return "threw fluxion::Error";
  if (status == 101) return "threw a non-fluxion exception";
  if (status > 128) return "crashed with signal " + std::to_string(status - 128);
  return "exited with status " + std::to_string(status);
}

// Restores the thread count when a test that changes it ends (even on failure).
struct ThreadCountGuard {
  int saved = get_num_threads();
  ~ThreadCountGuard() { set_num_threads(saved); }
};

}  // namespace test
