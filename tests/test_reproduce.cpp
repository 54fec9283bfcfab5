// `fluxion reproduce` (reproduce/): the protocols and their run lists, a
// sweep's resumable state, the table and its bold cells, the paper's
// numbers, Luo et al.'s curves, and Fig. 3's fixed point, sampler and
// summary on a real AdaBayes run.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "helpers.h"
#include "optim/rules.h"
#include "reproduce/cluster.h"
#include "reproduce/fig3.h"
#include "reproduce/table1.h"
#include "train/trainer.h"

using namespace fluxion;
using namespace fluxion::reproduce;
namespace fs = std::filesystem;

namespace {

// One small_cnn run per optimizer and seed on generated CIFAR-10 files.
std::vector<PlannedRun> tiny_sweep(const test::TempDir& dir, const std::vector<std::string>& optimizers,
                                   std::int64_t epochs, const std::vector<std::uint64_t>& seeds = {0}) {
  Protocol p = make_protocol("small", {"cifar10"}, {"small_cnn"});
  p.epochs = epochs;
  p.subset = 32;
  p.batch_size = 16;
  p.schedule = "none";
  std::vector<PlannedRun> runs = plan_runs(p, dir.file("sweep"), optimizers, seeds);
  for (PlannedRun& r : runs) r.config.data_dir = dir.file("cifar"), r.config.threads = 2;
  return runs;
}

void quiet(const train::TrainConfig& c, train::TrainOptions options = {}) {
  std::ostringstream sink;
  options.log = &sink;
  train::run_training(c, options);
}

}  // namespace

TEST_CASE("reproduce: the long protocol leaves AdaBayes two filter time constants after the lr drop") {
  const Protocol p = make_protocol("long");
  REQUIRE(p.experiments.size() == 1);
  CHECK(p.experiments[0].model == "small_cnn");
  CHECK(p.experiments[0].dataset == "fashion-mnist");
  CHECK(p.subset == 0);
  CHECK(p.schedule == "multistep:6:0.1");
  // After the drop sigma^2 = sgd_lr x 0.1 / batch and eta = lr x 0.1 at the
  // paper's hyperparameters; the filter relaxes at eta^2 / sigma^2 a step.
  const auto h = train::paper_hyperparameters("adabayes", "small_cnn", p.batch_size);
  const double sigma2 = h.at("sgd_lr") * 0.1 / static_cast<double>(p.batch_size), eta = h.at("lr") * 0.1;
  const double time_constant = sigma2 / (eta * eta);
  CHECK(time_constant == doctest::Approx(7812.5));
  const double steps_per_epoch = std::ceil(60000.0 / static_cast<double>(p.batch_size));
  CHECK(static_cast<double>(p.epochs - 6) * steps_per_epoch >= 2 * time_constant);
  CHECK(make_protocol("long", {"cifar10"}).experiments[0].model == "resnet20");
  Protocol shorter = make_protocol("long");
  override_length(shorter, 20, -1);  // the drop keeps its place: after 6 of 40 epochs, so 3 of 20
  CHECK(shorter.schedule == "multistep:3:0.1");
  CHECK(protocol_names() == std::vector<std::string>{"paper", "small", "long"});
  CHECK_THROWS_WITH_AS(make_protocol("short"), "--protocol: expected one of paper, small, long, got 'short'",
                       InputError);
}

