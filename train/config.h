//! @file
//! Everything that defines a training run, as one plain struct: what
//! `fluxion train` parses from its flags and --config file, what the trainer
//! runs, and what OUT/config.json records (so --resume rebuilds the same run).
//! Each field has a row in train/config_fields.h, from which its flag, its
//! JSON key and how a resumed run treats it follow.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>  // the full header (it pulls in <cstring>) only where used

#include "optim/plateau.h"
#include "optim/schedule.h"

namespace fluxion::train {

struct TrainConfig {
  std::string model = "small_cnn";        ///< nn::make_model name
  std::string dataset = "fashion-mnist";  ///< data::dataset_names()
  std::string data_dir;                   ///< empty: the dataset's default folder
  std::string optimizer = "adabayes";     ///< optim::optimizer_names()
  /// Options by PyTorch name (lr, momentum, weight_decay, beta1, ...), over the
  /// optimizer's paper hyperparameters (paper_hyperparameters below).
  std::map<std::string, double> optimizer_options;
  std::int64_t epochs = 5;
  std::int64_t batch_size = 128;
  /// "none", "step:S:G" (x G every S epochs), "multistep:M1,M2,...:G",
  /// "cosine" (over the epochs after the warmup) or "cosine:T",
  /// "onecycle[:PCT_START[:EPOCHS]]" (the lr is the cycle's max_lr), or
  /// "plateau[:key=value,...]" (docs/training.md, "Schedules").
  std::string schedule = "none";
  /// "epoch": the schedule steps after each epoch; "step": after each batch,
  /// its numbers (in epochs) converted to batches.
  std::string schedule_per = "epoch";
  std::int64_t warmup_epochs = 0;  ///< > 0: linear warmup over N epochs, then the schedule (SequentialLR)
  std::int64_t warmup_steps = 0;   ///< > 0: the same over N batches (schedule_per "step" only)
  double warmup_start_factor = 1.0 / 3.0;  ///< the warmup's first factor of the lr, in (0, 1] (LinearLR's default)
  std::uint64_t seed = 0;
  int threads = 0;                        ///< 0: the default (FLUXION_NUM_THREADS, else all cores)
  std::string device = "cpu";
  /// CUDA: only kernels that repeat their bits (cuda::set_deterministic),
  /// for this run. CPU runs are deterministic with or without it.
  bool deterministic = false;
  std::int64_t subset = 0;                ///< > 0: only the first N training images
  int augment = -1;                       ///< crop + flip: 1 on, 0 off, -1 the dataset's default (on for CIFAR)
  /// Image folders: "N" or "HxW", the size every image is resized to; empty:
  /// the images' own, which all must share.
  std::string image_size;
  int channels = 0;                       ///< image folders: 1 or 3; 0: 1 when every training image is grey, else 3
  /// Per-channel normalisation "R,G,B" (or one value for grey) of pixels
  /// scaled to [0, 1]; empty: the dataset's constants, or for an image folder
  /// the training split's statistics, measured at the start.
  std::string mean;
  std::string std;                        ///< as mean: the standard deviations
  std::int64_t image_cache_mb = 1024;     ///< image folders: decoded images kept in memory; the rest decoded per epoch
  bool skip_bad_images = false;           ///< image folders: leave out (and count) images that cannot be decoded
  int workers = 2;                        ///< loader threads
  /// Batches per epoch whose loss or gradient is NaN or infinite that are
  /// skipped (no update, counted in the metrics) before the run stops as
  /// diverged; 0: stop at the first.
  std::int64_t skip_nonfinite = 0;
  /// An exponential moving average of the weights (train/model_ema.h) with
  /// this decay, in (0, 1): updated after every step, evaluated each epoch
  /// beside the weights, saved as best-ema.safetensors; 0: none.
  double ema = 0;
  /// With ema: timm's warmup of the decay, 1 - (1 + (t - 1))^(-2/3) at
  /// update t, up to ema (optim/ema.h).
  bool ema_warmup = false;
  /// > 0: each step's gradient (summed over the ranks) is scaled to at most
  /// this total 2-norm, as torch.nn.utils.clip_grad_norm_; 0: off.
  double clip_grad_norm = 0;
  /// > 0: each gradient element is clamped to [-X, X] first, as
  /// torch.nn.utils.clip_grad_value_; 0: off.
  double clip_grad_value = 0;
  /// OUT/steps.jsonl gets a line every N steps (train/step_log.h); 0: none.
  std::int64_t log_every = 50;
  std::string out_dir = "runs/latest";
  /// TensorBoard event files in out_dir, written after each epoch: the
  /// metrics' columns as scalars, per-parameter histograms of the weights,
  /// the gradients and AdaBayes's regime (train/tensorboard_log.h).
  bool tensorboard = true;
  /// Data-parallel over the ranks of `mpirun` (train/data_parallel.h):
  /// batch_size is then each rank's share of the step.
  bool distributed = false;
  /// With distributed: batchnorm normalises with the global batch's
  /// statistics, summed over the ranks (nn::BatchNormOptions::sync_across_ranks).
  bool sync_batchnorm = false;
  /// Seconds a distributed rank waits for the others in a collective before
  /// the job is stopped (a rank died or hung).
  double collective_timeout = 600;
};

/// The optimizer settings of the paper's Section 4 (docs/optimizers.md), for
/// the given model and batch size: for example SGD lr 0.1, momentum 0.9, L2 5e-4;
/// AdaBayes lr 1e-3, sgd_lr 0.1, batch_size, weight_decay 5e-5.
std::map<std::string, double> paper_hyperparameters(const std::string& optimizer, const std::string& model,
                                                    std::int64_t batch_size);

/// The paper's whole protocol (Section 4): batch 128, 200 epochs, lr / 10 at
/// epoch 150, augmentation, the optimizer's paper hyperparameters.
void apply_paper_preset(TrainConfig& config);

/// Checks every field (names against the registries, ranges, the schedule's
/// syntax) and throws InputError naming the field and what was expected.
void validate(const TrainConfig& config);

/// The schedule a spec names (see TrainConfig::schedule), stepped once per
/// epoch, without warmup; a bare cosine or onecycle spans `epochs`, a
/// plateau spec is the constant 1 (its reductions are ReduceLROnPlateau's,
/// see parse_plateau). Throws InputError on a malformed spec.
optim::Schedule parse_schedule(const std::string& spec, std::int64_t epochs);

/// The whole lr curve of a run, as factors of the initial lr at scheduler
/// steps t = 0, 1, ...: the warmup (LinearLR from warmup_start_factor), then
/// the spec's curve counting its own steps from the warmup's end (PyTorch's
/// SequentialLR). A step is an epoch, or with schedule_per "step" one of the
/// `steps_per_epoch` batches of an epoch (the spec's epochs multiplied).
/// Throws InputError on a malformed spec.
optim::Schedule make_schedule(const TrainConfig& config, std::int64_t steps_per_epoch);

/// What --schedule plateau[:key=value,...] sets: PyTorch's
/// ReduceLROnPlateau options (keys mode, factor, patience, threshold,
/// threshold_mode, cooldown, min_lr, eps) and the test metric it watches
/// (key metric: test_loss or test_error).
struct PlateauSpec {
  optim::PlateauOptions options;
  std::string metric = "test_loss";
};
/// The settings of a plateau spec; nullopt for any other spec. Throws
/// InputError naming the key on a malformed one.
std::optional<PlateauSpec> parse_plateau(const std::string& spec);

/// For AdaBayes, whose sigma^2 follows the lr: throws InputError naming the
/// first step whose lr is 0 (the curve of make_schedule over the run's
/// epochs x steps_per_epoch steps), or a plateau spec whose min_lr is 0.
/// Any other optimizer: nothing to check.
void check_lr_stays_positive(const TrainConfig& config, std::int64_t steps_per_epoch);

/// The schedule as a run records it, so that a resumed run that goes
/// further keeps the original curve: a bare "cosine" spans the epochs after
/// the warmup and becomes "cosine:EPOCHS" (the run's epochs less
/// warmup_epochs); a bare "onecycle[:P]" becomes "onecycle:P:EPOCHS". A bare
/// cosine after warmup_steps stays (it spans a number of batches, and the
/// trainer refuses to extend it); any other spec is unchanged.
std::string recorded_schedule(const TrainConfig& config);

/// The optimizer options a run uses: paper_hyperparameters overridden by
/// config.optimizer_options.
std::map<std::string, double> resolved_optimizer_options(const TrainConfig& config);

/// A field in which two runs' configurations differ: its to_json key and
/// both values as JSON text.
struct ConfigDifference {
  std::string key, first, second;
};
/// The first field in which `a` and `b` differ, comparing to_json's keys
/// except `ignored` (for example "threads", "out"), with the optimizer options
/// resolved (so an option left at its paper value equals one given as that
/// value); nullopt when they describe the same run.
std::optional<ConfigDifference> first_difference(const TrainConfig& a, const TrainConfig& b,
                                                 const std::vector<std::string>& ignored);

/// The to_json keys that change where and how fast a run trains, not what it
/// computes (the Role::run_setting rows of train/config_fields.h: data_dir,
/// threads, device, image_cache_mb, workers, out, tensorboard,
/// collective_timeout, log_every).
/// A run continued with different values of these is still the same run.
const std::vector<std::string>& run_setting_keys();

/// JSON with one key per field (train/config_fields.h), the command line's
/// names with '_' for '-' ("model", "data_dir", "epochs", "out", ...) and
/// "optimizer_options" (an object). from_json accepts any subset of those
/// keys over `base`, and also the optimizer flags' keys "lr", "sgd_lr",
/// "momentum", "weight_decay" and "betas" ([beta1, beta2]); it throws
/// InputError naming `source` and the key on an unknown key or a value of
/// the wrong type.
nlohmann::json to_json(const TrainConfig& config);
TrainConfig from_json(const nlohmann::json& json, const TrainConfig& base, const std::string& source);
/// The keys a run's record (OUT/config.json, or a checkpoint's metadata)
/// holds beside the settings, to say what ran: fluxion_version, git_commit,
/// blas, ranks for a distributed run, and data for an image folder (its
/// classes, shape and normalisation). Written by the trainer's
/// run_record; ignored where a record is read back as settings.
const std::vector<std::string>& run_record_note_keys();
/// The configuration in a run's record. The record must name the model, the
/// dataset and the optimizer (what its tensors are); other keys left out take
/// their defaults (a record of an older version lacks the newer keys).
TrainConfig from_run_record(const nlohmann::json& record, const std::string& source);
/// The JSON in `path`; InputError naming `flag` (the option that named the
/// file) and the path when it cannot be read or parsed.
nlohmann::json read_json_file(const std::string& path, const std::string& flag);
/// Reads a JSON config file (from_json over `base`); a run's config.json
/// serves as one too (its run_record_note_keys are ignored, and its "out",
/// the old run's folder).
TrainConfig read_config_file(const std::string& path, const TrainConfig& base);

}  // namespace fluxion::train
