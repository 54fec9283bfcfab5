// The trainer tests' common check that a run resumes exactly: trained whole,
// and trained part-way then resumed, both runs end with the same checkpoint
// tensors (weights, optimizer state, EMA), the same schedule state and the
// same metrics lines apart from their timings, bit for bit.
#pragma once

#include <doctest/doctest.h>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "train/checkpoint.h"
#include "train/trainer.h"

namespace test {

/// The lines of a run folder's metrics.jsonl, parsed.
inline std::vector<nlohmann::json> metrics_jsonl(const std::string& run_dir) {
  std::vector<nlohmann::json> lines;
  std::ifstream in(run_dir + "/metrics.jsonl");
  std::string line;
  while (std::getline(in, line)) lines.push_back(nlohmann::json::parse(line));
  return lines;
}

struct ResumedRuns {
  std::string split_dir;                 ///< whole.out_dir + "-split": trained part-way, then resumed
  fluxion::train::TrainResult resumed;   ///< the resumed part's result
  std::vector<nlohmann::json> lines;     ///< the whole run's metrics lines (equal to the split run's)
};

/// Trains `whole` uninterrupted, then again in whole.out_dir + "-split" for
/// `first_epochs` and resumed (from its config.json, as `--resume` does) up to
/// whole.epochs, both with `options` (their log discarded), and checks that
/// the two runs ended alike, bit for bit.
inline ResumedRuns check_resume_bit_exact(const fluxion::train::TrainConfig& whole, std::int64_t first_epochs,
                                          fluxion::train::TrainOptions options = {}) {
  using namespace fluxion;
  std::ostringstream sink;
  options.log = &sink;
  options.resume = false;
  train::run_training(whole, options);
  train::TrainConfig first = whole;
  first.out_dir = whole.out_dir + "-split";
  first.epochs = first_epochs;
  train::run_training(first, options);
  train::TrainConfig rest = train::read_run_config(first.out_dir);
  rest.epochs = whole.epochs;
  options.resume = true;
  ResumedRuns runs{first.out_dir, train::run_training(rest, options), {}};
  CHECK(runs.resumed.history.size() == static_cast<std::size_t>(whole.epochs - first_epochs));

  const std::string a_file = whole.out_dir + "/last.safetensors", b_file = first.out_dir + "/last.safetensors";
  const TensorMap a = load_safetensors(a_file).tensors, b = load_safetensors(b_file).tensors;
  REQUIRE(a.size() == b.size());
  for (const auto& [name, t] : a) {
    CAPTURE(name);
    REQUIRE(b.count(name) == 1);
    CHECK(t.to_vector<double>() == b.at(name).to_vector<double>());  // exact
  }
  CHECK(train::read_checkpoint_info(a_file).schedule_state == train::read_checkpoint_info(b_file).schedule_state);
  runs.lines = metrics_jsonl(whole.out_dir);
  std::vector<nlohmann::json> split_lines = metrics_jsonl(first.out_dir);
  REQUIRE(runs.lines.size() == static_cast<std::size_t>(whole.epochs));
  REQUIRE(split_lines.size() == runs.lines.size());
  for (std::size_t e = 0; e < runs.lines.size(); ++e) {
    nlohmann::json x = runs.lines[e], y = split_lines[e];
    for (const char* timing : {"images_per_s", "seconds"}) x.erase(timing), y.erase(timing);
    CAPTURE(e);
    CHECK(x == y);
  }
  return runs;
}

}  // namespace test