TEST_CASE("reproduce: the small and paper protocols plan the runs of Table 1") {
  const Protocol small = make_protocol("small");
  REQUIRE(small.experiments.size() == 1);
  CHECK(small.experiments[0].model == "small_cnn");
  CHECK(small.experiments[0].dataset == "fashion-mnist");
  CHECK(small.epochs == 12);
  CHECK(small.subset == 10000);
  CHECK(small.schedule == "multistep:9:0.1");
  CHECK(make_protocol("small", {"cifar10"}).experiments[0].model == "resnet20");

  const Protocol paper = make_protocol("paper");
  REQUIRE(paper.experiments.size() == 4);
  CHECK(paper.epochs == 200);
  CHECK(paper.batch_size == 128);
  CHECK(paper.schedule == "multistep:150:0.1");
  CHECK(paper.subset == 0);
  std::set<std::string> folders;
  for (const Experiment& e : paper.experiments) folders.insert(e.folder());
  CHECK(folders == std::set<std::string>{"cifar10-resnet34", "cifar10-densenet121", "cifar100-resnet34",
                                         "cifar100-densenet121"});

  const std::vector<PlannedRun> runs = plan_runs(paper, "out", table1_optimizers(), {0, 1, 2});
  CHECK(runs.size() == 4 * 3 * 10);
  std::set<std::string> dirs;
  for (const PlannedRun& r : runs) dirs.insert(r.config.out_dir);
  CHECK(dirs.size() == runs.size());
  CHECK(runs[0].config.out_dir == (fs::path("out") / "cifar10-resnet34" / "sgd" / "seed-0").string());
  // Luo et al.'s Adam for ResNet: betas (0.99, 0.999); for DenseNet (0.9, 0.999).
  for (const PlannedRun& r : runs)
    if (r.optimizer == "adam")
      CHECK(train::resolved_optimizer_options(r.config).at("beta1") == (r.experiment.model == "resnet34" ? 0.99 : 0.9));
  REQUIRE(table1_optimizers().size() == 10);
  CHECK(table1_optimizers().back() == "adabayes-rescaled");
  CHECK(display_name("adabayes-fp") == "AdaBayes-FP");
  CHECK(display_name("amsgrad") == "AMSGrad");

  Protocol shorter = make_protocol("small");
  override_length(shorter, 4, 0);
  CHECK(shorter.epochs == 4);
  CHECK(shorter.schedule == "multistep:3:0.1");
  CHECK(shorter.subset == 0);
  CHECK(shorter.description.find("overridden: 4 epochs, lr / 10 after epoch 3; overridden: all training images") !=
        std::string::npos);
  Protocol unchanged = make_protocol("small");
  override_length(unchanged, 0, -1);
  CHECK(unchanged.description == make_protocol("small").description);
  CHECK(unchanged.epochs == 12);

  CHECK(test::error_message<InputError>([] { make_protocol("medium"); }).find("--protocol") != std::string::npos);
  CHECK(test::error_message<InputError>([] { make_protocol("small", {"imagenet"}); }).find("--dataset: unknown dataset 'imagenet'") !=
        std::string::npos);
  CHECK(test::error_message<InputError>([] { make_protocol("small", {}, {"vgg"}); }).find("--model") != std::string::npos);
  CHECK(test::error_message<InputError>([&] { plan_runs(small, "o", {"lion"}, {0}); }).find("--optimizers: unknown optimizer 'lion'") !=
        std::string::npos);
  CHECK(test::error_message<InputError>([&] { plan_runs(small, "o", {"sgd"}, {}); }).find("--seeds") != std::string::npos);
}

TEST_CASE("reproduce: the paper's Table 1 numbers, and mean and std over seeds") {
  CHECK(paper_result("adabayes", {"densenet121", "cifar10"})->error_percent == 4.56);
  CHECK(paper_result("sgd", {"resnet34", "cifar100"})->error_percent == 22.71);
  CHECK(paper_result("adabayes-fp", {"densenet121", "cifar100"})->loss == 0.934);
  CHECK(paper_result("amsbound", {"resnet34", "cifar10"})->error_percent == 4.94);
  CHECK_FALSE(paper_result("adam", {"small_cnn", "fashion-mnist"}).has_value());
  CHECK_FALSE(paper_result("rmsprop", {"resnet34", "cifar10"}).has_value());

  const Stat s = stat_of({1, 2, 3, 4});
  CHECK(s.n == 4);
  CHECK(s.mean == 2.5);
  CHECK(s.std == doctest::Approx(std::sqrt(5.0 / 3.0)).epsilon(1e-15));
  CHECK(stat_of({7}).std == 0);
  CHECK(stat_of({}).n == 0);
}

