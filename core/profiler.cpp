#include "core/profiler.h"

#include <algorithm>
#include <chrono>
#include <map>

#include "core/error.h"

namespace fluxion::profiler {
namespace {

using Clock = std::chrono::steady_clock;

struct Frame {
  std::map<std::string, Entry, std::less<>>::iterator entry;
  Clock::time_point begin;
  double nested_seconds = 0.0;  // time of the scopes opened inside this one
};

// Each thread records its own (only the thread that called start() does).
thread_local std::map<std::string, Entry, std::less<>> totals;
thread_local std::vector<Frame> stack;

thread_local bool recording_here = false;
thread_local double total_multiply_adds = 0.0;

}  // namespace

namespace detail {

void enter(std::string_view name) {
  auto it = totals.find(name);
  if (it == totals.end()) it = totals.emplace(std::string(name), Entry{std::string(name), 0.0, 0, 0.0}).first;
  stack.push_back(Frame{it, Clock::now(), 0.0});
}

void leave() {
  if (stack.empty()) return;
  const Frame frame = stack.back();
  stack.pop_back();
  const double seconds = std::chrono::duration<double>(Clock::now() - frame.begin).count();
  frame.entry->second.seconds += seconds - frame.nested_seconds;
  frame.entry->second.calls += 1;
  if (!stack.empty()) stack.back().nested_seconds += seconds;
}

}  // namespace detail

void start() {
  FLUXION_CHECK(stack.empty(), "profiler::start: a profiled scope is still open on this thread");
  totals.clear();
  stack.clear();
  total_multiply_adds = 0.0;
  recording_here = true;
}

void stop() { recording_here = false; }

bool recording() { return recording_here; }

void add_multiply_adds(double count) {
  if (!recording_here) return;
  total_multiply_adds += count;
  if (!stack.empty()) stack.back().entry->second.multiply_adds += count;
}

double multiply_adds() { return total_multiply_adds; }

std::vector<Entry> entries() {
  std::vector<Entry> out;
  for (const auto& [name, entry] : totals) out.push_back(entry);
  std::sort(out.begin(), out.end(), [](const Entry& a, const Entry& b) { return a.seconds > b.seconds; });
  return out;
}

}  // namespace fluxion::profiler
