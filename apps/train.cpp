// `fluxion train`: flags (or a JSON --config with the same keys) into a
// TrainConfig, then train::run_training (train/trainer.h). Precedence, low to
// high: the defaults, --preset paper, --config, the flags given. --resume DIR
// continues the run in DIR with the configuration recorded there;
// --auto-resume continues the run in --out if there is one (cluster jobs
// that may be requeued); --dry-run checks everything and trains nothing.
// The flags that set a TrainConfig field come from its table
// (train/config_fields.h); the rest are this command's own.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <map>
#include <string>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

#include "apps/commands.h"
#include "apps/config_flags.h"
#include "core/folder_lock.h"
#include "core/path_check.h"
#include "core/stop_request.h"
#include "data/datasets.h"
#include "layers/models/registry.h"
#include "optim/make_optimizer.h"
#include "train/checkpoint.h"
#include "train/config_fields.h"
#include "train/trainer.h"

namespace fluxion::apps {
namespace {

using OptionMap = std::map<std::string, double>;  // TrainConfig::optimizer_options

struct TrainFlags {
  ConfigFlags config;  // the flags of TrainConfig's fields
  std::string config_file, resume, preset;
  bool dry_run = false, auto_resume = false;
};

// The flags --resume refuses: the run it continues is the recorded run.
std::vector<std::string> flags_fixed_on_resume() {
  std::vector<std::string> flags;
  train::for_each_config_field([&]<class T>(const train::ConfigField<T>& field) {
    if (field.on_resume != train::OnResume::fixed) return;
    if constexpr (std::is_same_v<T, OptionMap>)
      for (const train::OptimizerFlag& flag : train::optimizer_flags) flags.push_back(train::flag_name(flag.key));
    else
      flags.push_back(train::flag_name(field.key));
  });
  for (const char* flag : {"--config", "--preset"}) flags.emplace_back(flag);
  return flags;
}

// "--data-dir, --epochs, ... and --collective-timeout": the flags a resumed
// run accepts, for the message that refuses the others.
std::string flags_changeable_on_resume() {
  std::vector<std::string> flags;
  train::for_each_config_field([&]<class T>(const train::ConfigField<T>& field) {
    if (field.on_resume == train::OnResume::may_change) flags.push_back(train::flag_name(field.key));
  });
  std::string text;
  for (std::size_t i = 0; i < flags.size(); ++i)
    text += (i == 0 ? "" : i + 1 == flags.size() ? " and " : ", ") + flags[i];
  return text;
}

// The run the command line describes. With --resume DIR: the run recorded
// in DIR; otherwise the defaults, then --preset, then --config. The flags
// given override either.
train::TrainConfig resolve_config(CLI::App* cmd, const TrainFlags& f) {
  train::TrainConfig c;
  if (!f.resume.empty()) {
    c = train::read_run_config(f.resume);
    c.out_dir = f.resume;
    for (const std::string& flag : flags_fixed_on_resume())
      FLUXION_CHECK_INPUT(!given(cmd, flag), flag, " cannot change when resuming (the run in ", f.resume,
                          " was recorded with its own); only ", flags_changeable_on_resume(), " can");
  } else {
    if (f.preset == "paper") train::apply_paper_preset(c);
    if (!f.config_file.empty()) c = train::read_config_file(f.config_file, c);
  }
  apply_given_flags(cmd, f.config, c);
  return c;
}

// A run whose folder nobody named (no --out, --resume, or "out" in
// --config) gets a fresh one under runs/.
bool wants_fresh_folder(CLI::App* cmd, const TrainFlags& f, const train::TrainConfig& c) {
  return !given(cmd, "--out") && f.resume.empty() &&
         (f.config_file.empty() || c.out_dir == train::TrainConfig().out_dir);
}

// A fresh folder under runs/ named after the run (runs/NAME, runs/NAME-2,
// ...), claimed by creating it, so two runs started at once never share one.
std::string fresh_out_dir(const train::TrainConfig& c) {
  const std::string base = "runs/" + c.dataset + "-" + c.model + "-" + c.optimizer;
  std::error_code error;
  std::filesystem::create_directories("runs", error);
  FLUXION_CHECK_INPUT(!error, "cannot create the folder runs/ for the run: ", error.message());
  for (int i = 1;; ++i) {
    const std::string dir = i == 1 ? base : base + "-" + std::to_string(i);
    if (std::filesystem::create_directory(dir, error)) return dir;
    FLUXION_CHECK_INPUT(!error, "cannot create ", dir, ": ", error.message());
  }
}

// --dry-run: everything checked, nothing made.
void print_dry_run(const train::TrainConfig& c, bool fresh_folder) {
  train::validate(c);
  nlohmann::json resolved = train::to_json(c);
  resolved["optimizer_options"] = train::resolved_optimizer_options(c);
  if (fresh_folder) resolved["out"] = "runs/" + c.dataset + "-" + c.model + "-" + c.optimizer + " (or -2, -3, ...)";
  std::cout << "fluxion train --dry-run: a valid run (the data files are read only when it trains):\n"
            << resolved.dump(2) << "\n";
}

enum class AutoResume { start, resume, finished };

// --auto-resume: start the run in --out if the folder holds none, resume it
// if it holds this run, do nothing if that run is finished; a folder that
// holds another run is refused.
AutoResume decide_auto_resume(CLI::App* cmd, const TrainFlags& f, const train::TrainConfig& c) {
  FLUXION_CHECK_INPUT(f.resume.empty() && given(cmd, "--out"), "--auto-resume needs --out DIR (and no --resume)");
  const std::filesystem::path last = std::filesystem::path(c.out_dir) / "last.safetensors";
  if (!path_exists(last, "--out")) return AutoResume::start;
  // The folder's run must be this one: a requeued task continues its own
  // run, never another's. Epochs may grow, as with --resume.
  train::TrainConfig wanted = c;
  wanted.schedule = train::recorded_schedule(c);  // as the folder's config.json holds it
  std::vector<std::string> ignored = train::run_setting_keys();
  ignored.push_back("epochs");
  const auto difference = train::first_difference(wanted, train::read_run_config(c.out_dir, "--auto-resume"), ignored);
  FLUXION_CHECK_INPUT(!difference, "--auto-resume: ", c.out_dir, " holds a different run: \"", difference->key,
                      "\" is ", difference->second, " there, ", difference->first,
                      " here; remove the folder or choose another --out");
  const std::int64_t done = train::read_checkpoint_info(last.string()).epochs_done;
  if (done < c.epochs) return AutoResume::resume;
  std::cout << "fluxion train --auto-resume: " << c.out_dir << " already did " << done << " of " << c.epochs
            << " epochs; nothing to do\n";
  return AutoResume::finished;
}

// The run folder's files as they are (which ones depend on the settings:
// best-ema with --ema, event files with TensorBoard, steps.jsonl), sorted.
std::string folder_files(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
    const std::string name = entry.path().filename().string();
    if (name != kFolderLockName && name.find(".tmp.") == std::string::npos) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return detail::join(names);
}

void print_result(const train::TrainResult& result) {
  if (result.skipped_images > 0)
    std::cout << "skipped " << result.skipped_images << " image" << (result.skipped_images == 1 ? "" : "s")
              << " that could not be decoded (--skip-bad-images); the first: " << result.first_skipped << "\n";
  std::cout << "best test error " << 100.0 * result.best_test_error << "% (accuracy "
            << 100.0 * (1.0 - result.best_test_error) << "%)\n";
  if (std::isfinite(result.best_ema_test_error))
    std::cout << "best test error of the weights' moving average " << 100.0 * result.best_ema_test_error << "%\n";
  std::cout << "run folder " << result.out_dir << ": " << folder_files(result.out_dir) << "\n"
            << "resume it: fluxion train --resume " << result.out_dir << " --epochs N\n"
            << "plot it: fluxion plot " << result.out_dir << " --out " << result.out_dir << "/curves.svg\n";
}

void run(CLI::App* cmd, const TrainFlags& f) {
  train::TrainConfig c = resolve_config(cmd, f);
  const bool fresh_folder = wants_fresh_folder(cmd, f, c);
  if (f.dry_run) return print_dry_run(c, fresh_folder);
  if (fresh_folder) c.out_dir = fresh_out_dir(c);
  train::TrainOptions options;
  options.resume = !f.resume.empty();
  if (f.auto_resume) {
    const AutoResume decision = decide_auto_resume(cmd, f, c);
    if (decision == AutoResume::finished) return;
    options.resume = decision == AutoResume::resume;
  }
  // Ctrl-C and SIGTERM (a cluster's time limit) stop training after the
  // batch at hand, with a word on where and how to resume; a second one
  // ends the process at once. Only here: the other commands have no safe
  // point to stop at, and keep the signals' default meaning.
  install_stop_handlers();
  try {
    print_result(train::run_training(c, options));
  } catch (...) {
    // A default folder made for this run and left empty (a wrong
    // --data-dir, say) goes again; remove() leaves a folder with files.
    std::error_code ignored;
    if (fresh_folder) std::filesystem::remove(c.out_dir, ignored);
    throw;
  }
}

}  // namespace

void add_train_command(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("train", "Train a model (defaults: the small CNN on Fashion-MNIST with AdaBayes)");
  auto f = std::make_shared<TrainFlags>();
  add_config_flags(cmd, f->config);
  // The command's own flags: where the configuration comes from, and what to do with it.
  cmd->add_option("--resume", f->resume, "Continue the run in this folder (with a larger --epochs to go further)");
  cmd->add_option("--config", f->config_file, "JSON file of options, same keys as the flags (flags override it)");
  cmd->add_option("--preset", f->preset, "paper: the protocol of the paper's Section 4 (200 epochs, lr/10 at 150, ...)")
      ->check(CLI::IsMember({"paper"}));
  cmd->add_flag("--dry-run", f->dry_run,
                "Check the flags and configuration, print the resolved run as JSON, and train nothing");
  cmd->add_flag("--auto-resume", f->auto_resume,
                "With --out: continue the run there if it holds this run, do nothing if it is finished, else start "
                "it (for requeued cluster jobs)");
  cmd->callback([cmd, f] { run(cmd, *f); });
}

}  // namespace fluxion::apps
