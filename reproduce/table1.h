//! @file
//! Table 1 and Fig. 4 from finished runs: reads each run's metrics, averages
//! over seeds, and writes the table (Markdown, beside the paper's numbers)
//! and the curves (SVG), optionally with Luo et al.'s published curves.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "plot/run_metrics.h"
#include "reproduce/protocol.h"

namespace fluxion::reproduce {

/// The paper's Table 1 (arXiv 1807.07540v5): minimal test error (%) and test
/// loss over 200 epochs, one run per cell, for ResNet-34 and DenseNet-121 on
/// CIFAR-10 and CIFAR-100. Empty for anything else.
struct PaperCell {
  double error_percent = 0, loss = 0;
};
std::optional<PaperCell> paper_result(const std::string& optimizer, const Experiment& experiment);

/// Mean and sample standard deviation (n - 1; 0 for one value).
struct Stat {
  double mean = 0, std = 0;
  std::size_t n = 0;
};
Stat stat_of(const std::vector<double>& values);

/// One optimizer on one experiment, over the seeds that finished.
struct Table1Cell {
  Stat final_error, min_error, min_loss;          ///< errors in %, losses per image
  std::vector<double> mean_test_error;            ///< per epoch, mean over seeds (%)
  std::vector<double> mean_train_loss;            ///< per epoch, mean over seeds
};

struct Table1 {
  Protocol protocol;
  std::vector<std::string> optimizers;
  std::vector<std::vector<Table1Cell>> cells;  ///< [experiment][optimizer]
  std::size_t runs_planned = 0, runs_found = 0;
};

/// Reads the finished runs of `runs` (run_progress(run).state == done);
/// unfinished ones are counted, not read.
Table1 gather_table1(const Protocol& protocol, const std::vector<std::string>& optimizers,
                     const std::vector<PlannedRun>& runs);

/// The table in the paper's layout: one row per optimizer; per experiment,
/// final test error, minimal test error (what the paper reports) and
/// minimal test loss, mean +- std over seeds, then the paper's numbers for the
/// same model and dataset where it has them. As in the paper, the best
/// adaptive method of each column is bold, and SGD too when it beats them all.
std::string table1_markdown(const Table1& table);

/// A published curve of test accuracy per epoch (Luo et al. 2019's
/// pretrained curves, docs/data/luo2019-curves.csv).
struct ReferenceCurve {
  std::string model, dataset, optimizer;  ///< "resnet34", "cifar10", "adam"
  std::vector<double> epoch;
  std::vector<double> test_error;  ///< test error in %
};
/// Reads the CSV written by scripts/luo_curves.py (columns model, optimizer,
/// lr, epoch, train_acc, test_acc, source; accuracies in %; models "resnet"
/// and "densenet" are ResNet-34 and DenseNet-121 on CIFAR-10). Throws
/// InputError naming the file and line for anything else.
std::vector<ReferenceCurve> read_reference_curves(const std::string& path);

/// The paper's Fig. 4 for these runs: per experiment, test error and
/// training loss against epoch, one line per optimizer (mean over seeds);
/// reference curves of the same model and dataset are drawn dashed.
std::string fig4_svg(const Table1& table, const std::vector<ReferenceCurve>& references = {});

}  // namespace fluxion::reproduce
