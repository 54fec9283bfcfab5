//! @file
//! TrainConfig's fields, listed once. Everything else that names a training
//! setting is derived from this table: `fluxion train`'s flags and their
//! --help lines (apps/config_flags.cpp; `fluxion lr-find` takes some of them), to_json, from_json and its "known keys"
//! message (train/config.cpp), the flags --resume refuses, and
//! run_setting_keys(). A TrainConfig field without a row here stops the
//! build (the static_assert at the end); docs/contributing.md lists the steps
//! of adding a setting.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <tuple>

#include "train/config.h"

namespace fluxion::train {

/// Whether `fluxion train --resume DIR` accepts the field's flag, or keeps
/// the value recorded in DIR and refuses the flag.
enum class OnResume { fixed, may_change };

/// Whether two runs that differ in the field are different runs. The
/// run_setting fields (where and how fast a run trains) are
/// run_setting_keys(), which --auto-resume and `fluxion reproduce` ignore
/// when they check that a folder holds the run they expect.
enum class Role { defines_run, run_setting };

/// The check `fluxion train` makes on a flag's text as it parses it, before
/// validate() checks the whole configuration. apps/config_flags.cpp turns each into
/// one CLI11 validator: IsMember of the registry's names, or one of
/// apps/flag_checks.h (a whole number in a range, a number >= 0, > 0, in
/// [0, 1] or in [0, 1) (below_one: a decay), digits that fit 64 unsigned bits).
enum class FlagCheck {
  none, model_name, dataset_name, optimizer_name, int_range, non_negative, positive, fraction, below_one,
  whole_number
};

/// One field of TrainConfig: its JSON key, where it lives, how a resumed run
/// treats it, and its flag. The flag is the key with '-' for '_'
/// (flag_name). Made with field() and the chainable setters below.
template <class T>
struct ConfigField {
  const char* key;         ///< to_json's key ("out" for out_dir: the flag's name)
  T TrainConfig::*member;
  OnResume on_resume;
  Role role;
  const char* help;        ///< the flag's line in `fluxion train --help`
  FlagCheck flag_check = FlagCheck::none;
  int range_min = 0, range_max = 0;  ///< FlagCheck::int_range's bounds, inclusive
  bool default_in_help = false;     ///< --help shows the default value