TEST_CASE("reproduce: a sweep's runs are fresh, partial or done, and a folder of another run is refused") {
  test::TempDir dir;
  test::write_cifar10(dir.file("cifar"), 16);
  std::vector<PlannedRun> runs = tiny_sweep(dir, {"sgd", "adabayes"}, 2);
  CHECK(run_progress(runs[0]).state == RunState::fresh);

  // Interrupted after its first epoch: partial, and resuming finishes it.
  train::TrainOptions stop_after_one;
  stop_after_one.on_epoch = [](const train::EpochMetrics& m) {
    if (m.epoch == 1) throw std::runtime_error("interrupted");
  };
  CHECK_THROWS_AS(quiet(runs[0].config, stop_after_one), std::runtime_error);
  RunProgress p = run_progress(runs[0]);
  CHECK(p.state == RunState::partial);
  CHECK(p.epochs_done == 1);
  train::TrainOptions resume;
  resume.resume = true;
  quiet(runs[0].config, resume);
  CHECK(run_progress(runs[0]).state == RunState::done);
  CHECK(run_progress(runs[0]).epochs_done == 2);

  // How fast a run went may change; what it is may not.
  PlannedRun faster = runs[0];
  faster.config.threads = 1, faster.config.workers = 1;
  CHECK(run_progress(faster).state == RunState::done);
  PlannedRun other = runs[0];
  other.config.seed = 9;
  const std::string error = test::error_message<InputError>([&] { run_progress(other); });
  CHECK(error.find("config.json holds a different run") != std::string::npos);
  CHECK(error.find("\"seed\"") != std::string::npos);
  PlannedRun longer = runs[0];
  longer.config.optimizer_options["lr"] = 0.5;
  CHECK(test::error_message<InputError>([&] { run_progress(longer); }).find("\"optimizer_options\"") != std::string::npos);

  // The table reads what finished: SGD's one run, not AdaBayes's none.
  const Protocol protocol = make_protocol("small", {"cifar10"}, {"small_cnn"});
  const Table1 table = gather_table1(protocol, {"sgd", "adabayes"}, runs);
  CHECK(table.runs_found == 1);
  CHECK(table.runs_planned == 2);
  const std::vector<plot::EpochMetrics> metrics = plot::read_metrics(runs[0].config.out_dir);
  const Table1Cell& sgd = table.cells[0][0];
  CHECK(sgd.final_error.n == 1);
  CHECK(sgd.final_error.mean == doctest::Approx(100 * metrics[1].test_error));
  CHECK(sgd.min_error.mean == doctest::Approx(100 * std::min(metrics[0].test_error, metrics[1].test_error)));
  CHECK(sgd.min_loss.mean == doctest::Approx(std::min(metrics[0].test_loss, metrics[1].test_loss)));
  CHECK(sgd.mean_train_loss.size() == 2);
  CHECK(table.cells[0][1].final_error.n == 0);
  const std::string md = table1_markdown(table);
  CHECK(md.find("| AdaBayes | - | - | - |") != std::string::npos);
  CHECK(md.find("1 of 2 planned runs finished") != std::string::npos);
  // One seed has no spread: its cells are values, not "x ± 0.00".
  CHECK(md.find("Test error and loss of one seed.") != std::string::npos);
  CHECK(md.find("±") == std::string::npos);
  CHECK(fig4_svg(table).rfind("<svg", 0) == 0);
}

