#include "train/trainer.h"

#include <nlohmann/json.hpp>

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>

#include "autograd/ops.h"
#include "core/atomic_file.h"
#include "core/parallel.h"
#include "core/version.h"
#include "data/datasets.h"
#include "layers/batch_norm.h"
#include "layers/models/registry.h"
#include "optim/make_optimizer.h"
#include "dist/distributed.h"
#include "train/checkpoint.h"
#include "train/data_parallel.h"
#include "train/progress.h"

namespace fluxion::train {
namespace fs = std::filesystem;
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Appends one epoch to metrics.jsonl and metrics.csv (with a header line when new).
void append_metrics(const fs::path& dir, const EpochMetrics& m) {
  const nlohmann::json line = {{"epoch", m.epoch},           {"train_loss", m.train_loss},
                               {"train_error", m.train_error}, {"test_loss", m.test_loss},
                               {"test_error", m.test_error},   {"lr", m.lr},
                               {"images_per_s", m.images_per_s}, {"seconds", m.seconds},
                               {"skipped_batches", m.skipped_batches}};
  std::ofstream jsonl(dir / "metrics.jsonl", std::ios::app);
  jsonl << line.dump() << "\n";
  FLUXION_CHECK_INPUT(jsonl.good(), "cannot append to ", (dir / "metrics.jsonl").string());
  const bool fresh = !fs::exists(dir / "metrics.csv");
  std::ofstream csv(dir / "metrics.csv", std::ios::app);
  if (fresh) csv << "epoch,train_loss,train_error,test_loss,test_error,lr,images_per_s,seconds,skipped_batches\n";
  char row[512];
  std::snprintf(row, sizeof row, "%lld,%.9g,%.9g,%.9g,%.9g,%.9g,%.6g,%.6g,%lld\n", static_cast<long long>(m.epoch),
                m.train_loss, m.train_error, m.test_loss, m.test_error, m.lr, m.images_per_s, m.seconds,
                static_cast<long long>(m.skipped_batches));
  csv << row;
  FLUXION_CHECK_INPUT(csv.good(), "cannot append to ", (dir / "metrics.csv").string());
}

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

// Keeps only the first `epochs` lines of the metrics files (a resumed run
// rewrites the epochs after its checkpoint, if an interrupted run got further).
void truncate_metrics(const fs::path& dir, std::int64_t epochs) {
  for (const char* name : {"metrics.jsonl", "metrics.csv"}) {
    const fs::path path = dir / name;
    if (!fs::exists(path)) continue;
    std::ifstream in(path);
    std::string kept, line;
    const std::int64_t keep = epochs + (std::string(name) == "metrics.csv" ? 1 : 0);
    for (std::int64_t i = 0; i < keep && std::getline(in, line); ++i) kept += line + "\n";
    in.close();
    write_file_atomically(path.string(), kept, "fluxion train");
  }
}

nlohmann::json run_record(const TrainConfig& config) {
  nlohmann::json j = to_json(config);
  j["optimizer_options"] = resolved_optimizer_options(config);
  j["fluxion_version"] = version();
  j["git_commit"] = git_commit();
  j["blas"] = blas_backend();
  j["threads"] = config.threads;
  return j;
}

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
  nn::ModelOptions model_options;
  model_options.num_classes = info.num_classes;
  model_options.in_channels = info.channels;
  model_options.image_size = info.height;
  nn::ModulePtr model = nn::make_model(name, model_options);
  try {
    NoGradGuard no_grad;
    model->eval();
    model->forward(zeros({2, info.channels, info.height, info.width}));
  } catch (const Error& e) {
    throw InputError(detail::concat("--model ", name, " does not fit ", info.name, "'s ", info.channels, "x",
                                    info.height, "x", info.width, " images: ", e.what()));
  }
  model->train();
  return model;
}

TrainConfig read_run_config(const std::string& out_dir, const std::string& flag) {
  const fs::path path = fs::path(out_dir) / "config.json";
  FLUXION_CHECK_INPUT(fs::exists(path), flag, " ", out_dir, ": no config.json there (is it a fluxion train --out folder?)");
  return from_run_record(read_json_file(path.string(), flag), path.string());
}

