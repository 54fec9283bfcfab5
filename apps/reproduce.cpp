// `fluxion reproduce table1` and `fluxion reproduce fig3`: the paper's
// Table 1 / Fig. 4 sweep and its Fig. 3, each by one command
// (reproduce/protocol.h, table1.h, fig3.h; docs/reproduce.md).
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <memory>

#include "apps/bench_common.h"
#include "apps/commands.h"
#include "apps/flag_checks.h"
#include "core/stop_request.h"
#include "autograd/ops.h"
#include "core/atomic_file.h"
#include "core/factory.h"
#include "core/parallel.h"
#include "data/datasets.h"
#include "layers/models/registry.h"
#include "optim/make_optimizer.h"
#include "reproduce/cluster.h"
#include "reproduce/fig3.h"
#include "reproduce/table1.h"
#include "train/trainer.h"

namespace fluxion::apps {
namespace {

namespace fs = std::filesystem;
using reproduce::PlannedRun;
using reproduce::RunState;

struct Table1Flags {
  std::string protocol = "small", data_dir, out, device = "cpu", reference_curves;
  std::vector<std::string> datasets, models, optimizers = reproduce::table1_optimizers();
  std::int64_t seeds = 3, epochs = 0, subset = -1;
  int threads = 0, workers = 2;
  bool report_only = false, dry_run = false;
  std::string emit_slurm, emit_shell;  // folders for the scripts (reproduce/cluster.h)
  std::vector<std::string> sbatch;
};

// Seconds per training step of `e`'s model at the batch size, measured on
// random images (the optimizer's share of a step is small; SGD stands in).
double seconds_per_step(const reproduce::Experiment& e, std::int64_t batch_size, const std::string& device_name) {
  const data::DatasetInfo& info = data::dataset_info(e.dataset);
  const Device device = parse_device(device_name, "--device");
  nn::ModulePtr model = train::make_model_for(e.model, info);
  model->to(device);
  auto optimizer = optim::make_optimizer("sgd", model->parameters());
  const Tensor images = randn({batch_size, info.channels, info.height, info.width}).to(device);
  const Tensor labels = zeros({batch_size}, DType::int64).to(device);
  auto step = [&] {
    optimizer->zero_grad();
    cross_entropy(model->forward(images), labels).backward();
    optimizer->step();
  };
  // On a CPU a DenseNet-121 step takes many seconds: one warm-up, two timed.
  return device.is_cpu() ? median_seconds(step, 0.0, 1, 2) : device_seconds(device, step, 0.5);
}

std::string duration(double seconds) {
  char text[64];
  if (seconds < 90) std::snprintf(text, sizeof text, "%.0f s", seconds);
  else if (seconds < 5400) std::snprintf(text, sizeof text, "%.0f min", seconds / 60);
  else if (seconds < 3 * 86400) std::snprintf(text, sizeof text, "%.1f h", seconds / 3600);
  else std::snprintf(text, sizeof text, "%.0f days", seconds / 86400);
  return text;
}

// What is left of the sweep, timed from one measured step per experiment;
// evaluation is counted as a third of a training step per image.
void print_expected_time(const reproduce::Protocol& p, const std::vector<PlannedRun>& runs,
                         const std::vector<reproduce::RunProgress>& progress, const Table1Flags& f) {
  double total = 0;
  std::size_t left = 0;
  for (const reproduce::Experiment& e : p.experiments) {
    double epochs_left = 0;
    for (std::size_t i = 0; i < runs.size(); ++i)
      if (runs[i].experiment.folder() == e.folder() && progress[i].state != RunState::done) {
        epochs_left += static_cast<double>(runs[i].config.epochs - progress[i].epochs_done);
        ++left;
      }
    if (epochs_left == 0) continue;
    const data::DatasetInfo& info = data::dataset_info(e.dataset);
    const double images = static_cast<double>(p.subset > 0 ? p.subset : info.train_images);
    std::cout << "measuring a training step of " << e.model << " on " << e.dataset << " ... " << std::flush;
    const double step = seconds_per_step(e, p.batch_size, f.device);
    const double epoch = (images + static_cast<double>(info.test_images) / 3) / static_cast<double>(p.batch_size) * step;
    std::cout << duration(step) << " per step of " << p.batch_size << ", about " << duration(epoch)
              << " per epoch\n";
    total += epochs_left * epoch;
  }
  std::cout << left << " of " << runs.size() << " runs to do; expected time on " << f.device << " with "
            << get_num_threads() << (get_num_threads() == 1 ? " thread: " : " threads: ") << duration(total) << "\n";
}

void write_report(const reproduce::Protocol& p, const Table1Flags& f, const std::vector<PlannedRun>& runs,
                  const std::vector<reproduce::ReferenceCurve>& references) {
  const reproduce::Table1 table = reproduce::gather_table1(p, f.optimizers, runs);
  const std::string md = (fs::path(f.out) / "table1.md").string(), svg = (fs::path(f.out) / "fig4.svg").string();
  write_file_atomically(md, reproduce::table1_markdown(table), "fluxion reproduce");
  if (table.runs_found > 0) write_file_atomically(svg, reproduce::fig4_svg(table, references), "fluxion reproduce");
  std::cout << "fluxion reproduce: " << table.runs_found << " of " << table.runs_planned << " runs finished; wrote "
            << md << (table.runs_found > 0 ? " and " + svg : "") << "\n";
}

// The `fluxion reproduce table1` arguments that make the same plan, writing
// only the table (gather.sh).
std::vector<std::string> gather_arguments(const Table1Flags& f, const std::string& out) {
  auto joined = [](const std::vector<std::string>& names) {
    std::string s;
    for (const std::string& n : names) s += (s.empty() ? "" : ",") + n;
    return s;
  };
  // The lists as the user gave them: the protocol turns them into the same
  // experiments again (empty: its own choice per dataset).
  std::vector<std::string> args = {"reproduce", "table1", "--protocol", f.protocol};
  if (!f.datasets.empty()) args.insert(args.end(), {"--dataset", joined(f.datasets)});
  if (!f.models.empty()) args.insert(args.end(), {"--model", joined(f.models)});
  args.insert(args.end(), {"--optimizers", joined(f.optimizers), "--seeds", std::to_string(f.seeds)});
  if (f.epochs > 0) args.insert(args.end(), {"--epochs", std::to_string(f.epochs)});
  if (f.subset >= 0) args.insert(args.end(), {"--subset", std::to_string(f.subset)});
  if (!f.reference_curves.empty())
    args.insert(args.end(), {"--reference-curves", fs::absolute(f.reference_curves).string()});
  args.insert(args.end(), {"--out", out, "--report-only"});
  return args;
}

void write_script(const fs::path& dir, const std::string& name, const std::string& text, const char* flag) {
  std::error_code made;
  fs::create_directories(dir, made);
  FLUXION_CHECK_INPUT(!made, flag, " ", dir.string(), ": cannot create the folder: ", made.message());
  const std::string path = (dir / name).string();
  write_file_atomically(path, text, flag);
  fs::permissions(path, fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec, fs::perm_options::add);
  std::cout << "wrote " << path << "\n";
}

// --emit-slurm / --emit-shell: the plan as scripts, with absolute paths so
// they run from any folder.
void emit_scripts(const reproduce::Protocol& p, const Table1Flags& f, std::vector<PlannedRun> runs) {
  const std::string out = fs::absolute(f.out).lexically_normal().string();
  for (PlannedRun& run : runs) {
    run.config.out_dir = fs::absolute(run.config.out_dir).lexically_normal().string();
    if (!run.config.data_dir.empty()) run.config.data_dir = fs::absolute(run.config.data_dir).string();
  }
  reproduce::ClusterOptions o;
  std::error_code ignored;
  o.fluxion = fs::canonical("/proc/self/exe", ignored).string();
  if (o.fluxion.empty()) o.fluxion = "fluxion";
  o.sbatch = f.sbatch;
  o.gather_args = gather_arguments(f, out);
  o.description = p.description;
  std::cout << "fluxion reproduce table1: " << runs.size() << (runs.size() == 1 ? " task" : " tasks") << " for "
            << p.description << "\n";
  if (!f.emit_slurm.empty()) {
    write_script(f.emit_slurm, "table1.sbatch", reproduce::slurm_script(runs, o, out), "--emit-slurm");
    write_script(f.emit_slurm, "gather.sh", reproduce::gather_script(o), "--emit-slurm");
    std::error_code made;
    fs::create_directories(fs::path(out) / "slurm", made);  // Slurm does not make the log folder
    FLUXION_CHECK_INPUT(!made, "--out ", out, ": cannot create ", out, "/slurm: ", made.message());
    std::cout << "submit: sbatch " << (fs::path(f.emit_slurm) / "table1.sbatch").string()
              << "; when it is done: bash " << (fs::path(f.emit_slurm) / "gather.sh").string() << "\n";
  }
  if (!f.emit_shell.empty()) {
    write_script(f.emit_shell, "run_all.sh", reproduce::shell_script(runs, o), "--emit-shell");
    write_script(f.emit_shell, "gather.sh", reproduce::gather_script(o), "--emit-shell");
    std::cout << "run: bash " << (fs::path(f.emit_shell) / "run_all.sh").string() << "\n";
  }
}

void run_table1(const Table1Flags& f) {
  reproduce::Protocol p = reproduce::make_protocol(f.protocol, f.datasets, f.models);
  reproduce::override_length(p, f.epochs, f.subset);
  std::vector<std::uint64_t> seeds;
  for (std::int64_t s = 0; s < f.seeds; ++s) seeds.push_back(static_cast<std::uint64_t>(s));
  std::vector<PlannedRun> runs = reproduce::plan_runs(p, f.out, f.optimizers, seeds);
  const std::vector<reproduce::ReferenceCurve> references =
      f.reference_curves.empty() ? std::vector<reproduce::ReferenceCurve>{}
                                 : reproduce::read_reference_curves(f.reference_curves);
  std::vector<reproduce::RunProgress> progress;
  for (PlannedRun& run : runs) {
    run.config.data_dir = f.data_dir;
    run.config.threads = f.threads;
    run.config.workers = f.workers;
    run.config.device = f.device;
    // Scripts for a cluster are often written on a login node without its GPUs.
    const bool emitting = !f.emit_slurm.empty() || !f.emit_shell.empty();
    train::TrainConfig checked = run.config;
    if (emitting) parse_device(f.device, "--device"), checked.device = "cpu";
    train::validate(checked);
    progress.push_back(reproduce::run_progress(run));
  }
  if (!f.emit_slurm.empty() || !f.emit_shell.empty()) return emit_scripts(p, f, runs);
  std::cout << "fluxion reproduce table1: " << p.description << "\n";
  if (!f.report_only) {
    if (f.threads > 0) set_num_threads(f.threads);
    print_expected_time(p, runs, progress, f);
    if (f.dry_run) return;
  }
  std::error_code made;
  fs::create_directories(f.out, made);
  FLUXION_CHECK_INPUT(!made, "--out ", f.out, ": cannot create the folder: ", made.message());
  if (f.report_only) return write_report(p, f, runs, references);

  std::size_t diverged = 0, trained = 0;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const PlannedRun& run = runs[i];
    if (progress[i].state == RunState::done) continue;
    std::cout << "\n[" << i + 1 << "/" << runs.size() << "] " << reproduce::display_name(run.optimizer) << ", seed "
              << run.seed << ", " << run.experiment.model << " on " << run.experiment.dataset << " -> "
              << run.config.out_dir
              << (progress[i].state == RunState::partial
                      ? " (resuming after epoch " + std::to_string(progress[i].epochs_done) + ")"
                      : "")
              << "\n";
    train::TrainOptions options;
    options.resume = progress[i].state == RunState::partial;
    try {
      train::run_training(run.config, options);
    } catch (const train::TrainingDiverged& e) {
      // Recorded as unfinished; the sweep goes on (the table counts it).
      std::cout << "diverged: " << e.what() << "\n";
      ++diverged;
    }
    write_report(p, f, runs, references);  // after every run, to be read while the sweep goes on
    ++trained;
  }
  if (trained == 0) write_report(p, f, runs, references);
  if (diverged > 0) std::cout << diverged << " runs diverged; they are left out of the table\n";
}

struct Fig3Flags {
  train::TrainConfig config;
  std::int64_t samples = 3000;
  std::vector<std::string> parameters;
  std::string out;
};

void run_fig3(const Fig3Flags& f) {
  reproduce::Fig3Options options{f.config, f.samples, f.parameters};
  // The trainer makes --out (as run/'s parent) once every check has passed:
  // a refused run leaves nothing behind.
  const std::vector<reproduce::Fig3Point> points = reproduce::run_fig3(options, f.out, std::cout);
  FLUXION_CHECK(!points.empty(), "fluxion reproduce fig3: no points were sampled");
  const train::TrainConfig& c = f.config;
  // The title: what was trained, the batch where it is not the paper's 128,
  // and the parameters followed where not all (then without the paper's
  // setting, for room).
  const std::size_t followed = f.parameters.size();
  const std::string weights =
      followed == 0 ? "" : "; " + std::to_string(followed) + (followed == 1 ? " tensor" : " tensors") + " only";
  const std::string what =
      c.model + ", " + c.dataset +
      (c.subset > 0 ? " (first " + std::to_string(c.subset) + " images)" : std::string()) + ", " +
      std::to_string(c.epochs) + (c.epochs == 1 ? " epoch" : " epochs") +
      (c.batch_size != 128 ? " of batch " + std::to_string(c.batch_size) : std::string()) +
      (weights.empty() ? " (the paper: ResNet-34, CIFAR-10)" : weights);
  const std::string csv = (fs::path(f.out) / "fig3.csv").string(), svg = (fs::path(f.out) / "fig3.svg").string();
  write_file_atomically(csv, reproduce::fig3_csv(points), "fluxion reproduce");
  write_file_atomically(svg, reproduce::fig3_svg(points, what), "fluxion reproduce");
  const reproduce::Fig3Summary s = reproduce::summarize_fig3(points);
  auto percent = [](double share) {
    char text[32];
    std::snprintf(text, sizeof text, "%.1f%%", 100 * share);
    return std::isnan(share) ? std::string("-") : std::string(text);
  };
  std::cout << "fluxion reproduce fig3: " << points.size() << " points of " << f.samples << " weights; wrote " << csv
            << " and " << svg << "\n"
            << "after the first epoch, " << percent(s.share_near) << " of " << s.counted
            << " sampled points lie within 10% of the fixed point (Eq. 21); at the end, " << percent(s.share_near_last)
            << " of " << s.counted_last << "\n"
            << "low-data points (eta/sqrt(<g^2>) > 10 sigma^2): " << s.low_data << ", within 10% of sigma^2 (SGD): "
            << percent(s.share_sgd_like) << "\n"
            << "high-data points (eta/sqrt(<g^2>) < sigma^2 / 10): " << s.high_data
            << ", within 10% of eta/sqrt(<g^2>) (Adam): " << percent(s.share_adam_like) << "\n";
}

}  // namespace

