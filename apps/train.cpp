// `fluxion train`: flags (or a JSON --config with the same keys) into a
// TrainConfig, then train::run_training (train/trainer.h). Precedence, low to
// high: the defaults, --preset paper, --config, the flags given. --resume DIR
// continues the run in DIR with the configuration recorded there;
// --auto-resume continues the run in --out if there is one (cluster jobs
// that may be requeued); --dry-run checks everything and trains nothing.
#include <filesystem>
#include <iostream>

#include <nlohmann/json.hpp>

#include "apps/commands.h"
#include "data/datasets.h"
#include "layers/models/registry.h"
#include "optim/make_optimizer.h"
#include "train/checkpoint.h"
#include "train/trainer.h"

namespace fluxion::apps {
namespace {

struct TrainFlags {
  train::TrainConfig config;  // the flags' values (defaults where not given)
  double lr = 0, sgd_lr = 0, momentum = 0, weight_decay = 0;
  std::vector<double> betas;
  std::string augment = "auto", config_file, resume, preset;
  bool dry_run = false, auto_resume = false;
};

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

void run(CLI::App* cmd, const TrainFlags& f) {
  auto given = [cmd](const char* flag) { return cmd->get_option(flag)->count() > 0; };
  train::TrainConfig c;
  if (!f.resume.empty()) {
    c = train::read_run_config(f.resume);
    c.out_dir = f.resume;
    // A resumed run is the recorded run: only how long and on how many threads may change.
    for (const char* flag : {"--model", "--dataset", "--optimizer", "--lr", "--sgd-lr", "--momentum",
                             "--weight-decay", "--betas", "--batch-size", "--schedule", "--seed", "--subset",
                             "--augment", "--out", "--config", "--preset", "--device", "--skip-nonfinite", "--distributed", "--sync-batchnorm"})
      FLUXION_CHECK_INPUT(!given(flag), flag, " cannot change when resuming (the run in ", f.resume,
                          " was recorded with its own); only --epochs, --threads, --workers and --data-dir can");
  } else {
    if (f.preset == "paper") train::apply_paper_preset(c);
    if (!f.config_file.empty()) c = train::read_config_file(f.config_file, c);
  }
  const train::TrainConfig& v = f.config;
  if (given("--model")) c.model = v.model;
  if (given("--dataset")) c.dataset = v.dataset;
  if (given("--data-dir")) c.data_dir = v.data_dir;
  if (given("--optimizer")) c.optimizer = v.optimizer;
  if (given("--lr")) c.optimizer_options["lr"] = f.lr;
  if (given("--sgd-lr")) c.optimizer_options["sgd_lr"] = f.sgd_lr;
  if (given("--momentum")) c.optimizer_options["momentum"] = f.momentum;
  if (given("--weight-decay")) c.optimizer_options["weight_decay"] = f.weight_decay;
  if (given("--betas")) c.optimizer_options["beta1"] = f.betas.at(0), c.optimizer_options["beta2"] = f.betas.at(1);
  if (given("--epochs")) c.epochs = v.epochs;
  if (given("--batch-size")) c.batch_size = v.batch_size;
  if (given("--schedule")) c.schedule = v.schedule;
  if (given("--seed")) c.seed = v.seed;
  if (given("--threads")) c.threads = v.threads;
  if (given("--device")) c.device = v.device;
  if (given("--subset")) c.subset = v.subset;
  if (given("--workers")) c.workers = v.workers;
  if (given("--skip-nonfinite")) c.skip_nonfinite = v.skip_nonfinite;
  if (given("--distributed")) c.distributed = v.distributed;
  if (given("--sync-batchnorm")) c.sync_batchnorm = v.sync_batchnorm;
  if (given("--collective-timeout")) c.collective_timeout = v.collective_timeout;
  if (given("--augment")) c.augment = f.augment == "on" ? 1 : f.augment == "off" ? 0 : -1;
  const bool fresh_folder =
      !given("--out") && f.resume.empty() && (f.config_file.empty() || c.out_dir == train::TrainConfig().out_dir);
  if (given("--out")) c.out_dir = v.out_dir;

  if (f.dry_run) {  // everything checked, nothing made
    train::validate(c);
    nlohmann::json resolved = train::to_json(c);
    resolved["optimizer_options"] = train::resolved_optimizer_options(c);
    if (fresh_folder) resolved["out"] = "runs/" + c.dataset + "-" + c.model + "-" + c.optimizer + " (or -2, -3, ...)";
    std::cout << "fluxion train --dry-run: a valid run (the data files are read only when it trains):\n"
              << resolved.dump(2) << "\n";
    return;
  }
  if (fresh_folder) c.out_dir = fresh_out_dir(c);

  train::TrainOptions options;
  options.resume = !f.resume.empty();
  if (f.auto_resume) {
    FLUXION_CHECK_INPUT(f.resume.empty() && given("--out"), "--auto-resume needs --out DIR (and no --resume)");
    const std::filesystem::path last = std::filesystem::path(c.out_dir) / "last.safetensors";
    if (std::filesystem::exists(last)) {
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
      if (done >= c.epochs) {
        std::cout << "fluxion train --auto-resume: " << c.out_dir << " already did " << done << " of " << c.epochs
                  << " epochs; nothing to do\n";
        return;
      }
      options.resume = true;
    }
  }
  const train::TrainResult result = train::run_training(c, options);
  std::cout << "best test error " << 100.0 * result.best_test_error << "% (accuracy "
            << 100.0 * (1.0 - result.best_test_error) << "%)\n"
            << "run folder " << result.out_dir << ": metrics.jsonl, metrics.csv, config.json, last.safetensors "
            << "(resume with fluxion train --resume " << result.out_dir << " --epochs N), best.safetensors\n"
            << "plot it: fluxion plot " << result.out_dir << " --out " << result.out_dir << "/curves.svg\n";
}

}  // namespace

void add_train_command(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("train", "Train a model (defaults: the small CNN on Fashion-MNIST with AdaBayes)");
  auto f = std::make_shared<TrainFlags>();
  train::TrainConfig& c = f->config;
  cmd->add_option("--model", c.model, "Model")->check(CLI::IsMember(nn::model_names()))->capture_default_str();
  cmd->add_option("--dataset", c.dataset, "Dataset")->check(CLI::IsMember(data::dataset_names()))->capture_default_str();
  cmd->add_option("--data-dir", c.data_dir, "Folder with the dataset's files (default: where its Debian package puts it)");
  cmd->add_option("--optimizer", c.optimizer, "Optimizer")
      ->check(CLI::IsMember(optim::optimizer_names()))
      ->capture_default_str();
  cmd->add_option("--lr", f->lr, "Learning rate (default: the paper's for the optimizer)")->check(CLI::NonNegativeNumber);
  cmd->add_option("--sgd-lr", f->sgd_lr, "AdaBayes: the SGD learning rate of the low-data limit")->check(CLI::NonNegativeNumber);
  cmd->add_option("--momentum", f->momentum, "SGD/RMSprop momentum")->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--weight-decay", f->weight_decay, "Weight decay (L2, or decoupled for AdamW and AdaBayes)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--betas", f->betas, "beta1,beta2")->expected(2)->delimiter(',')->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--epochs", c.epochs, "Epochs")->check(CLI::Range(1, 100000))->capture_default_str();
  cmd->add_option("--batch-size", c.batch_size, "Images per step")->check(CLI::Range(1, 65536))->capture_default_str();
  cmd->add_option("--schedule", c.schedule, "none, step:EPOCHS:GAMMA, multistep:E1,E2:GAMMA, cosine[:EPOCHS]")
      ->capture_default_str();
  cmd->add_option("--seed", c.seed, "Seed of the initialisation, shuffling and augmentation")->capture_default_str();
  cmd->add_option("--threads", c.threads, "Threads (0: FLUXION_NUM_THREADS, else all cores)")->check(CLI::Range(0, 4096));
  cmd->add_option("--device", c.device, "Where to train: cpu, cuda or cuda:N")->capture_default_str();
  cmd->add_option("--subset", c.subset, "Train on the first N images only (0: all)")->check(CLI::NonNegativeNumber);
  cmd->add_option("--augment", f->augment, "Random crop and flip: on, off, auto (on for CIFAR)")
      ->check(CLI::IsMember({"on", "off", "auto"}))
      ->capture_default_str();
  cmd->add_option("--workers", c.workers, "Data loader threads")->check(CLI::Range(1, 64))->capture_default_str();
  cmd->add_option("--skip-nonfinite", c.skip_nonfinite,
                  "Skip up to N batches an epoch whose loss or gradient is NaN/inf (counted in the metrics) "
                  "instead of stopping")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_flag("--distributed", c.distributed,
                "Data-parallel over the ranks of mpirun (mpirun -np N fluxion train --distributed ...): --batch-size "
                "is each rank's share of the step; docs/distributed.md");
  cmd->add_flag("--sync-batchnorm", c.sync_batchnorm,
                "--distributed: batchnorm with the whole global batch's statistics (PyTorch's SyncBatchNorm), "
                "not each rank's share");
  cmd->add_option("--collective-timeout", c.collective_timeout,
                  "--distributed: seconds a rank waits for the others before the job stops")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--out", c.out_dir, "Folder for metrics and checkpoints (default: a fresh runs/DATASET-MODEL-OPTIMIZER)");
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
