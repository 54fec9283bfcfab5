// `fluxion lr-find`: Smith's learning-rate range test (train/lr_find.h) on
// the model, data and optimizer that `fluxion train`'s flags name, into a
// folder of its own: lr_find.csv (the curve), lr_find.json (the settings and
// the suggestions with their rules) and lr_find.svg (the loss against the lr
// on a log axis, the suggestion marked). No weights are saved and no run
// folder of train is touched.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <iterator>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "apps/commands.h"
#include "apps/config_flags.h"
#include "apps/flag_checks.h"
#include "core/atomic_file.h"
#include "core/version.h"
#include "plot/svg_plot.h"
#include "train/lr_find.h"

namespace fluxion::apps {
namespace fs = std::filesystem;
namespace {

struct LrFindFlags {
  ConfigFlags config;
  train::LrFindOptions sweep;
  std::string out;
};

// TrainConfig's rows that the sweep applies (train::lr_find): the model,
// the data and the optimizer. A list of those used rather than of those
// not, so that a setting added later (to the training loop) is not a flag
// lr-find would accept and ignore.
bool sweep_uses(std::string_view key) {
  static const std::set<std::string_view> used = {
      "model",     "dataset", "data_dir", "optimizer", "optimizer_options", "batch_size",     "seed",
      "threads",   "device",  "subset",   "augment",   "image_size",        "channels",       "mean",
      "std",       "image_cache_mb",     "skip_bad_images", "workers"};
  return used.count(key) > 0;
}

const std::set<std::string>& output_names() {
  static const std::set<std::string> names = {"lr_find.csv", "lr_find.json", "lr_find.svg"};
  return names;
}

std::string format(const char* pattern, double x) {
  char text[64];
  std::snprintf(text, sizeof text, pattern, x);
  return text;
}

// A fresh folder runs/lr-find-DATASET-MODEL-OPTIMIZER (or -2, -3, ...),
// claimed by creating it, as fluxion train claims its own.
std::string fresh_out_dir(const train::TrainConfig& c) {
  const std::string base = "runs/lr-find-" + c.dataset + "-" + c.model + "-" + c.optimizer;
  std::error_code error;
  fs::create_directories("runs", error);
  FLUXION_CHECK_INPUT(!error, "cannot create the folder runs/ for lr-find: ", error.message());
  for (int i = 1;; ++i) {
    const std::string dir = i == 1 ? base : base + "-" + std::to_string(i);
    if (fs::create_directory(dir, error)) return dir;
    FLUXION_CHECK_INPUT(!error, "cannot create ", dir, ": ", error.message());
  }
}

// --out DIR: made if missing; else it must be empty or hold only an earlier
// lr-find's files (and temporaries a killed one left), which are replaced.
// Returns whether an earlier lr-find is there.
bool claim_out_dir(const std::string& out) {
  std::error_code error;
  fs::create_directories(out, error);
  FLUXION_CHECK_INPUT(!error && fs::is_directory(out), "--out ", out, ": cannot create the folder",
                      error ? ": " + error.message() : std::string(" (a file of that name is there)"));
  bool earlier = false;
  for (const fs::directory_entry& entry : fs::directory_iterator(out)) {
    const std::string name = entry.path().filename().string();
    const bool ours = output_names().count(name) > 0;
    FLUXION_CHECK_INPUT(ours || name.find(".tmp.") != std::string::npos, "--out ", out, ": '", entry.path().string(),
                        "' is there, and lr-find writes only into an empty folder or one of an earlier lr-find; "
                        "choose another --out (or remove what is there)");
    earlier |= ours;
  }
  return earlier;
}

std::string csv_text(const train::LrFindResult& r, const std::string& param) {
  std::string text = "step," + param + ",loss,smoothed_loss\n";
  for (const train::LrFindPoint& p : r.points) {
    char row[160];
    std::snprintf(row, sizeof row, "%lld,%.17g,%.17g,%.17g\n", static_cast<long long>(p.step), p.lr, p.loss,
                  p.smoothed_loss);
    text += row;
  }
  return text;
}

nlohmann::json suggestion_json(const std::optional<train::LrSuggestion>& s, const char* rule, bool slope) {
  if (!s) return {{"lr", nullptr}, {"rule", rule}};
  nlohmann::json j = {{"lr", s->lr}, {"step", s->step}, {"rule", rule}};
  if (slope) j["slope_per_decade"] = s->slope;
  return j;
}

nlohmann::json json_record(const train::TrainConfig& c, const train::LrFindOptions& o, const train::LrFindResult& r) {
  nlohmann::json config = train::to_json(c);
  for (auto it = config.begin(); it != config.end();) it = sweep_uses(it.key()) ? std::next(it) : config.erase(it);
  config["optimizer_options"] = r.held;
  return {{"command", "fluxion lr-find"},
          {"fluxion_version", version()},
          {"git_commit", git_commit()},
          {"config", config},
          {"sweep",
           {{"param", o.param},
            {"start_lr", o.start_lr},
            {"end_lr", o.end_lr},
            {"steps", o.steps},
            {"smooth", o.smooth},
            {"diverge", o.diverge}}},
          {"steps_taken", r.points.size()},
          {"stopped", r.stopped},
          {"suggestion", suggestion_json(r.steepest, train::kSteepestRule, true)},
          {"minimum_over_10", suggestion_json(r.minimum, train::kMinimumRule, false)},
          {"seconds", r.seconds}};
}

// A vertical dashed line at x over the plotted loss range.
plot::Series marker(const std::string& label, double x, double low, double high, const std::string& color) {
  return {.label = label, .x = {x, x}, .y = {low, high}, .color = color, .dashed = true};
}

std::string svg_text(const train::TrainConfig& c, const train::LrFindOptions& o, const train::LrFindResult& r) {
  plot::Panel panel{.title = "lr range test: " + c.model + " on " + c.dataset + ", " + c.optimizer,
                    .x = {.label = o.param + " (log scale)", .log = true},
                    .y = {.label = "training loss"}};
  plot::Series raw{.label = "loss", .color = "#aec7e8"}, smoothed{.label = "smoothed loss", .color = "#1f77b4"};
  double low = INFINITY, high = -INFINITY;
  for (const train::LrFindPoint& p : r.points) {
    raw.x.push_back(p.lr), raw.y.push_back(p.loss);
    smoothed.x.push_back(p.lr), smoothed.y.push_back(p.smoothed_loss);
    if (std::isfinite(p.loss)) low = std::min(low, p.loss);
    if (std::isfinite(p.smoothed_loss)) low = std::min(low, p.smoothed_loss), high = std::max(high, p.smoothed_loss);
  }
  // The smoothed curve's range: the raw losses of a diverging sweep would
  // squash it flat.
  if (high > low) panel.y.max = high;
  panel.series = {raw, smoothed};
  if (high > low && r.steepest)
    panel.series.push_back(marker("steepest descent " + format("%.2g", r.steepest->lr), r.steepest->lr, low, high,
                                  "#d62728"));
  if (high > low && r.minimum)
    panel.series.push_back(marker("minimum / 10 " + format("%.2g", r.minimum->lr), r.minimum->lr, low, high,
                                  "#2ca02c"));
  return plot::render_svg({panel}, {.panel_width = 640, .panel_height = 420});
}

void print_result(const train::LrFindOptions& o, const train::LrFindResult& r, const std::string& out) {
  const std::string last = r.points.empty() ? "" : format("%.3g", r.points.back().lr);
  std::cout << "fluxion lr-find: " << r.points.size() << " of " << o.steps << " steps in "
            << format("%.1f", r.seconds) << " s; "
            << (r.stopped == "completed" ? "the sweep reached --end-lr"
                : r.stopped == "diverged"
                    ? "stopped at " + o.param + " " + last + ": the smoothed loss exceeded --diverge " +
                          format("%g", o.diverge) + " x its best"
                    : "stopped at " + o.param + " " + last + ": the loss became NaN or infinite")
            << "\n";
  if (r.steepest)
    std::cout << "suggested " << o.param << " " << format("%.3g", r.steepest->lr) << " (rule: "
              << train::kSteepestRule << ")\n";
  else
    std::cout << "no suggestion by steepest descent: the smoothed loss never fell; try a lower --start-lr\n";
  if (r.minimum)
    std::cout << "minimum / 10: " << o.param << " " << format("%.3g", r.minimum->lr) << " (rule: "
              << train::kMinimumRule << ")\n";
  std::cout << "written: " << out << "/lr_find.csv, lr_find.json, lr_find.svg\n";
}

void run(CLI::App* cmd, LrFindFlags& f) {
  train::TrainConfig c;
  apply_given_flags(cmd, f.config, c);
  train::validate(c);
  train::validate(f.sweep, c);
  // The swept option comes from --start-lr and --end-lr; its own flag would be ignored.
  const std::string swept_flag = f.sweep.param == "lr" ? "--lr" : "--sgd-lr";
  FLUXION_CHECK_INPUT(!given(cmd, swept_flag), swept_flag, ": lr-find sweeps ", f.sweep.param,
                      " from --start-lr to --end-lr; leave ", swept_flag, " out");
  const bool fresh = f.out.empty();
  const std::string out = fresh ? fresh_out_dir(c) : f.out;
  try {
    if (!fresh && claim_out_dir(out)) std::cout << "replacing the earlier lr-find in " << out << "\n";
    const train::LrFindResult r = train::lr_find(c, f.sweep);
    const fs::path dir(out);
    write_file_atomically((dir / "lr_find.csv").string(), csv_text(r, f.sweep.param), "fluxion lr-find");
    write_file_atomically((dir / "lr_find.json").string(), json_record(c, f.sweep, r).dump(2) + "\n",
                          "fluxion lr-find");
    plot::write_svg_file((dir / "lr_find.svg").string(), svg_text(c, f.sweep, r));
    print_result(f.sweep, r, out);
  } catch (...) {
    // A folder made for this sweep and left empty (a wrong --data-dir, say)
    // goes again; remove() leaves a folder with files.
    std::error_code ignored;
    if (fresh) fs::remove(out, ignored);
    throw;
  }
}

}  // namespace

void add_lr_find_command(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand(
      "lr-find", "Learning-rate range test (Smith): sweep the lr exponentially over a few steps, plot the loss, "
                 "suggest an lr");
  auto f = std::make_shared<LrFindFlags>();
  add_config_flags(cmd, f->config, sweep_uses);
  train::LrFindOptions& s = f->sweep;
  cmd->add_option("--start-lr", s.start_lr, "The swept value at the first step")
      ->check(positive_number)
      ->capture_default_str();
  cmd->add_option("--end-lr", s.end_lr, "The swept value at the last step")->check(positive_number)->capture_default_str();
  cmd->add_option("--steps", s.steps, "Optimizer steps (one training batch each), the value growing exponentially")
      ->check(whole_number_in(2, 1000000))
      ->capture_default_str();
  cmd->add_option("--smooth", s.smooth, "beta of the bias-corrected exponential smoothing of the loss, below 1")
      ->check(number_from_below(0.0, 1.0))
      ->capture_default_str();
  cmd->add_option("--diverge", s.diverge, "Stop once the smoothed loss exceeds this many times its best")
      ->check(number_above(1.0))
      ->capture_default_str();
  cmd->add_option("--param", s.param, "The option swept: lr, or sgd_lr (the AdaBayes family: lr held)")
      ->check(CLI::IsMember({"lr", "sgd_lr"}))
      ->capture_default_str();
  cmd->add_option("--out", f->out, "Folder for lr_find.csv, .json and .svg (default: a fresh "
                                   "runs/lr-find-DATASET-MODEL-OPTIMIZER)");
  cmd->callback([cmd, f] { run(cmd, *f); });
}

}  // namespace fluxion::apps