void add_reproduce_command(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("reproduce", "Re-run the paper's experiments: table1 (with Fig. 4) or fig3");
  cmd->require_subcommand(1);

  auto t = std::make_shared<Table1Flags>();
  CLI::App* table = cmd->add_subcommand(
      "table1", "Train every optimizer of Table 1 over several seeds (resumable), then write table1.md and fig4.svg");
  table->add_option("--protocol", t->protocol, reproduce::protocol_help())
      ->check(CLI::IsMember(reproduce::protocol_names()))
      ->capture_default_str();
  table->add_option("--dataset", t->datasets, "Datasets (default: fashion-mnist for small and long, cifar10 cifar100 for paper)")
      ->delimiter(',')
      ->check(CLI::IsMember(data::dataset_names()));
  table->add_option("--model", t->models, "Models (default: the protocol's)")
      ->delimiter(',')
      ->check(CLI::IsMember(nn::model_names()));
  table->add_option("--optimizers", t->optimizers, "Optimizers (default: the nine of Table 1, then adabayes-rescaled)")
      ->delimiter(',')
      ->check(CLI::IsMember(optim::optimizer_names()));
  table->add_option("--seeds", t->seeds, "Seeds per optimizer (0 .. N-1)")->check(whole_number_in(1, 1000))->capture_default_str();
  table->add_option("--data-dir", t->data_dir, "Folder with the dataset's files");
  table->add_option("--out", t->out, "Folder for the runs, table1.md and fig4.svg")->required();
  table->add_option("--epochs", t->epochs, "Override the protocol's epochs (lr / 10 after the same share of them: 3/4, long 6/40)")
      ->check(whole_number_in(1, 100000));
  table->add_option("--subset", t->subset, "Override the protocol's training images (0: all)")->check(whole_number_in(0, std::int64_t{1} << 40));
  table->add_option("--threads", t->threads, "Threads (0: FLUXION_NUM_THREADS, else all cores)")->check(whole_number_in(0, 4096));
  table->add_option("--workers", t->workers, "Data loader threads")->check(whole_number_in(1, 64))->capture_default_str();
  table->add_option("--device", t->device, "cpu, cuda or cuda:N")->capture_default_str();
  table->add_option("--reference-curves", t->reference_curves,
                    "Luo et al.'s curves (docs/data/luo2019-curves.csv) to overlay on Fig. 4")
      ->check(CLI::ExistingFile);
  table->add_flag("--report-only", t->report_only, "Train nothing: write the table from the runs that finished");
  table->add_flag("--dry-run", t->dry_run, "Train nothing: print the runs left and the expected time");
  table->add_option("--emit-slurm", t->emit_slurm,
                    "Train nothing: write DIR/table1.sbatch (a Slurm job array, one task per run) and DIR/gather.sh");
  table->add_option("--emit-shell", t->emit_shell,
                    "Train nothing: write DIR/run_all.sh (every run, one after another) and DIR/gather.sh");
  table->add_option("--sbatch", t->sbatch, "With --emit-slurm: an extra #SBATCH line, e.g. --sbatch=--time=48:00:00");
  table->callback([t] {
    FLUXION_CHECK_INPUT(t->sbatch.empty() || !t->emit_slurm.empty(), "--sbatch needs --emit-slurm DIR");
    FLUXION_CHECK_INPUT(!(t->report_only || t->dry_run) || (t->emit_slurm.empty() && t->emit_shell.empty()),
                        "--emit-slurm and --emit-shell train nothing already; drop --report-only and --dry-run");
    install_stop_handlers();  // each run stops after a batch, as in train; rerunning the sweep resumes it
    run_table1(*t);
  });

  auto fig3_flags = std::make_shared<Fig3Flags>();
  train::TrainConfig& c = fig3_flags->config;
  // On 2 CPU cores about 15 minutes: 1,876 steps, enough for the filter of
  // weights near eta/sqrt(<g^2>) = sigma^2 to settle (it takes about
  // eta/sqrt(<g^2>) / eta^2 steps; docs/reproduce.md).
  c.model = "resnet20";
  c.epochs = 4;
  CLI::App* fig = cmd->add_subcommand(
      "fig3", "Train with AdaBayes, sample weights' sigma^2_post against eta/sqrt(<g^2>), write fig3.svg and fig3.csv");
  fig->add_option("--model", c.model, "Model")->check(CLI::IsMember(nn::model_names()))->capture_default_str();
  fig->add_option("--dataset", c.dataset, "Dataset")->check(CLI::IsMember(data::dataset_names()))->capture_default_str();
  fig->add_option("--data-dir", c.data_dir, "Folder with the dataset's files");
  fig->add_option("--subset", c.subset, "Train on the first N images (0: all)")->check(whole_number_in(0, std::int64_t{1} << 40))->capture_default_str();
  fig->add_option("--epochs", c.epochs, "Epochs")->check(whole_number_in(1, 100000))->capture_default_str();
  fig->add_option("--batch-size", c.batch_size, "Images per step")->check(whole_number_in(1, 65536))->capture_default_str();
  fig->add_option("--seed", c.seed, "Seed of the run and of the weights sampled")->capture_default_str();
  fig->add_option("--samples", fig3_flags->samples, "Weights followed")->check(whole_number_in(1, 1000000))->capture_default_str();
  fig->add_option("--parameters", fig3_flags->parameters,
                  "Follow weights of these parameters only, e.g. linear.weight (names: fluxion summary --model M)")
      ->delimiter(',');
  fig->add_option("--threads", c.threads, "Threads (0: FLUXION_NUM_THREADS, else all cores)")->check(whole_number_in(0, 4096));
  fig->add_option("--workers", c.workers, "Data loader threads")->check(whole_number_in(1, 64))->capture_default_str();
  fig->add_option("--device", c.device, "cpu, cuda or cuda:N")->capture_default_str();
  fig->add_option("--out", fig3_flags->out, "Folder for fig3.svg, fig3.csv and the training run (run/)")->required();
  fig->callback([fig3_flags] {
    install_stop_handlers();
    run_fig3(*fig3_flags);
  });
}

}  // namespace fluxion::apps
