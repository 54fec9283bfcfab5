#include "train/trainer.h"

#include <nlohmann/json.hpp>

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <memory>
#include <tuple>
#include <utility>

#include "autograd/ops.h"
#include "core/atomic_file.h"
#include "core/cuda.h"
#include "core/folder_lock.h"
#include "core/parallel.h"
#include "core/path_check.h"
#include "core/stop_request.h"
#include "core/version.h"
#include "data/datasets.h"
#include "layers/batch_norm.h"
#include "layers/models/registry.h"
#include "optim/adabayes_regimes.h"
#include "optim/clip.h"
#include "optim/make_optimizer.h"
#include "dist/distributed.h"
#include "plot/tensorboard_events.h"
#include "train/checkpoint.h"
#include "train/data_parallel.h"
#include "train/model_ema.h"
#include "train/progress.h"
#include "train/run_schedule.h"
#include "train/tensorboard_log.h"
#include "train/step_log.h"

namespace fluxion::train {
namespace fs = std::filesystem;
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Whether every gradient element is finite. x * 0 is 0 for finite x and
// NaN for NaN or inf, so the sum is NaN exactly when some element is not
// finite (a sum of squares could overflow on large finite gradients); one
// reduction per tensor, one read back.
bool gradients_finite(const nn::Module& model) {
  NoGradGuard no_grad;
  Tensor total;
  for (const Tensor& p : model.parameters()) {
    const Tensor g = p.grad();
    if (!g.defined()) continue;
    const Tensor s = (g * 0.0).sum();
    total = total.defined() ? total + s : s;
  }
  return !total.defined() || std::isfinite(total.item());
}

// Puts back the buffers (batchnorm's running statistics) saved before a
// skipped batch's forward.
void restore_buffers(nn::Module& model, const std::vector<Tensor>& saved) {
  NoGradGuard no_grad;
  const nn::NamedTensors now = model.named_buffers();
  for (std::size_t i = 0; i < now.size() && i < saved.size(); ++i) Tensor(now[i].second).copy_(saved[i]);
}

// What eval and predict need of the data a model was trained on: the
// shape, the normalisation used, and an image folder's class names.
nlohmann::json run_record(const TrainConfig& config) {
  nlohmann::json j = to_json(config);
  j["optimizer_options"] = resolved_optimizer_options(config);
  j["fluxion_version"] = version();
  j["git_commit"] = git_commit();
  j["blas"] = blas_backend();
  j["threads"] = config.threads;
  return j;
}

// Everything a run holds from its start to its end: what the steps below
// fill in and use, in the order run_training calls them.
struct Run {
  TrainConfig config;  // as recorded: the threads used, the schedule's epochs
  Replicas replicas;
  std::ostream silent{nullptr};
  std::ostream* log = nullptr;  // rank 0 speaks for the run; the other ranks write to `silent`
  fs::path out, last, best;     // the run's folder and its checkpoints
  fs::path best_ema;            // with --ema: the averaged model with the lowest test error
  FolderLock lock;              // rank 0's claim on the folder, from claim_folder to the end
  data::DatasetInfo info;          // the dataset's entry; an image folder's classes, shape and normalisation filled in
  std::vector<std::string> classes;  // an image folder's class names, in label order
  std::unique_ptr<data::DataLoader> train_loader, test_loader;
  Device device;
  nn::ModulePtr model;
  std::unique_ptr<optim::Optimizer> optimizer;
  std::unique_ptr<RunSchedule> schedule;  // the lr over the run (warmup, curve or plateau)
  std::unique_ptr<ModelEma> ema;  // with --ema: the weights' moving average
  std::string record;            // config.json's text, also in every checkpoint
  std::int64_t first_epoch = 0;  // 0, or the epochs a resumed run had done
  std::unique_ptr<TensorBoardLog> tensorboard;  // rank 0, with TrainConfig::tensorboard
  TrainResult result;
};

// The metrics columns this run has beside the fixed ones.
OptionalColumns optional_columns(const Run& run) { return {.ema = run.ema != nullptr}; }

// A new run claims a folder only when it is empty or holds an earlier start
// of this same run (one killed before its first checkpoint): never a user's
// files, which it would overwrite (a config.json, a metrics.csv) or mix with.
void check_claimable(const Run& run) {
  const std::string out = run.out.string();
  std::error_code error;
  if (!fs::is_directory(run.out, error)) return;
  const fs::path record = run.out / "config.json";
  const bool has_record = fs::exists(record, error);
  for (const fs::directory_entry& entry : fs::directory_iterator(run.out, error)) {
    const std::string name = entry.path().filename().string();
    // What any killed start leaves (a lock, a half-written temporary), and
    // what one killed after writing its record leaves.
    const bool left_by_any_start = name == kFolderLockName || name.find(".tmp.") != std::string::npos;
    const bool left_by_this_run =
        name == "config.json" || name == kMetricsFiles[0] || name == kMetricsFiles[1] || name == kStepLogFile ||
        name == "best.safetensors" || name == "best-ema.safetensors" || plot::tensorboard::is_event_file_name(name);
    FLUXION_CHECK_INPUT(left_by_any_start || (left_by_this_run && has_record), "--out ", out, ": '", entry.path().string(),
                        "' is there, and a new run claims only an empty folder or one where the same run started; "
                        "choose another --out (or remove what is there)");
  }
  if (!has_record) return;
  // A run's record names the build that wrote it; a config.json of the
  // user's own (say the --config file itself) does not, and is kept.
  const nlohmann::json there = read_json_file(record.string(), "--out");
  FLUXION_CHECK_INPUT(there.is_object() && there.contains("fluxion_version"), "--out ", out, ": '",
                      record.string(), "' is not a run's record, and a new run would overwrite it; choose another "
                      "--out");
  std::vector<std::string> ignored = run_setting_keys();
  ignored.push_back("epochs");
  const auto difference = first_difference(run.config, from_run_record(there, record.string()), ignored);
  FLUXION_CHECK_INPUT(!difference, "--out ", out, ": '", record.string(), "' records another run (\"",
                      difference->key, "\" is ", difference->second, " there, ", difference->first,
                      " here), which this one would overwrite; choose another --out");
}

// The folder: a resumed run's must hold its last checkpoint, a new run's
// must not (a run is never overwritten), nor anything but an earlier start
// of the same run.
void check_folder(const Run& run, bool resume) {
  const std::string out = run.out.string();
  if (resume) {
    FLUXION_CHECK_INPUT(path_exists(run.last, "--resume"), "--resume ", out, ": no last.safetensors there to resume from");
  } else {
    FLUXION_CHECK_INPUT(!path_exists(run.last, "--out"), "--out ", out, " already holds a run (last.safetensors); continue it with --resume ",
                        out, " or choose another --out");
    check_claimable(run);
  }
}

// Rank 0 locks the run's folder: a second process on the same run, training
// or resuming, is refused while this one lives, with a message naming it
// (rather than one about what the first has written so far).
void lock_folder(Run& run, bool resume) {
  if (run.replicas.writes() && !run.lock.held()) run.lock = FolderLock(run.out.string(), resume ? "--resume" : "--out");
}

// Rank 0 creates the folder, locks it, checks it again now that no other
// process can change it, and removes what killed writers left there. After
// the data and the model are ready, so that a wrong --data-dir or --model
// leaves no empty folder behind.
void claim_folder(Run& run, bool resume) {
  if (!run.replicas.writes()) return;
  const std::string out = run.out.string();
  std::error_code made;
  fs::create_directories(run.out, made);
  FLUXION_CHECK_INPUT(!made, resume ? "--resume " : "--out ", out, ": cannot create the folder: ", made.message());
  lock_folder(run, resume);
  check_folder(run, resume);
  const std::vector<std::string> stale = remove_stale_temporaries(out);
  if (!stale.empty())
    *run.log << "removed " << stale.size() << " temporary file" << (stale.size() == 1 ? "" : "s") << " left in " << out
             << " by an interrupted run (" << stale.front() << (stale.size() > 1 ? ", ..." : "") << ")\n";
}

// This process's rank, log and threads, the configuration as the run
// records it, and its folder.
void start_run(Run& run, TrainConfig config, const TrainOptions& options) {
  run.replicas = start_replicas(config);
  run.log = !run.replicas.writes() ? &run.silent : options.log ? options.log : &std::cout;
  if (config.threads > 0) set_num_threads(config.threads);
  // Recorded as used, so a resumed run takes the same thread count (the
  // float sums' order, hence the bits, depend on it).
  config.threads = get_num_threads();
  // A bare "cosine" spans this run's epochs; recorded with them, so a resumed
  // run that goes further keeps the original curve.
  config.schedule = recorded_schedule(config);
  // Recorded absolute, so eval, a resume or --auto-resume from another
  // working folder finds the data.
  if (!config.data_dir.empty()) config.data_dir = fs::absolute(config.data_dir).lexically_normal().string();
  run.config = std::move(config);
  run.out = run.config.out_dir;
  run.last = run.out / "last.safetensors";
  run.best = run.out / "best.safetensors";
  run.best_ema = run.out / "best-ema.safetensors";
  run.result.out_dir = run.out.string();
  // A folder that a run holds, or held, has its lock file: trying it first
  // names a live holder, rather than what it has written so far. Elsewhere
  // nothing is made before the checks pass.
  if (path_exists(run.out / kFolderLockName, options.resume ? "--resume" : "--out")) lock_folder(run, options.resume);
  check_folder(run, options.resume);
}

// The training split (its first `subset` images) and the test split, each
// behind a loader; distributed, each rank's loader yields its share of
// every batch.
void load_data(Run& run) {
  const TrainConfig& config = run.config;
  RunData data = read_run_data(config, *run.log);
  run.info = std::move(data.info);
  run.classes = std::move(data.classes);
  run.result.skipped_images = data.skipped_images;
  run.result.first_skipped = data.first_skipped;
  const std::shared_ptr<data::Dataset> train_set = data.train, test_set = data.test;
  FLUXION_CHECK_INPUT(config.subset <= train_set->size(), "--subset ", config.subset, " exceeds the ",
                      train_set->size(), " training images of ", config.dataset);
  if (config.subset > 0) train_set->keep_first(config.subset);
  const bool augment = config.augment == -1 ? run.info.augment_by_default : config.augment == 1;
  const auto base = data::LoaderOptions()
                        .batch_size(config.batch_size)
                        .mean(run.info.mean)
                        .std(run.info.std)
                        .seed(config.seed)
                        .workers(config.workers)
                        .num_replicas(run.replicas.size)
                        .rank(run.replicas.rank);
  run.train_loader =
      std::make_unique<data::DataLoader>(train_set, data::LoaderOptions(base).shuffle(true).augment(augment));
  run.test_loader = std::make_unique<data::DataLoader>(test_set, data::LoaderOptions(base).shuffle(false));
}

// --ema: a second model, a copy of the first, which averages its weights.
// Built without drawing from the default generator, so that the model
// trains exactly as in the same run without --ema.
std::unique_ptr<ModelEma> make_ema(const Run& run) {
  const std::string generator_state = default_generator().state();
  nn::ModulePtr average = make_model_for(run.config.model, run.info);
  default_generator().set_state(generator_state);
  average->to(run.device);
  optim::EmaOptions options;
  options.decay = run.config.ema;
  options.warmup = run.config.ema_warmup;
  return std::make_unique<ModelEma>(std::move(average), *run.model, options);
}

// Model, optimizer and schedule: seeded, so a run is reproducible.
void build_model(Run& run) {
  const TrainConfig& config = run.config;
  manual_seed(config.seed);
  run.model = make_model_for(config.model, run.info);
  if (config.sync_batchnorm)
    for (const auto& [name, module] : run.model->named_modules())
      if (auto* bn = dynamic_cast<nn::BatchNorm*>(module.get()))
        bn->options.sync_across_ranks(dist::all_reduce_sum_differentiable);
  // Initialised on the CPU (the same values on every device), then moved.
  run.device = parse_device(config.device, "--device");
  run.model->to(run.device);
  run.optimizer = optim::make_optimizer(config.optimizer, run.model->parameters(), resolved_optimizer_options(config));
  run.schedule = std::make_unique<RunSchedule>(*run.optimizer, config, run.train_loader->batches_per_epoch());
  if (config.ema > 0) run.ema = make_ema(run);
}

// A bare cosine after a warmup in batches spans the run's batches less the
// warmup, a count no "cosine:EPOCHS" records (recorded_schedule): a resumed
// run may not go further than the run it continues was to go.
void check_schedule_extension(const Run& run, const nlohmann::json& before) {
  const TrainConfig& c = run.config;
  if (c.schedule != "cosine" || c.warmup_steps == 0 || !before.is_object()) return;
  const std::int64_t planned = before.value("epochs", c.epochs);
  FLUXION_CHECK_INPUT(planned == c.epochs, "--resume ", run.out.string(), " --epochs ", c.epochs,
                      ": the run's bare cosine after --warmup-steps spans its ", planned,
                      " epochs and cannot be extended (start a run with cosine:EPOCHS to go further)");
}

// A resumed run continues where last.safetensors left it: model, optimizer,
// random generator, schedule, best test error and metrics, on as many
// ranks as before.
void resume_from_checkpoint(Run& run) {
  const std::string out = run.out.string();
  // The shares of each batch, hence the run, depend on the number of ranks.
  const nlohmann::json before = read_json_file((run.out / "config.json").string(), "--resume");
  const int ranks_before = before.is_object() ? before.value("ranks", 1) : 1;
  FLUXION_CHECK_INPUT(ranks_before == run.replicas.size, "--resume ", out, ": the run was trained on ", ranks_before,
                      ranks_before == 1 ? " process" : " ranks", ", and resumes only on as many",
                      ranks_before > 1 ? " (mpirun -np " + std::to_string(ranks_before) + " ... --distributed)" : "",
                      "; this is ", run.replicas.size);
  // The data read again must be the data trained on: an image folder's
  // classes, shape and statistics come from its files, which may have
  // changed (a renamed class would remap the labels silently).
  if (before.is_object() && before.contains("data")) {
    const nlohmann::json now = data_record(run.info, run.classes);
    for (const auto& [key, value] : now.items())
      FLUXION_CHECK_INPUT(before["data"].value(key, nlohmann::json()) == value, "--resume ", out, ": the data's ",
                          key, " is ", value.dump(), " now and was ", before["data"].value(key, nlohmann::json()).dump(),
                          " when the run started; resume it with the data it was trained on");
  }
  const CheckpointInfo saved =
      load_checkpoint(run.last.string(), *run.model, *run.optimizer, run.ema ? &run.ema->module() : nullptr);
  run.first_epoch = saved.epochs_done;
  // Before anything moves: a finished run's schedule would be set to its
  // end, where a cosine's lr is 0, which AdaBayes refuses.
  FLUXION_CHECK_INPUT(run.first_epoch < run.config.epochs, "--resume ", out, ": the run already did ",
                      run.first_epoch, " of ", run.config.epochs, " epochs; pass a larger --epochs to train further");
  run.result.best_test_error = saved.best_test_error;
  if (run.ema) {
    run.ema->set_updates(saved.ema_updates);
    run.result.best_ema_test_error = saved.best_ema_test_error;
  }
  default_generator().set_state(saved.generator_state);
  check_schedule_extension(run, before);
  run.schedule->resume(run.first_epoch, saved.schedule_state, run.last.string());
  if (run.replicas.writes()) {
    truncate_metrics(run.out, run.first_epoch, optional_columns(run));
    truncate_steps(run.out, run.first_epoch * run.train_loader->batches_per_epoch());
  }
  *run.log << "resuming " << out << " after epoch " << run.first_epoch << "\n";
}

// config.json. A new run starts its metrics, step log and event files afresh: ones
// already there belong to a run killed before its first checkpoint.
void write_run_record(Run& run, bool resume) {
  nlohmann::json record = run_record(run.config);
  if (run.replicas.distributed) record["ranks"] = run.replicas.size;
  record["data"] = data_record(run.info, run.classes);
  run.record = record.dump(2);
  if (!run.replicas.writes()) return;
  if (!resume) {
    for (const char* name : {kMetricsFiles[0], kMetricsFiles[1], kStepLogFile}) fs::remove(run.out / name);
    remove_event_files(run.out);
  }
  write_file_atomically((run.out / "config.json").string(), run.record + "\n", "fluxion train");
}

// Rank 0's TensorBoard event file: a new one for each start or resume
// (train/tensorboard_log.h says how a resumed one hides a killed run's
// later epochs).
void open_tensorboard(Run& run) {
  if (run.config.tensorboard && run.replicas.writes())
    run.tensorboard = std::make_unique<TensorBoardLog>(run.out, run.first_epoch);
}

void log_run(const Run& run) {
  const TrainConfig& c = run.config;
  *run.log << "fluxion train: " << c.model << " (" << run.model->num_parameters() << " parameters) on " << c.dataset
           << " (" << run.train_loader->dataset().size() << " training, " << run.test_loader->dataset().size()
           << " test images), " << c.optimizer << ", " << c.epochs << " epochs of batch " << c.batch_size << ", "
           << get_num_threads() << " threads, on " << run.device
           << (run.replicas.distributed ? detail::concat(", on each of ", run.replicas.size, " ranks (global batch ",
                                                         c.batch_size * run.replicas.size, ")")
                                        : std::string())
           << "\n";
}

// One batch's forward and backward on this rank, and what all ranks found.
struct BatchResult {
  double loss = 0;                     // this rank's mean loss (0 for an empty share)
  StepTotals totals;                   // over all ranks: loss sum, wrong, all finite
  double grad_norm = NAN;              // the total gradient norm (after the ranks' sum), before clipping
  std::string problem;                 // empty, or what became NaN or infinite
  std::vector<Tensor> buffers_before;  // with skip_nonfinite: the buffers a skip puts back
};

// Forward, loss and backward of this rank's share of `batch`, the gradients
// summed over the ranks, their total norm, and the check that the loss and
// every gradient are finite. The optimizer has not stepped yet.
BatchResult forward_backward(Run& run, const data::Batch& batch, const TrainOptions& options) {
  BatchResult r;
  run.optimizer->zero_grad();
  // A skipped batch must leave no trace, but its train-mode forward
  // already moved batchnorm's running statistics (towards NaN, if the
  // activations were): keep a copy to put back.
  if (run.config.skip_nonfinite > 0)
    for (const auto& [name, b] : run.model->named_buffers()) r.buffers_before.push_back(b.clone());
  // This rank's share of the step (all of it unless distributed; a share
  // of a small last batch may be empty).
  const std::int64_t count = batch.labels.size(0);
  std::int64_t wrong = 0;
  bool loss_finite = true;
  // Synchronised batchnorm's forward and backward are collectives: every
  // rank runs both, with an empty share or a NaN loss too.
  const bool collective_forward = run.config.sync_batchnorm;
  if (count > 0 || collective_forward) {
    const Tensor labels = batch.labels.to(run.device);
    const Tensor logits = run.model->forward(batch.images.to(run.device));
    // An empty share's loss is the sum over no images: 0, with a graph.
    const Tensor loss = cross_entropy(logits, labels, count > 0 ? Reduction::mean : Reduction::sum);
    r.loss = loss.item();
    loss_finite = std::isfinite(r.loss);
    if (count > 0) wrong = count - static_cast<std::int64_t>(eq(argmax(logits, 1), labels).sum().item());
    if (loss_finite || collective_forward) loss.backward();
    if (loss_finite && count > 0 && options.after_backward) options.after_backward(*run.model);
  }
  // Distributed: the ranks' gradients become the global batch's.
  r.totals = reduce_step(run.replicas, *run.model, count, batch.global_size, r.loss, wrong, loss_finite,
                         stop_requested() != 0);
  // The checks: a NaN or infinite loss, or gradient (the same verdict on every rank).
  if (!r.totals.finite)
    r.problem = !loss_finite ? std::string("the loss became ") +
                                   (std::isnan(r.loss) ? "NaN" : r.loss > 0 ? "inf" : "-inf")
                             : std::string("the loss became NaN or infinite on another rank");
  else {
    // The norm, which the log and the metrics want every step, doubles as
    // the finite check: a finite norm means finite gradients. Only when it
    // is not (a NaN, or a square that overflowed float32) does the check
    // look again.
    r.grad_norm = optim::grad_norm(run.model->parameters());
    if (!std::isfinite(r.grad_norm) && !gradients_finite(*run.model)) r.problem = "a gradient became NaN or infinite";
  }
  return r;
}

// A batch whose loss or gradient was not finite is skipped (no update, the
// buffers as they were) while the epoch has skips left (skip_nonfinite);
// otherwise the run stops, with the last checkpoint intact.
void skip_or_stop(Run& run, std::int64_t epoch, const data::Batch& batch, const BatchResult& r, EpochMetrics& m,
                  const TrainOptions& options) {
  const TrainConfig& config = run.config;
  if (m.skipped_batches < config.skip_nonfinite) {
    ++m.skipped_batches;  // no update; the next batch starts with zero_grad
    restore_buffers(*run.model, r.buffers_before);
    *run.log << "\nwarning: " << r.problem << " at epoch " << epoch + 1 << ", batch " << batch.index + 1
             << "; batch skipped (" << m.skipped_batches << " of --skip-nonfinite " << config.skip_nonfinite
             << " this epoch)\n";
    if (options.on_step)
      options.on_step({epoch + 1, batch.index + 1, run.train_loader->batches_per_epoch(), r.loss, *run.model,
                       *run.optimizer, true, r.grad_norm, run.optimizer->lr()});
    return;
  }
  throw TrainingDiverged(detail::concat(
      r.problem, " at epoch ", epoch + 1, ", batch ", batch.index + 1, "; stopping",
      m.skipped_batches ? detail::concat(" (", m.skipped_batches, " such batches skipped this epoch already)") : "",
      ". ",
      epoch == 0 ? std::string("No checkpoint was written yet.")
                 : detail::concat(run.last.string(), " (after epoch ", epoch, ") is intact."),
      " Try a lower --lr", config.skip_nonfinite ? "" : ", or --skip-nonfinite N to skip up to N such batches", "."));
}

// A request to stop (Ctrl-C, SIGTERM; core/stop_request.h) ends the run
// after the batch at hand, before its update: the checkpoint of the last
// finished epoch is what a resume continues from, as after a kill, but the
// user is told so.
[[noreturn]] void stop_interrupted(const Run& run, std::int64_t epoch, std::int64_t batch) {
  const int signal = stop_requested();
  const std::string out = run.out.string();
  throw Interrupted(
      signal, detail::concat(
                  signal == SIGTERM ? "terminated" : "interrupted", " at epoch ", epoch + 1, ", batch ", batch + 1,
                  " of ", run.train_loader->batches_per_epoch(), "; ",
                  epoch == 0 ? detail::concat("no checkpoint was written yet; start again with the same command")
                             : detail::concat("the last checkpoint, ", run.last.string(), ", holds epoch ", epoch,
                                              "; resume with: fluxion train --resume ", out)));
}

// --clip-grad-value, then --clip-grad-norm: the order torch users write
// them in, so a norm clip has the last word on the step's size. The norm
// clip uses the norm of the gradient as it stands then: `norm` (before any
// clipping) when no value clip came first.
void clip_gradients(Run& run, double norm) {
  const TrainConfig& c = run.config;
  if (c.clip_grad_value <= 0 && c.clip_grad_norm <= 0) return;
  const std::vector<Tensor> params = run.model->parameters();
  if (c.clip_grad_value > 0) optim::clip_grad_value_(params, c.clip_grad_value);
  if (c.clip_grad_norm > 0)
    optim::clip_grads_with_norm_(params, c.clip_grad_norm, c.clip_grad_value > 0 ? optim::grad_norm(params) : norm);
}

// Rank 0's line in steps.jsonl for this step, every --log-every steps.
void log_step(const Run& run, StepRecord record) {
  const std::int64_t every = run.config.log_every;
  if (every <= 0 || record.step % every != 0 || !run.replicas.writes()) return;
  if (const auto* adabayes = dynamic_cast<const optim::AdaBayes*>(run.optimizer.get()))
    record.regimes = optim::adabayes_regimes(*adabayes);
  append_step(run.out, record);
}

// One epoch over the training split, a step per batch; returns the epoch's
// training figures (the test figures follow in finish_epoch).
EpochMetrics train_epoch(Run& run, std::int64_t epoch, Clock::time_point t0, Progress& progress,
                         const TrainOptions& options) {
  EpochMetrics m;
  m.epoch = epoch + 1;
  m.lr = run.optimizer->lr();
  run.model->train();
  run.train_loader->start_epoch(epoch);
  double loss_sum = 0, norm_sum = 0;
  std::int64_t seen = 0, wrong = 0, steps = 0;
  const std::int64_t batches = run.train_loader->batches_per_epoch();
  while (auto batch = run.train_loader->next()) {
    const auto step_start = Clock::now();
    const BatchResult r = forward_backward(run, *batch, options);
    if (r.totals.stop) stop_interrupted(run, epoch, batch->index);
    if (!r.problem.empty()) {
      skip_or_stop(run, epoch, *batch, r, m, options);
      run.schedule->after_batch(epoch, batch->index);  // a skipped batch counts, as in a PyTorch loop
      continue;
    }
    clip_gradients(run, r.grad_norm);
    const double lr = run.optimizer->lr();  // the step's, whatever a schedule sets after it
    run.optimizer->step();
    if (run.ema) run.ema->update(*run.model);
    const double step_seconds = seconds_since(step_start);
    loss_sum += r.totals.loss_sum;
    wrong += static_cast<std::int64_t>(r.totals.wrong);
    seen += batch->global_size;
    norm_sum += r.grad_norm;
    ++steps;
    progress.batch(epoch + 1, batch->index + 1, seen / seconds_since(t0), loss_sum / static_cast<double>(seen));
    const double loss =
        run.replicas.distributed ? r.totals.loss_sum / static_cast<double>(batch->global_size) : r.loss;
    log_step(run, {epoch * batches + batch->index + 1, epoch + 1, batch->index + 1, loss, lr, r.grad_norm,
                   step_seconds, std::nullopt});
    if (options.on_step)
      options.on_step({epoch + 1, batch->index + 1, batches, loss, *run.model, *run.optimizer, false, r.grad_norm, lr});
    run.schedule->after_batch(epoch, batch->index);  // after on_step, which sees the lr this batch used
  }
  if (seen == 0)
    throw TrainingDiverged(detail::concat("every batch of epoch ", epoch + 1,
                                          " had a NaN or infinite loss or gradient and was skipped; stopping"));
  m.images_per_s = static_cast<double>(seen) / seconds_since(t0);
  m.train_loss = loss_sum / static_cast<double>(seen);
  m.train_error = static_cast<double>(wrong) / static_cast<double>(seen);
  m.grad_norm = norm_sum / static_cast<double>(steps);
  return m;
}

// `model`'s test loss and error, over every rank's share of the test split.
std::pair<double, double> test_loss_and_error(Run& run, nn::Module& model) {
  // Distributed: each rank evaluates its share of the test set with rank 0's
  // batchnorm statistics (each rank's own moved with its own batches).
  broadcast_buffers(run.replicas, model);
  const EvalResult test = evaluate(model, *run.test_loader, run.info.num_classes);
  if (!run.replicas.distributed) return {test.loss, test.error};
  double test_loss_sum = test.images > 0 ? test.loss * static_cast<double>(test.images) : 0.0;
  std::int64_t test_wrong = test.wrong, test_images = test.images;
  reduce_evaluation(run.replicas, test_loss_sum, test_wrong, test_images);
  return {test_loss_sum / static_cast<double>(test_images),
          static_cast<double>(test_wrong) / static_cast<double>(test_images)};
}

// The test loss and error of the weights, and of their average with --ema.
void evaluate_epoch(Run& run, EpochMetrics& m) {
  std::tie(m.test_loss, m.test_error) = test_loss_and_error(run, *run.model);
  if (run.ema) std::tie(m.ema_test_loss, m.ema_test_error) = test_loss_and_error(run, run.ema->module());
}

// best.safetensors when the test error is the lowest yet (best-ema.safetensors
// likewise for the EMA's), then the epoch's metrics line and
// last.safetensors (rank 0 writes; every rank keeps the best errors).
void save_epoch(Run& run, const EpochMetrics& m) {
  const bool writes = run.replicas.writes();
  if (m.test_error < run.result.best_test_error) {
    run.result.best_test_error = m.test_error;
    if (writes) save_model(run.best.string(), *run.model, run.record);
  }
  if (run.ema && m.ema_test_error < run.result.best_ema_test_error) {
    run.result.best_ema_test_error = m.ema_test_error;
    if (writes) save_model(run.best_ema.string(), run.ema->module(), run.record);
  }
  if (!writes) return;
  // Metrics first: a crash between the two leaves an extra line that a
  // resume drops (truncate_metrics), never a checkpoint without its line.
  append_metrics(run.out, m, optional_columns(run));
  CheckpointInfo info;
  info.epochs_done = m.epoch;
  info.best_test_error = run.result.best_test_error;
  info.config_json = run.record;
  info.generator_state = default_generator().state();
  info.scheduler_step = run.schedule->step_count(m.epoch);
  info.schedule_state = run.schedule->state();
  if (run.ema) {
    info.ema_updates = run.ema->updates();
    info.best_ema_test_error = run.result.best_ema_test_error;
  }
  save_checkpoint(run.last.string(), *run.model, *run.optimizer, info, run.ema ? &run.ema->module() : nullptr);
}

// A finite loss and gradient can still step the weights to infinity (an lr
// of 1e308): checked once an epoch, before anything is saved, so a
// non-finite model is never written as last or best. The sum of |w|
// accumulates in double, so finite float32 weights never overflow it.
void check_weights_finite(const Run& run, std::int64_t epoch) {
  NoGradGuard no_grad;
  for (const auto& [name, p] : run.model->named_parameters()) {
    if (std::isfinite(sum(abs(p)).item())) continue;
    throw TrainingDiverged(detail::concat(
        "the weights ", name, " are no longer finite after epoch ", epoch + 1, " (an update overflowed); stopping. ",
        epoch == 0 ? std::string("No checkpoint was written.")
                   : detail::concat(run.last.string(), " (after epoch ", epoch, ") is intact."),
        " Try a lower --lr."));
  }
}

// After an epoch's batches: check the weights, evaluate them (and the EMA),
// write TensorBoard's view, set the next epoch's lr, save, report.
void finish_epoch(Run& run, std::int64_t epoch, Clock::time_point t0, EpochMetrics& m, Progress& progress,
                  const TrainOptions& options) {
  check_weights_finite(run, epoch);
  evaluate_epoch(run, m);
  m.seconds = seconds_since(t0);
  // TensorBoard's epoch before the checkpoint, as the metrics line (a crash
  // between the two leaves events that a resume hides), and before the
  // schedule moves the lr, which AdaBayes's histogram divides by.
  if (run.tensorboard) run.tensorboard->write_epoch(m, optional_columns(run), *run.model, *run.optimizer);
  // The lr of the next epoch (RunSchedule sets none after the last: a cosine
  // schedule's would be 0, which AdaBayes, whose sigma^2 follows the lr, refuses).
  run.schedule->after_epoch(epoch, m.test_loss, m.test_error);
  save_epoch(run, m);
  progress.epoch(m);
  run.result.history.push_back(m);
  if (options.on_epoch) options.on_epoch(m);
}

// --deterministic for one run: cuda::set_deterministic is the process's
// setting, and a program may go on to train other runs.
struct DeterministicKernels {
  bool before = cuda::deterministic();
  explicit DeterministicKernels(bool on) { cuda::set_deterministic(on || before); }
  ~DeterministicKernels() { cuda::set_deterministic(before); }
  DeterministicKernels(const DeterministicKernels&) = delete;
  DeterministicKernels& operator=(const DeterministicKernels&) = delete;
};

}  // namespace