TEST_CASE("reproduce: the table emboldens the best adaptive method, and SGD where it beats them all") {
  Table1 t{make_protocol("paper", {"cifar10"}, {"resnet34"}), {"sgd", "adam", "adabayes"}, {}, 6, 6};
  auto cell = [](double final_error, double min_error, double loss) {
    Table1Cell c;
    c.final_error = {final_error, 0.5, 2};
    c.min_error = {min_error, 0.25, 2};
    c.min_loss = {loss, 0.01, 2};
    return c;
  };
  // Final error: SGD 5 beats AdaBayes 6 (both bold); min error: Adam 4 best,
  // SGD 4.5 loses to it (not bold); loss: AdaBayes best.
  t.cells = {{cell(5, 4.5, 0.3), cell(7, 4, 0.25), cell(6, 4.2, 0.2)}};
  const std::string md = table1_markdown(t);
  CHECK(md.find("| SGD | **5.00 ± 0.50** | 4.50 ± 0.25 | 0.300 ± 0.010 | 5.17 | **0.174** |") != std::string::npos);
  CHECK(md.find("| Adam | 7.00 ± 0.50 | **4.00 ± 0.25** | 0.250 ± 0.010 | 7.11 | 0.239 |") != std::string::npos);
  CHECK(md.find("| AdaBayes | **6.00 ± 0.50** | 4.20 ± 0.25 | **0.200 ± 0.010** | **4.84** | **0.229** |") !=
        std::string::npos);
  CHECK(md.find("paper: min error (%)") != std::string::npos);
  CHECK(md.find("over 2 seeds") != std::string::npos);
  // An optimizer the paper did not run, listed first, still gets the
  // paper's columns for the others (a dash for itself).
  Table1 with_rmsprop = t;
  with_rmsprop.optimizers = {"rmsprop", "adam", "adabayes"};
  const std::string md2 = table1_markdown(with_rmsprop);
  CHECK(md2.find("| RMSprop | **5.00 ± 0.50** | 4.50 ± 0.25 | 0.300 ± 0.010 | - | - |") != std::string::npos);
  CHECK(md2.find("| Adam | 7.00 ± 0.50 | **4.00 ± 0.25** | 0.250 ± 0.010 | 7.11 | 0.239 |") != std::string::npos);

  // Luo et al.'s curves of the same model and dataset are overlaid, others not.
  const std::vector<ReferenceCurve> luo = read_reference_curves(FLUXION_SOURCE_DIR "/docs/data/luo2019-curves.csv");
  const std::string svg = fig4_svg(t, luo);
  CHECK(svg.find("SGD (Luo et al.)") != std::string::npos);
  CHECK(svg.find("AMSBound (Luo et al.)") != std::string::npos);
  t.protocol = make_protocol("paper", {"cifar100"}, {"resnet34"});
  CHECK(fig4_svg(t, luo).find("(Luo et al.)") == std::string::npos);
}

TEST_CASE("reproduce: Luo et al.'s curves are read, and a malformed file is refused naming its line") {
  const std::vector<ReferenceCurve> curves =
      read_reference_curves(FLUXION_SOURCE_DIR "/docs/data/luo2019-curves.csv");
  CHECK(curves.size() == 12);
  for (const ReferenceCurve& c : curves) {
    CHECK(c.epoch.size() == 200);
    CHECK(c.dataset == "cifar10");
    CHECK((c.model == "resnet34" || c.model == "densenet121"));
  }
  test::TempDir dir;
  std::ofstream(dir.file("bad.csv")) << "model,optimizer,lr,epoch,train_acc,test_acc,source\n"
                                     << "resnet,sgd,0.1,1,50,60,x\nresnet,sgd,0.1,two,50,60,x\n";
  CHECK(test::error_message<InputError>([&] { read_reference_curves(dir.file("bad.csv")); }).find("bad.csv:3: epoch 'two'") !=
        std::string::npos);
  std::ofstream(dir.file("header.csv")) << "epoch,acc\n";
  CHECK(test::error_message<InputError>([&] { read_reference_curves(dir.file("header.csv")); }).find("header.csv:1:") !=
        std::string::npos);
  CHECK(test::error_message<InputError>([&] { read_reference_curves(dir.file("none.csv")); }).find("cannot read") != std::string::npos);
}