  constexpr ConfigField check(FlagCheck c) const {
    ConfigField f = *this;
    f.flag_check = c;
    return f;
  }
  constexpr ConfigField range(int min, int max) const {
    ConfigField f = check(FlagCheck::int_range);
    f.range_min = min, f.range_max = max;
    return f;
  }
  constexpr ConfigField show_default() const {
    ConfigField f = *this;
    f.default_in_help = true;
    return f;
  }
};

template <class T>
constexpr ConfigField<T> field(const char* key, T TrainConfig::*member, OnResume on_resume, Role role,
                               const char* help) {
  return {key, member, on_resume, role, help};
}

/// The table, in TrainConfig's order (which is the order of --help and of
/// the known-keys message). Two rows have flags that do not hold the field
/// as it is stored, handled by name in apps/config_flags.cpp: optimizer_options is
/// set by the optimizer_flags below, and augment's flag takes on, off or
/// auto for 1, 0 or -1.
inline constexpr auto config_fields = std::tuple{
    field("model", &TrainConfig::model, OnResume::fixed, Role::defines_run, "Model")
        .check(FlagCheck::model_name)
        .show_default(),
    field("dataset", &TrainConfig::dataset, OnResume::fixed, Role::defines_run, "Dataset")
        .check(FlagCheck::dataset_name)
        .show_default(),
    field("data_dir", &TrainConfig::data_dir, OnResume::may_change, Role::run_setting,
          "Folder with the dataset's files (default: where its Debian package puts it)"),
    field("optimizer", &TrainConfig::optimizer, OnResume::fixed, Role::defines_run, "Optimizer")
        .check(FlagCheck::optimizer_name)
        .show_default(),
    // No flag of its own: the optimizer_flags below set its options.
    field("optimizer_options", &TrainConfig::optimizer_options, OnResume::fixed, Role::defines_run, ""),
    field("epochs", &TrainConfig::epochs, OnResume::may_change, Role::defines_run, "Epochs")
        .range(1, 100000)
        .show_default(),
    field("batch_size", &TrainConfig::batch_size, OnResume::fixed, Role::defines_run, "Images per step")
        .range(1, 65536)
        .show_default(),
    field("schedule", &TrainConfig::schedule, OnResume::fixed, Role::defines_run,
          "none, step:EPOCHS:GAMMA, multistep:E1,E2:GAMMA, cosine[:EPOCHS], onecycle[:PCT_START], "
          "plateau[:key=value,...] (docs/training.md, Schedules)")
        .show_default(),
    field("schedule_per", &TrainConfig::schedule_per, OnResume::fixed, Role::defines_run,
          "epoch: step the schedule after each epoch; step: after each batch (its numbers still count epochs)")
        .show_default(),
    field("warmup_epochs", &TrainConfig::warmup_epochs, OnResume::fixed, Role::defines_run,
          "Linear warmup over N epochs before --schedule, which then counts from the warmup's end")
        .check(FlagCheck::non_negative)
        .show_default(),
    field("warmup_steps", &TrainConfig::warmup_steps, OnResume::fixed, Role::defines_run,
          "--schedule-per step: linear warmup over N batches instead")
        .check(FlagCheck::non_negative)
        .show_default(),
    field("warmup_start_factor", &TrainConfig::warmup_start_factor, OnResume::fixed, Role::defines_run,
          "The warmup's first lr as a fraction of --lr, in (0, 1] (PyTorch LinearLR's 1/3)")
        .check(FlagCheck::positive)
        .show_default(),
    field("seed", &TrainConfig::seed, OnResume::fixed, Role::defines_run,
          "Seed of the initialisation, shuffling and augmentation")
        .check(FlagCheck::whole_number)
        .show_default(),
    field("threads", &TrainConfig::threads, OnResume::may_change, Role::run_setting,
          "Threads (0: FLUXION_NUM_THREADS, else all cores)")
        .range(0, 4096),
    // Refused by --resume, which keeps the recorded device, yet a run
    // setting: --auto-resume may continue a run on another device.
    field("device", &TrainConfig::device, OnResume::fixed, Role::run_setting, "Where to train: cpu, cuda or cuda:N")
        .show_default(),
    field("deterministic", &TrainConfig::deterministic, OnResume::fixed, Role::defines_run,
          "CUDA: deterministic kernels only (cuDNN's deterministic algorithms, scatter-add in index order), so a "
          "run repeats its bits, as PyTorch's use_deterministic_algorithms; CPU runs are deterministic always"),
    field("subset", &TrainConfig::subset, OnResume::fixed, Role::defines_run,
          "Train on the first N images only (0: all)")
        .check(FlagCheck::non_negative),
    field("augment", &TrainConfig::augment, OnResume::fixed, Role::defines_run,
          "Random crop and flip: on, off, auto (on for CIFAR)")
        .show_default(),
    field("image_size", &TrainConfig::image_size, OnResume::fixed, Role::defines_run,
          "imagefolder: resize every image to N x N or H x W (bilinear, antialiased when shrinking); default: the "
          "images' own size, which all must share"),
    field("channels", &TrainConfig::channels, OnResume::fixed, Role::defines_run,
          "imagefolder: 1 (grey) or 3 (RGB); 0: 1 when every training image is grey, else 3")
        .range(0, 3),
    field("mean", &TrainConfig::mean, OnResume::fixed, Role::defines_run,
          "Per-channel mean R,G,B of pixels in [0, 1] to normalise with (default: the dataset's; imagefolder: the "
          "training images', measured at the start)"),
    field("std", &TrainConfig::std, OnResume::fixed, Role::defines_run,
          "Per-channel standard deviation R,G,B, as --mean"),
    field("image_cache_mb", &TrainConfig::image_cache_mb, OnResume::may_change, Role::run_setting,
          "imagefolder: MiB of decoded images kept in memory; the others are decoded again each epoch")
        .range(0, 1 << 24)
        .show_default(),
    field("skip_bad_images", &TrainConfig::skip_bad_images, OnResume::fixed, Role::defines_run,
          "imagefolder: leave out images that cannot be decoded (counted and reported) instead of stopping"),
    field("workers", &TrainConfig::workers, OnResume::may_change, Role::run_setting, "Data loader threads")
        .range(1, 64)
        .show_default(),
    field("skip_nonfinite", &TrainConfig::skip_nonfinite, OnResume::fixed, Role::defines_run,
          "Skip up to N batches an epoch whose loss or gradient is NaN/inf (counted in the metrics) instead of "
          "stopping")
        .check(FlagCheck::non_negative)
        .show_default(),
    field("ema", &TrainConfig::ema, OnResume::fixed, Role::defines_run,
          "Decay in (0, 1) of an exponential moving average of the weights (timm's ModelEmaV3), evaluated beside "
          "them each epoch and saved as best-ema.safetensors; 0: none")
        .check(FlagCheck::below_one)
        .show_default(),
    field("ema_warmup", &TrainConfig::ema_warmup, OnResume::fixed, Role::defines_run,
          "--ema: warm the decay up as timm does, 1 - (1 + t)^(-2/3) after t updates, up to the --ema decay"),
    field("clip_grad_norm", &TrainConfig::clip_grad_norm, OnResume::fixed, Role::defines_run,
          "Scale each step's gradient to at most this total 2-norm (torch.nn.utils.clip_grad_norm_); 0: off")
        .check(FlagCheck::non_negative)
        .show_default(),
    field("clip_grad_value", &TrainConfig::clip_grad_value, OnResume::fixed, Role::defines_run,
          "Clamp each gradient element to [-X, X] (torch.nn.utils.clip_grad_value_), before any norm clipping; 0: off")
        .check(FlagCheck::non_negative)
        .show_default(),
    field("log_every", &TrainConfig::log_every, OnResume::may_change, Role::run_setting,
          "A line in OUT/steps.jsonl every N steps: loss, lr, gradient norm, step time, AdaBayes's regimes; 0: none")
        .check(FlagCheck::non_negative)
        .show_default(),
    // --resume DIR is the folder; the flag would name another.
    field("out", &TrainConfig::out_dir, OnResume::fixed, Role::run_setting,
          "Folder for metrics and checkpoints (default: a fresh runs/DATASET-MODEL-OPTIMIZER)"),
    // A view of the run, not part of it: a resumed run may turn it on or off.
    field("tensorboard", &TrainConfig::tensorboard, OnResume::may_change, Role::run_setting,
          "TensorBoard event files in the run's folder after each epoch: the metrics as scalars, histograms of the "
          "weights, gradients and AdaBayes's sigma^2_post (on by default; --no-tensorboard: none)"),
    field("distributed", &TrainConfig::distributed, OnResume::fixed, Role::defines_run,
          "Data-parallel over the ranks of mpirun (mpirun -np N fluxion train --distributed ...): --batch-size is "
          "each rank's share of the step; docs/distributed.md"),
    field("sync_batchnorm", &TrainConfig::sync_batchnorm, OnResume::fixed, Role::defines_run,
          "--distributed: batchnorm with the whole global batch's statistics (PyTorch's SyncBatchNorm), not each "
          "rank's share"),
    field("collective_timeout", &TrainConfig::collective_timeout, OnResume::may_change, Role::run_setting,
          "--distributed: seconds a rank waits for the others before the job stops")
        .check(FlagCheck::positive)
        .show_default(),
};

/// The flags that set optimizer options one by one, over the optimizer's
/// paper values: each is also a from_json key, and all are refused by
/// --resume (they change optimizer_options, which defines the run).
struct OptimizerFlag {
  const char* key;                      ///< from_json's key; the flag is flag_name(key)
  const char* option;                   ///< the optimizer option it sets
  const char* second_option = nullptr;  ///< a pair's second option: the flag takes "A,B", JSON [A, B]
  const char* help = "";
  FlagCheck check = FlagCheck::none;
};
inline constexpr OptimizerFlag optimizer_flags[] = {
    {"lr", "lr", nullptr, "Learning rate (default: the paper's for the optimizer)", FlagCheck::non_negative},
    {"sgd_lr", "sgd_lr", nullptr, "AdaBayes: the SGD learning rate of the low-data limit", FlagCheck::non_negative},
    {"momentum", "momentum", nullptr, "SGD/RMSprop momentum", FlagCheck::fraction},
    {"weight_decay", "weight_decay", nullptr, "Weight decay (L2, or decoupled for AdamW and AdaBayes)",
     FlagCheck::non_negative},
    {"betas", "beta1", "beta2", "beta1,beta2", FlagCheck::fraction},
};

/// Calls fn(field) for each row of config_fields, in order.
template <class Fn>
void for_each_config_field(Fn&& fn) {
  std::apply([&](const auto&... each) { (fn(each), ...); }, config_fields);
}

/// A key's flag: "batch_size" -> "--batch-size".
inline std::string flag_name(std::string_view key) {
  std::string flag = "--";
  for (char ch : key) flag += ch == '_' ? '-' : ch;
  return flag;
}

/// The number of TrainConfig's fields, counted as the most initializers
/// `TrainConfig{...}` accepts: AnyValue converts to any type. Exact because
/// no field is an aggregate itself (strings, numbers, a map), so braces are
/// never elided into a field's members.
struct AnyValue {
  template <class T>
  operator T() const;  // declared only: used in requires-expressions, never called
};
template <class Aggregate, class... Values>
constexpr std::size_t aggregate_field_count() {
  if constexpr (requires { Aggregate{Values{}..., AnyValue{}}; })
    return aggregate_field_count<Aggregate, Values..., AnyValue>();
  else
    return sizeof...(Values);
}

static_assert(aggregate_field_count<TrainConfig>() == std::tuple_size_v<decltype(config_fields)>,
              "every TrainConfig field needs a row in config_fields (train/config_fields.h), and every row a field");

}  // namespace fluxion::train