EvalResult evaluate(nn::Module& model, data::DataLoader& loader, std::int64_t num_classes) {
  // Batches go where the model is.
  const std::vector<Tensor> params = model.parameters();
  const Device device = params.empty() ? Device::cpu() : params.front().device();
  const bool was_training = model.is_training();
  model.eval();
  NoGradGuard no_grad;
  double loss_sum = 0;
  std::int64_t seen = 0, wrong = 0;
  std::vector<std::int64_t> correct(static_cast<std::size_t>(num_classes)), total(correct.size());
  loader.start_epoch(0);
  while (auto batch = loader.next()) {
    const Tensor logits = model.forward(batch->images.to(device));
    loss_sum += cross_entropy(logits, batch->labels.to(device), Reduction::sum).item();
    const std::vector<std::int64_t> predicted = argmax(logits, 1).to_vector<std::int64_t>();
    const std::vector<std::int64_t> labels = batch->labels.to_vector<std::int64_t>();
    for (std::size_t i = 0; i < labels.size(); ++i) {
      const auto label = static_cast<std::size_t>(labels[i]);
      ++total[label];
      if (predicted[i] == labels[i]) ++correct[label];
      else ++wrong;
    }
    seen += static_cast<std::int64_t>(labels.size());
  }
  model.train(was_training);
  EvalResult r;
  r.images = seen;
  r.wrong = wrong;
  r.loss = loss_sum / static_cast<double>(seen);
  r.error = static_cast<double>(wrong) / static_cast<double>(seen);
  for (std::size_t k = 0; k < correct.size(); ++k)
    r.class_accuracy.push_back(total[k] > 0 ? static_cast<double>(correct[k]) / static_cast<double>(total[k])
                                            : std::numeric_limits<double>::quiet_NaN());
  return r;
}