TEST_CASE("reproduce: Eq. 21 is the fixed point of AdaBayes's filter, with SGD and Adam as its limits") {
  const double sigma2 = 0.1 / 128, eta = 1e-3;
  CHECK(fixed_point_variance(0, sigma2, eta) == doctest::Approx(sigma2).epsilon(1e-12));  // Eq. 22
  CHECK(fixed_point_variance(1e6, sigma2, eta) == doctest::Approx(eta / 1e3).scale(0).epsilon(1e-3));  // Eq. 24
  // Iterate the filter (Eqs. 17b, 18a, first order in eta^2 / sigma^2) with
  // a constant squared gradient: it settles at Eq. 21, times the factor
  // (sqrt(1 + x^2 / 4) - x / 2), x = eta |g|, of the eta^2 that Eq. 21 drops
  // (test_adabayes.cpp; 0.995 at g^2 = 1e2).
  for (double g2 : {1e-2, 1.0, 1e2}) {
    CAPTURE(g2);
    double post = sigma2;
    const double keep = std::exp(-eta * eta / sigma2), add = sigma2 * (1 - keep);
    for (int step = 0; step < 200000; ++step) post = 1 / (1 / (keep * post + add) + g2);
    const double x = eta * std::sqrt(g2);
    CHECK(post == doctest::Approx(fixed_point_variance(g2, sigma2, eta) * (std::sqrt(1 + x * x / 4) - x / 2))
                      .scale(0)
                      .epsilon(1e-3));
  }
  Fig3Point p;
  p.mean_square_gradient = 4, p.lr = eta, p.prior_variance = sigma2;
  CHECK(p.adam_lr() == eta / 2);
  p.posterior_variance = p.fixed_point() * 1.09;
  CHECK(p.near_fixed_point());
  p.posterior_variance = p.fixed_point() * 1.11;
  CHECK_FALSE(p.near_fixed_point());
}

TEST_CASE("reproduce: Fig. 3's sampler spreads its weights over every parameter tensor, reproducibly") {
  manual_seed(0);
  nn::ModulePtr model = nn::make_model("small_cnn", 10);
  const nn::NamedTensors params = model->named_parameters();
  const Fig3Sampler sampler(*model, 400, 7);
  CHECK(sampler.size() == 400);
  optim::AdaBayes optimizer(model->parameters());
  std::vector<Fig3Point> points;
  sampler.sample(optimizer, 0.5, points);
  CHECK(points.empty());  // no state before the first step
  for (Tensor& p : model->parameters()) p.set_grad(ones_like(p) * 0.01);
  optimizer.step();
  sampler.sample(optimizer, 1.0, points);
  REQUIRE(points.size() == 400);
  std::set<std::pair<std::string, std::int64_t>> distinct;
  std::map<std::string, int> per_tensor;
  for (const Fig3Point& p : points) {
    distinct.insert({p.parameter, p.index});
    ++per_tensor[p.parameter];
    CHECK(p.epoch == 1.0);
    CHECK(p.prior_variance == optimizer.prior_variance(0));
  }
  CHECK(distinct.size() == 400);
  CHECK(per_tensor.size() == params.size());  // every tensor, batchnorm and biases included
  // The points are the optimizer's state at those weights.
  for (std::size_t i = 0; i < params.size(); ++i) {
    const std::vector<double> post = optimizer.posterior_variance(i).to_vector<double>();
    const std::vector<double> g2 = optimizer.mean_squared_gradient(i).to_vector<double>();
    for (const Fig3Point& p : points)
      if (p.parameter == params[i].first) {
        CHECK(p.posterior_variance == post[static_cast<std::size_t>(p.index)]);
        CHECK(p.mean_square_gradient == g2[static_cast<std::size_t>(p.index)]);
      }
  }
  std::vector<Fig3Point> again;
  Fig3Sampler(*model, 400, 7).sample(optimizer, 1.0, again);
  for (std::size_t i = 0; i < points.size(); ++i) CHECK(again[i].index == points[i].index);
  CHECK(test::error_message<InputError>([&] { Fig3Sampler(*model, 0, 1); }).find("--samples") != std::string::npos);

  // One layer only: every point is of it, all of its weights when asked for more.
  const std::string last = params.back().first;
  const std::int64_t size = params.back().second.numel();
  std::vector<Fig3Point> layer;
  Fig3Sampler(*model, size + 100, 7, {last}).sample(optimizer, 1.0, layer);
  CHECK(static_cast<std::int64_t>(layer.size()) == size);
  for (const Fig3Point& p : layer) CHECK(p.parameter == last);
  const std::string message =
      test::error_message<InputError>([&] { Fig3Sampler(*model, 10, 1, {last, "no.such"}); });
  CHECK(message.find("--parameters: the model has no parameter 'no.such'; it has " + params[0].first) == 0);
}