TrainResult run_training(TrainConfig config, const TrainOptions& options) {
  validate(config);
  const Replicas replicas = start_replicas(config);
  // Rank 0 speaks and writes for the run; the other ranks train silently.
  std::ostream silent(nullptr);
  std::ostream& log = !replicas.writes() ? silent : options.log ? *options.log : std::cout;
  if (config.threads > 0) set_num_threads(config.threads);
  // Recorded as used, so a resumed run takes the same thread count (the
  // float sums' order, hence the bits, depend on it).
  config.threads = get_num_threads();
  // A bare "cosine" spans this run's epochs; recorded with them, so a resumed
  // run that goes further keeps the original curve.
  config.schedule = recorded_schedule(config);
  const fs::path out(config.out_dir);
  const fs::path last = out / "last.safetensors", best = out / "best.safetensors";
  if (options.resume) {
    FLUXION_CHECK_INPUT(fs::exists(last), "--resume ", out.string(), ": no last.safetensors there to resume from");
  } else {
    FLUXION_CHECK_INPUT(!fs::exists(last), "--out ", out.string(),
                        " already holds a run (last.safetensors); continue it with --resume ", out.string(),
                        " or choose another --out");
  }
  std::error_code made;
  if (replicas.writes()) fs::create_directories(out, made);
  FLUXION_CHECK_INPUT(!made, "--out ", out.string(), ": cannot create the folder: ", made.message());
  const std::vector<std::string> stale =
      replicas.writes() ? remove_stale_temporaries(out.string()) : std::vector<std::string>{};
  if (!stale.empty())
    log << "removed " << stale.size() << " temporary file" << (stale.size() == 1 ? "" : "s")
        << " left in " << out.string() << " by an interrupted run (" << stale.front() << (stale.size() > 1 ? ", ..." : "")
        << ")\n";

  // Data.
  const data::DatasetInfo& info = data::dataset_info(config.dataset);
  auto train_set = std::make_shared<data::Dataset>(data::load_dataset(config.dataset, config.data_dir, true));
  FLUXION_CHECK_INPUT(config.subset <= train_set->size(), "--subset ", config.subset, " exceeds the ",
                      train_set->size(), " training images of ", config.dataset);
  if (config.subset > 0) train_set->keep_first(config.subset);
  auto test_set = std::make_shared<const data::Dataset>(data::load_dataset(config.dataset, config.data_dir, false));
  const bool augment = config.augment == -1 ? config.dataset.rfind("cifar", 0) == 0 : config.augment == 1;
  const auto base = data::LoaderOptions()
                        .batch_size(config.batch_size)
                        .mean(info.mean)
                        .std(info.std)
                        .seed(config.seed)
                        .workers(config.workers)
                        .num_replicas(replicas.size)
                        .rank(replicas.rank);
  data::DataLoader train_loader(train_set, data::LoaderOptions(base).shuffle(true).augment(augment));
  data::DataLoader test_loader(test_set, data::LoaderOptions(base).shuffle(false));

  // Model, optimizer, schedule: seeded, so a run is reproducible.
  manual_seed(config.seed);
  nn::ModulePtr model = make_model_for(config.model, info);
  if (config.sync_batchnorm)
    for (const auto& [name, module] : model->named_modules())
      if (auto* bn = dynamic_cast<nn::BatchNorm*>(module.get()))
        bn->options.sync_across_ranks(dist::all_reduce_sum_differentiable);
  // Initialised on the CPU (the same values on every device), then moved.
  const Device device = parse_device(config.device, "--device");
  model->to(device);
  auto optimizer = optim::make_optimizer(config.optimizer, model->parameters(), resolved_optimizer_options(config));
  optim::LRScheduler scheduler(*optimizer, parse_schedule(config.schedule, config.epochs));

  nlohmann::json record_json = run_record(config);
  if (replicas.distributed) record_json["ranks"] = replicas.size;
  const std::string record = record_json.dump(2);
  TrainResult result;
  result.out_dir = out.string();
  std::int64_t start = 0;
  if (options.resume) {
    // The shares of each batch, hence the run, depend on the number of ranks.
    const nlohmann::json before = read_json_file((out / "config.json").string(), "--resume");
    const int ranks_before = before.is_object() ? before.value("ranks", 1) : 1;
    FLUXION_CHECK_INPUT(ranks_before == replicas.size, "--resume ", out.string(), ": the run was trained on ",
                        ranks_before, ranks_before == 1 ? " process" : " ranks", ", and resumes only on as many",
                        ranks_before > 1 ? " (mpirun -np " + std::to_string(ranks_before) + " ... --distributed)" : "",
                        "; this is ", replicas.size);
    const CheckpointInfo saved = load_checkpoint(last.string(), *model, *optimizer);
    start = saved.epochs_done;
    result.best_test_error = saved.best_test_error;
    default_generator().set_state(saved.generator_state);
    scheduler.set_last_epoch(start);
    if (replicas.writes()) truncate_metrics(out, start);
    FLUXION_CHECK_INPUT(start < config.epochs, "--resume ", out.string(), ": the run already did ", start, " of ",
                        config.epochs, " epochs; pass a larger --epochs to train further");
    log << "resuming " << out.string() << " after epoch " << start << "\n";
  } else if (replicas.writes()) {
    for (const char* name : {"metrics.jsonl", "metrics.csv"}) fs::remove(out / name);
  }
  if (replicas.writes()) write_file_atomically((out / "config.json").string(), record + "\n", "fluxion train");
  // The same start everywhere (seeded alike anyway; a resume read one file).
  broadcast_state(replicas, *model);

  log << "fluxion train: " << config.model << " (" << model->num_parameters() << " parameters) on "
      << config.dataset << " (" << train_set->size() << " training, " << test_set->size() << " test images), "
      << config.optimizer << ", " << config.epochs << " epochs of batch " << config.batch_size << ", "
      << get_num_threads() << " threads, on " << device
      << (replicas.distributed ? detail::concat(", on each of ", replicas.size, " ranks (global batch ",
                                                config.batch_size * replicas.size, ")")
                               : std::string())
      << "\n";
  Progress progress(log, config.epochs, train_loader.batches_per_epoch());

  for (std::int64_t epoch = start; epoch < config.epochs; ++epoch) {
    const auto t0 = Clock::now();
    EpochMetrics m;
    m.epoch = epoch + 1;
    m.lr = optimizer->lr();
    model->train();
    train_loader.start_epoch(epoch);
    double loss_sum = 0;
    std::int64_t seen = 0, wrong = 0;
    while (auto batch = train_loader.next()) {
      optimizer->zero_grad();
      // A skipped batch must leave no trace, but its train-mode forward
      // already moved batchnorm's running statistics (towards NaN, if the
      // activations were): keep a copy to put back.
      std::vector<Tensor> buffers_before;
      if (config.skip_nonfinite > 0)
        for (const auto& [name, b] : model->named_buffers()) buffers_before.push_back(b.clone());
      // This rank's share of the step (all of it unless distributed; a share
      // of a small last batch may be empty).
      const std::int64_t count = batch->labels.size(0);
      double value = 0;
      std::int64_t batch_wrong = 0;
      bool loss_finite = true;
      // Synchronised batchnorm's forward and backward are collectives: every
      // rank runs both, with an empty share or a NaN loss too.
      const bool collective_forward = config.sync_batchnorm;
      if (count > 0 || collective_forward) {
        const Tensor labels = batch->labels.to(device);
        const Tensor logits = model->forward(batch->images.to(device));
        // An empty share's loss is the sum over no images: 0, with a graph.
        const Tensor loss = cross_entropy(logits, labels, count > 0 ? Reduction::mean : Reduction::sum);
        value = loss.item();
        loss_finite = std::isfinite(value);
        if (count > 0) batch_wrong = count - static_cast<std::int64_t>(eq(argmax(logits, 1), labels).sum().item());
        if (loss_finite || collective_forward) loss.backward();
        if (loss_finite && count > 0 && options.after_backward) options.after_backward(*model);
      }
      // Distributed: the ranks' gradients become the global batch's.
      const StepTotals step = reduce_step(replicas, *model, count, batch->global_size, value, batch_wrong, loss_finite);
      // The checks: a NaN or infinite loss, or gradient (the same verdict on every rank).
      std::string bad;
      if (!step.finite)
        bad = !loss_finite ? std::string("the loss became ") + (std::isnan(value) ? "NaN" : value > 0 ? "inf" : "-inf")
                           : std::string("the loss became NaN or infinite on another rank");
      else if (!gradients_finite(*model))
        bad = "a gradient became NaN or infinite";
      if (!bad.empty()) {
        if (m.skipped_batches < config.skip_nonfinite) {
          ++m.skipped_batches;  // no update; the next batch starts with zero_grad
          restore_buffers(*model, buffers_before);
          log << "\nwarning: " << bad << " at epoch " << epoch + 1 << ", batch " << batch->index + 1
              << "; batch skipped (" << m.skipped_batches << " of --skip-nonfinite " << config.skip_nonfinite
              << " this epoch)\n";
          if (options.on_step)
            options.on_step({epoch + 1, batch->index + 1, train_loader.batches_per_epoch(), value, *model, *optimizer,
                             true});
          continue;
        }
        throw TrainingDiverged(detail::concat(
            bad, " at epoch ", epoch + 1, ", batch ", batch->index + 1, "; stopping",
            m.skipped_batches ? detail::concat(" (", m.skipped_batches, " such batches skipped this epoch already)") : "",
            ". ",
            epoch == 0 ? std::string("No checkpoint was written yet.")
                       : detail::concat(last.string(), " (after epoch ", epoch, ") is intact."),
            " Try a lower --lr", config.skip_nonfinite ? "" : ", or --skip-nonfinite N to skip up to N such batches",
            "."));
      }
      optimizer->step();
      loss_sum += step.loss_sum;
      wrong += static_cast<std::int64_t>(step.wrong);
      seen += batch->global_size;
      progress.batch(epoch + 1, batch->index + 1, seen / seconds_since(t0), loss_sum / static_cast<double>(seen));
      if (options.on_step)
        options.on_step({epoch + 1, batch->index + 1, train_loader.batches_per_epoch(),
                         replicas.distributed ? step.loss_sum / static_cast<double>(batch->global_size) : value,
                         *model, *optimizer});
    }
    if (seen == 0)
      throw TrainingDiverged(detail::concat("every batch of epoch ", epoch + 1,
                                            " had a NaN or infinite loss or gradient and was skipped; stopping"));
    m.images_per_s = static_cast<double>(seen) / seconds_since(t0);
    m.train_loss = loss_sum / static_cast<double>(seen);
    m.train_error = static_cast<double>(wrong) / static_cast<double>(seen);
    // Distributed: each rank evaluates its share of the test set with rank 0's
    // batchnorm statistics (each rank's own moved with its own batches).
    broadcast_buffers(replicas, *model);
    const EvalResult test = evaluate(*model, test_loader, info.num_classes);
    double test_loss_sum = test.images > 0 ? test.loss * static_cast<double>(test.images) : 0.0;
    std::int64_t test_wrong = test.wrong, test_images = test.images;
    reduce_evaluation(replicas, test_loss_sum, test_wrong, test_images);
    m.test_loss = replicas.distributed ? test_loss_sum / static_cast<double>(test_images) : test.loss;
    m.test_error = replicas.distributed ? static_cast<double>(test_wrong) / static_cast<double>(test_images) : test.error;
    // The lr of the next epoch; after the last, none is needed (and a cosine
    // schedule's would be 0, which AdaBayes, whose sigma^2 follows the lr, refuses).
    if (epoch + 1 < config.epochs) scheduler.step();
    m.seconds = seconds_since(t0);

    if (m.test_error < result.best_test_error) {
      result.best_test_error = m.test_error;
      if (replicas.writes()) save_model(best.string(), *model, record);
    }
    if (replicas.writes()) {
      // Metrics first: a crash between the two leaves an extra line that a
      // resume drops (truncate_metrics), never a checkpoint without its line.
      append_metrics(out, m);
      CheckpointInfo info_out;
      info_out.epochs_done = epoch + 1;
      info_out.best_test_error = result.best_test_error;
      info_out.config_json = record;
      info_out.generator_state = default_generator().state();
      save_checkpoint(last.string(), *model, *optimizer, info_out);
    }
    progress.epoch(m);
    result.history.push_back(m);
    if (options.on_epoch) options.on_epoch(m);
  }
  // Every rank returns once rank 0 has written the last checkpoint.
  if (replicas.distributed) dist::barrier("the end of training");
  return result;
}

}  // namespace fluxion::train