nn::ModulePtr make_model_for(const std::string& name, const data::DatasetInfo& info) {
  FLUXION_CHECK_INPUT(info.channels > 0 && info.height > 0 && info.num_classes > 0, "--dataset ", info.name,
                      ": its classes and image shape come from the folder's files, which only fluxion train, eval "
                      "and predict read");
  nn::ModelOptions model_options;
  model_options.num_classes = info.num_classes;
  model_options.in_channels = info.channels;
  model_options.image_size = info.height;
  nn::ModulePtr model = nn::make_model(name, model_options);
  try {
    NoGradGuard no_grad;
    model->eval();
    model->forward(zeros({2, info.channels, info.height, info.width}));
  } catch (const OutOfMemory&) {
    throw;  // says so itself, with the size; it is not a misfit
  } catch (const Error& e) {
    throw InputError(detail::concat("--model ", name, " does not fit ", info.name, "'s ", info.channels, "x",
                                    info.height, "x", info.width, " images: ", e.what()));
  }
  model->train();
  return model;
}

TrainConfig read_run_config(const std::string& out_dir, const std::string& flag) {
  const fs::path path = fs::path(out_dir) / "config.json";
  FLUXION_CHECK_INPUT(path_exists(path, flag), flag, " ", out_dir, ": no config.json there (is it a fluxion train --out folder?)");
  return from_run_record(read_json_file(path.string(), flag), path.string());
}

TrainResult run_training(TrainConfig config, const TrainOptions& options) {
  validate(config);
  const DeterministicKernels deterministic(config.deterministic);
  Run run;
  start_run(run, std::move(config), options);  // rank, threads, folder checks
  load_data(run);
  build_model(run);
  claim_folder(run, options.resume);
  if (options.resume) resume_from_checkpoint(run);
  write_run_record(run, options.resume);
  open_tensorboard(run);
  // The same start everywhere (seeded alike anyway; a resume read one file).
  broadcast_state(run.replicas, *run.model);
  if (run.ema) broadcast_state(run.replicas, run.ema->module());
  log_run(run);
  Progress progress(*run.log, run.config.epochs, run.train_loader->batches_per_epoch(), run.ema != nullptr);
  for (std::int64_t epoch = run.first_epoch; epoch < run.config.epochs; ++epoch) {
    const auto t0 = Clock::now();
    EpochMetrics m = train_epoch(run, epoch, t0, progress, options);
    finish_epoch(run, epoch, t0, m, progress, options);
  }
  // Every rank returns once rank 0 has written the last checkpoint.
  if (run.replicas.distributed) dist::barrier("the end of training");
  return std::move(run.result);
}

}  // namespace fluxion::train