TEST_CASE("reproduce: Fig. 3's summary counts points after the first epoch and in each limit") {
  const double sigma2 = 1e-3, eta = 1e-3;
  auto point = [&](double epoch, double g2, double post) {
    Fig3Point p;
    p.epoch = epoch, p.mean_square_gradient = g2, p.posterior_variance = post, p.prior_variance = sigma2, p.lr = eta;
    return p;
  };
  const std::vector<Fig3Point> points = {
      point(0.5, 1e-6, 1.0),                                          // before epoch 1: not counted
      point(1.0, 1e-6, fixed_point_variance(1e-6, sigma2, eta)),     // low data, on the curve
      point(1.0, 1e4, 2 * fixed_point_variance(1e4, sigma2, eta)),   // high data, off it
      point(2.0, 1e4, fixed_point_variance(1e4, sigma2, eta)),       // high data, on it
  };
  const Fig3Summary s = summarize_fig3(points);
  CHECK(s.counted == 3);
  CHECK(s.share_near == doctest::Approx(2.0 / 3));
  CHECK(s.counted_last == 1);
  CHECK(s.share_near_last == 1.0);
  CHECK(s.low_data == 1);
  CHECK(s.share_sgd_like == 1.0);
  CHECK(s.high_data == 2);
  CHECK(s.share_adam_like == doctest::Approx(0.5));
}

TEST_CASE("reproduce: Fig. 3 end to end on generated CIFAR-10 files writes points, CSV and SVG") {
  test::TempDir dir;
  test::write_cifar10(dir.file("cifar"), 16);
  Fig3Options options;
  options.config.model = "small_cnn";
  options.config.dataset = "cifar10";
  options.config.data_dir = dir.file("cifar");
  options.config.subset = 64;
  options.config.batch_size = 16;
  options.config.epochs = 2;
  options.config.threads = 2;
  options.samples = 100;
  std::ostringstream log;
  const std::vector<Fig3Point> points = run_fig3(options, dir.file("fig3"), log);
  // 4 batches an epoch: samples after batch 1 (a tenth, at least one batch)
  // and batch 2 (half) of epoch 1, then at the end of each epoch.
  std::set<double> times;
  for (const Fig3Point& p : points) times.insert(p.epoch);
  CHECK(times == std::set<double>{0.25, 0.5, 1.0, 2.0});
  CHECK(points.size() == 400);
  CHECK(fs::exists(dir.file("fig3/run/metrics.jsonl")));
  const std::string csv = fig3_csv(points);
  CHECK(csv.rfind("epoch,parameter,index,mean_square_gradient,posterior_variance,prior_variance,lr,adam_lr,"
                  "fixed_point\n", 0) == 0);
  CHECK(std::count(csv.begin(), csv.end(), '\n') == 401);
  const std::string svg = fig3_svg(points, "test run");
  CHECK(svg.rfind("<svg", 0) == 0);
  CHECK(svg.find("fixed point (Eq. 21)") != std::string::npos);

  options.config.optimizer = "adabayes-fp";
  CHECK(test::error_message<InputError>([&] { run_fig3(options, dir.file("fp"), log); }).find("AdaBayes") != std::string::npos);
}

