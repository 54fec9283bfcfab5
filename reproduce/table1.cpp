#include "reproduce/table1.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>

#include "core/error.h"
#include "plot/svg_plot.h"

namespace fluxion::reproduce {
namespace {

std::string fixed(double value, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

std::string mean_std(const Stat& s, int decimals) {
  if (s.n == 0) return "-";
  if (s.n == 1) return fixed(s.mean, decimals);  // one run has no spread to state
  return fixed(s.mean, decimals) + " ± " + fixed(s.std, decimals);
}

bool adaptive(const std::string& optimizer) { return optimizer != "sgd"; }

// Per-epoch mean of curves that may differ in length (a shorter one stops counting).
std::vector<double> mean_curve(const std::vector<std::vector<double>>& curves) {
  std::vector<double> sum, count;
  for (const auto& c : curves)
    for (std::size_t i = 0; i < c.size(); ++i) {
      if (sum.size() <= i) sum.resize(i + 1), count.resize(i + 1);
      sum[i] += c[i];
      count[i] += 1;
    }
  for (std::size_t i = 0; i < sum.size(); ++i) sum[i] /= count[i];
  return sum;
}

// Which cells of one column to embolden: the lowest mean among adaptive
// methods, and SGD's when it is lower still (the paper's convention).
std::vector<bool> bold_cells(const std::vector<std::string>& optimizers, const std::vector<Stat>& column) {
  std::vector<bool> bold(column.size(), false);
  double best_adaptive = std::numeric_limits<double>::infinity();
  std::size_t best = column.size();
  for (std::size_t i = 0; i < column.size(); ++i)
    if (adaptive(optimizers[i]) && column[i].n > 0 && column[i].mean < best_adaptive)
      best_adaptive = column[i].mean, best = i;
  if (best < column.size()) bold[best] = true;
  for (std::size_t i = 0; i < column.size(); ++i)
    if (!adaptive(optimizers[i]) && column[i].n > 0 && column[i].mean < best_adaptive) bold[i] = true;
  return bold;
}

std::string embolden(const std::string& text, bool bold) { return bold ? "**" + text + "**" : text; }

std::string model_title(const std::string& model) {
  static const std::map<std::string, std::string> titles = {
      {"resnet34", "ResNet-34"}, {"densenet121", "DenseNet-121"}, {"resnet20", "ResNet-20"},
      {"resnet18", "ResNet-18"}, {"small_cnn", "small CNN"}};
  auto it = titles.find(model);
  return it == titles.end() ? model : it->second;
}

std::string dataset_title(const std::string& dataset) {
  static const std::map<std::string, std::string> titles = {
      {"cifar10", "CIFAR-10"}, {"cifar100", "CIFAR-100"}, {"mnist", "MNIST"}, {"fashion-mnist", "Fashion-MNIST"}};
  auto it = titles.find(dataset);
  return it == titles.end() ? dataset : it->second;
}

std::string experiment_title(const Experiment& e) { return model_title(e.model) + " on " + dataset_title(e.dataset); }

}  // namespace

std::optional<PaperCell> paper_result(const std::string& optimizer, const Experiment& e) {
  // Table 1 of arXiv 1807.07540v5, columns CIFAR-10 ResNet, CIFAR-10
  // DenseNet, CIFAR-100 ResNet, CIFAR-100 DenseNet (error %, loss); the
  // paper's AdaBayes-SS is AdaBayes-FP.
  static const std::map<std::string, std::vector<PaperCell>> table = {
      {"sgd", {{5.170, 0.174}, {5.580, 0.177}, {22.710, 0.833}, {21.290, 0.774}}},
      {"adam", {{7.110, 0.239}, {6.690, 0.230}, {27.590, 1.049}, {26.640, 1.074}}},
      {"adagrad", {{6.840, 0.307}, {7.490, 0.338}, {30.350, 1.347}, {30.110, 1.319}}},
      {"amsgrad", {{6.720, 0.239}, {6.170, 0.234}, {27.430, 1.033}, {25.850, 1.103}}},
      {"adabound", {{5.140, 0.220}, {4.850, 0.210}, {23.060, 1.004}, {22.210, 1.050}}},
      {"amsbound", {{4.940, 0.210}, {4.960, 0.219}, {23.000, 1.003}, {22.360, 1.017}}},
      {"adamw", {{5.080, 0.239}, {5.190, 0.214}, {24.850, 1.142}, {23.480, 1.043}}},
      {"adabayes-fp", {{5.230, 0.187}, {4.910, 0.176}, {23.120, 0.935}, {22.600, 0.934}}},
      {"adabayes", {{4.840, 0.229}, {4.560, 0.222}, {22.920, 0.969}, {22.090, 1.079}}},
  };
  const int model = e.model == "resnet34" ? 0 : e.model == "densenet121" ? 1 : -1;
  const int dataset = e.dataset == "cifar10" ? 0 : e.dataset == "cifar100" ? 2 : -1;
  auto row = table.find(optimizer);
  if (model < 0 || dataset < 0 || row == table.end()) return std::nullopt;
  return row->second[static_cast<std::size_t>(model + dataset)];
}

Stat stat_of(const std::vector<double>& values) {
  Stat s;
  s.n = values.size();
  if (s.n == 0) return s;
  for (double v : values) s.mean += v;
  s.mean /= static_cast<double>(s.n);
  if (s.n > 1) {
    double squares = 0;
    for (double v : values) squares += (v - s.mean) * (v - s.mean);
    s.std = std::sqrt(squares / static_cast<double>(s.n - 1));
  }
  return s;
}

Table1 gather_table1(const Protocol& protocol, const std::vector<std::string>& optimizers,
                     const std::vector<PlannedRun>& runs) {
  Table1 table{protocol, optimizers, {}, runs.size(), 0};
  struct Runs {
    std::vector<double> final_error, min_error, min_loss;
    std::vector<std::vector<double>> test_error, train_loss;
  };
  std::map<std::pair<std::string, std::string>, Runs> found;  // (experiment folder, optimizer)
  for (const PlannedRun& run : runs) {
    if (run_progress(run).state != RunState::done) continue;
    const std::vector<plot::EpochMetrics> epochs = plot::read_metrics(run.config.out_dir);
    FLUXION_CHECK_INPUT(static_cast<std::int64_t>(epochs.size()) >= run.config.epochs, run.config.out_dir,
                        "/metrics.jsonl: ", epochs.size(), " epochs, but its checkpoint says ", run.config.epochs,
                        " are done");
    Runs& r = found[{run.experiment.folder(), run.optimizer}];
    std::vector<double> error, loss;
    double min_error = INFINITY, min_loss = INFINITY;
    for (std::int64_t i = 0; i < run.config.epochs; ++i) {
      const plot::EpochMetrics& m = epochs[static_cast<std::size_t>(i)];
      error.push_back(100 * m.test_error);
      loss.push_back(m.train_loss);
      // A diverged epoch (NaN) is not a minimum.
      if (m.test_error < min_error) min_error = m.test_error;
      if (m.test_loss < min_loss) min_loss = m.test_loss;
    }
    r.final_error.push_back(error.back());
    r.min_error.push_back(100 * min_error);
    r.min_loss.push_back(min_loss);
    r.test_error.push_back(std::move(error));
    r.train_loss.push_back(std::move(loss));
    ++table.runs_found;
  }
  for (const Experiment& e : protocol.experiments) {
    std::vector<Table1Cell>& row = table.cells.emplace_back();
    for (const std::string& optimizer : optimizers) {
      const Runs& r = found[{e.folder(), optimizer}];
      row.push_back({stat_of(r.final_error), stat_of(r.min_error), stat_of(r.min_loss), mean_curve(r.test_error),
                     mean_curve(r.train_loss)});
    }
  }
  return table;
}

std::string table1_markdown(const Table1& t) {
  std::ostringstream out;
  const auto& opts = t.optimizers;
  for (std::size_t e = 0; e < t.protocol.experiments.size(); ++e) {
    const Experiment& ex = t.protocol.experiments[e];
    const std::vector<Table1Cell>& cells = t.cells[e];
    std::size_t most_seeds = 0;
    for (const Table1Cell& c : cells) most_seeds = std::max(most_seeds, c.final_error.n);
    out << "### " << experiment_title(ex) << "\n\n"
        << (most_seeds == 1 ? std::string("Test error and loss of one seed.")
                            : "Test error and loss, mean ± std over " + std::to_string(most_seeds) +
                                  " seeds (a cell with fewer names its count).");
    const bool paper_column =  // any optimizer of the paper's, on one of its experiments
        std::any_of(opts.begin(), opts.end(), [&](const std::string& o) { return paper_result(o, ex).has_value(); });
    if (paper_column) out << " The paper's columns are its Table 1 (one run each).";
    out << "\n\n| optimizer | final error (%) | min error (%) | min test loss |"
        << (paper_column ? " paper: min error (%) | paper: min loss |" : "") << "\n|---|---:|---:|---:|"
        << (paper_column ? "---:|---:|" : "") << "\n";
    std::vector<Stat> finals, mins, losses, paper_errors, paper_losses;
    for (std::size_t o = 0; o < opts.size(); ++o) {
      finals.push_back(cells[o].final_error);
      mins.push_back(cells[o].min_error);
      losses.push_back(cells[o].min_loss);
      const std::optional<PaperCell> p = paper_result(opts[o], ex);
      paper_errors.push_back(p ? Stat{p->error_percent, 0, 1} : Stat{});
      paper_losses.push_back(p ? Stat{p->loss, 0, 1} : Stat{});
    }
    const std::vector<bool> bold_final = bold_cells(opts, finals), bold_min = bold_cells(opts, mins),
                            bold_loss = bold_cells(opts, losses), bold_paper = bold_cells(opts, paper_errors),
                            bold_paper_loss = bold_cells(opts, paper_losses);
    for (std::size_t o = 0; o < opts.size(); ++o) {
      const std::string seeds =
          cells[o].final_error.n > 0 && cells[o].final_error.n < most_seeds
              ? " (" + std::to_string(cells[o].final_error.n) + (cells[o].final_error.n == 1 ? " seed)" : " seeds)")
              : "";
      out << "| " << display_name(opts[o]) << seeds << " | " << embolden(mean_std(finals[o], 2), bold_final[o])
          << " | " << embolden(mean_std(mins[o], 2), bold_min[o]) << " | "
          << embolden(mean_std(losses[o], 3), bold_loss[o]) << " |";
      if (paper_column)
        out << " " << (paper_errors[o].n ? embolden(fixed(paper_errors[o].mean, 2), bold_paper[o]) : "-") << " | "
            << (paper_losses[o].n ? embolden(fixed(paper_losses[o].mean, 3), bold_paper_loss[o]) : "-") << " |";
      out << "\n";
    }
    out << "\n";
  }
  std::string protocol = t.protocol.description;
  protocol[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(protocol[0])));
  out << protocol << ". " << t.runs_found << " of " << t.runs_planned
      << " planned runs finished. Bold: the best adaptive method of each column, and SGD where it beats them all "
         "(the paper's convention).\n";
  return out.str();
}

std::vector<ReferenceCurve> read_reference_curves(const std::string& path) {
  std::ifstream in(path);
  FLUXION_CHECK_INPUT(in, "--reference-curves: cannot read '", path, "'");
  std::string line;
  std::getline(in, line);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  FLUXION_CHECK_INPUT(line == "model,optimizer,lr,epoch,train_acc,test_acc,source", path,
                      ":1: expected the header model,optimizer,lr,epoch,train_acc,test_acc,source "
                      "(scripts/luo_curves.py writes it), got '", line, "'");
  std::map<std::pair<std::string, std::string>, ReferenceCurve> curves;
  std::vector<std::pair<std::string, std::string>> order;
  for (int number = 2; std::getline(in, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    std::vector<std::string> fields;
    std::istringstream row(line);
    for (std::string f; std::getline(row, f, ',');) fields.push_back(f);
    const std::string where = path + ":" + std::to_string(number);
    FLUXION_CHECK_INPUT(fields.size() == 7, where, ": expected 7 comma-separated fields, got ", fields.size());
    FLUXION_CHECK_INPUT(fields[0] == "resnet" || fields[0] == "densenet", where,
                        ": model must be resnet or densenet (Luo et al.'s ResNet-34 and DenseNet-121), got '",
                        fields[0], "'");
    double epoch = 0, accuracy = 0;
    try {
      std::size_t used_epoch = 0, used_accuracy = 0;
      epoch = std::stod(fields[3], &used_epoch);
      accuracy = std::stod(fields[5], &used_accuracy);
      if (used_epoch != fields[3].size() || used_accuracy != fields[5].size()) throw std::invalid_argument("");
    } catch (const std::exception&) {
      throw InputError(detail::concat(where, ": epoch '", fields[3], "' and test_acc '", fields[5],
                                      "' must be numbers"));
    }
    FLUXION_CHECK_INPUT(epoch >= 1 && accuracy >= 0 && accuracy <= 100, where,
                        ": expected epoch >= 1 and test_acc in [0, 100] (percent), got ", epoch, " and ", accuracy);
    const std::pair<std::string, std::string> key{fields[0], fields[1]};
    if (!curves.count(key)) {
      order.push_back(key);
      curves[key] = {fields[0] == "resnet" ? "resnet34" : "densenet121", "cifar10", fields[1], {}, {}};
    }
    curves[key].epoch.push_back(epoch);
    curves[key].test_error.push_back(100 - accuracy);
  }
  FLUXION_CHECK_INPUT(!order.empty(), path, ": no curves after the header");
  std::vector<ReferenceCurve> out;
  for (const auto& key : order) out.push_back(std::move(curves[key]));
  return out;
}

std::string fig4_svg(const Table1& t, const std::vector<ReferenceCurve>& references) {
  std::vector<plot::Panel> panels;
  for (std::size_t e = 0; e < t.protocol.experiments.size(); ++e) {
    const Experiment& ex = t.protocol.experiments[e];
    plot::Panel error{.title = "Test error, " + experiment_title(ex), .x = {.label = "epoch", .integer = true},
                      .y = {.label = "test error (%)"}};
    plot::Panel loss{.title = "Training loss, " + experiment_title(ex), .x = {.label = "epoch", .integer = true},
                     .y = {.label = "train loss", .log = true}};
    for (std::size_t o = 0; o < t.optimizers.size(); ++o) {
      const Table1Cell& c = t.cells[e][o];
      plot::Series s{.label = display_name(t.optimizers[o]), .color = plot::color_cycle(o)};
      for (std::size_t i = 0; i < c.mean_test_error.size(); ++i) s.x.push_back(static_cast<double>(i + 1));
      s.y = c.mean_test_error;
      error.series.push_back(s);
      s.y = c.mean_train_loss;
      loss.series.push_back(s);
    }
    for (const ReferenceCurve& r : references) {
      if (r.model != ex.model || r.dataset != ex.dataset) continue;
      const auto o = std::find(t.optimizers.begin(), t.optimizers.end(), r.optimizer) - t.optimizers.begin();
      error.series.push_back({.label = display_name(r.optimizer) + " (Luo et al.)", .x = r.epoch, .y = r.test_error,
                              .color = plot::color_cycle(static_cast<std::size_t>(o)), .dashed = true});
    }
    panels.push_back(std::move(error));
    panels.push_back(std::move(loss));
  }
  return plot::render_svg(panels, {.title = "Fig. 4 (" + t.protocol.name + " protocol): mean over seeds"});
}

}  // namespace fluxion::reproduce