TEST_CASE("reproduce: cluster scripts quote every argument and spell out each run's settings") {
  CHECK(shell_quote("results/cifar10-resnet34/sgd/seed-0") == "results/cifar10-resnet34/sgd/seed-0");
  CHECK(shell_quote("my runs") == "'my runs'");
  CHECK(shell_quote("it's") == "'it'\\''s'");
  CHECK(shell_quote("$HOME") == "'$HOME'");
  CHECK(shell_quote("") == "''");

  Protocol p = make_protocol("paper", {"cifar10"}, {"resnet34"});
  std::vector<PlannedRun> runs = plan_runs(p, "/r", {"adam"}, {4});
  REQUIRE(runs.size() == 1);
  runs[0].config.optimizer_options = {{"lr", 0.002}, {"beta1", 0.8}, {"beta2", 0.99}};
  runs[0].config.device = "cuda";
  const std::vector<std::string> args = train_arguments(runs[0]);
  const std::string line = [&] {
    std::string s;
    for (const std::string& a : args) s += (s.empty() ? "" : " ") + a;
    return s;
  }();
  CHECK(line ==
        "train --model resnet34 --dataset cifar10 --optimizer adam --epochs 200 --batch-size 128 --schedule "
        "multistep:150:0.1 --seed 4 --subset 0 --betas 0.8,0.99 --lr 0.002 "
        "--workers 2 --device cuda --out /r/cifar10-resnet34/adam/seed-4 --auto-resume");

  ClusterOptions o;
  o.fluxion = "/opt/fluxion bin/fluxion";
  o.gather_args = {"reproduce", "table1", "--out", "/r", "--report-only"};
  o.sbatch = {"--time=1:00:00"};
  const std::string slurm = slurm_script(runs, o, "/r");
  CHECK(slurm.find("#SBATCH --array=0-0\n") != std::string::npos);
  CHECK(slurm.find("#SBATCH --gres=gpu:1\n") != std::string::npos);  // a cuda run asks for a GPU
  CHECK(slurm.find("FLUXION=${FLUXION:-'/opt/fluxion bin/fluxion'}") != std::string::npos);
  CHECK(slurm.find("#SBATCH --time=1:00:00\n") != std::string::npos);
  CHECK(slurm.find("#SBATCH --open-mode=append\n") != std::string::npos);  // a requeue adds to its log
  CHECK(slurm.find("export FLUXION_NUM_THREADS=${SLURM_CPUS_PER_TASK:-4}\n") != std::string::npos);
  CHECK(slurm.rfind("\n#SBATCH") < slurm.find("\nset -euo pipefail"));  // Slurm stops reading at the first command
  CHECK(gather_script(o).find("\"$FLUXION\" reproduce table1 --out /r --report-only\n") != std::string::npos);
  CHECK(test::error_message<InputError>([&] { slurm_script(runs, o, "/my runs"); }).find("spaces") !=
        std::string::npos);
  CHECK(test::error_message<InputError>([&] { slurm_script({}, o, "/r"); }).find("no runs") != std::string::npos);
  CHECK(test::error_message<InputError>([&] { slurm_script(runs, o, "/r/%j"); }).find("%") != std::string::npos);
  runs[0].config.device = "cuda:1";
  CHECK(test::error_message<InputError>([&] { slurm_script(runs, o, "/r"); }).find("pass --device cuda") !=
        std::string::npos);
}
