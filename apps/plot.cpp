// `fluxion plot RUN_DIR... --out FILE.svg`: test error and training loss
// against epoch, one line per run, as an SVG (plot/svg_plot.h). Each run
// directory holds the trainer's metrics.jsonl (plot/run_metrics.h).
#include <algorithm>
#include <cmath>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "apps/commands.h"
#include "core/error.h"
#include "plot/run_metrics.h"
#include "plot/svg_plot.h"

namespace fluxion::apps {
namespace {

struct PlotCommandOptions {
  std::vector<std::string> run_dirs;
  std::string out;
  std::string title;
  bool log_loss = false;
};

bool ends_with_svg(const std::string& path) {
  if (path.size() < 4) return false;
  std::string ext = path.substr(path.size() - 4);
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".svg";
}

void run_plot(const PlotCommandOptions& opt) {
  using plot::Series;
  plot::Panel error{.title = "Test error", .x = {.label = "epoch", .integer = true}, .y = {.label = "test error (%)"}};
  plot::Panel loss{.title = "Training loss", .x = {.label = "epoch", .integer = true},
                   .y = {.label = "train loss", .log = opt.log_loss}};
  bool non_positive_loss = false;
  for (std::size_t i = 0; i < opt.run_dirs.size(); ++i) {
    const std::string& dir = opt.run_dirs[i];
    std::vector<std::string> warnings;
    const std::vector<plot::EpochMetrics> epochs = plot::read_metrics(dir, &warnings);
    for (const std::string& w : warnings) std::cerr << "fluxion plot: warning: " << w << "\n";

    Series e{.label = plot::run_label(dir), .dashed = i >= 10};  // colours repeat after 10 runs
    Series l = e;
    for (const plot::EpochMetrics& m : epochs) {
      e.x.push_back(m.epoch);
      e.y.push_back(100 * m.test_error);
      l.x.push_back(m.epoch);
      l.y.push_back(m.train_loss);
      non_positive_loss |= opt.log_loss && m.train_loss <= 0;
    }
    error.series.push_back(std::move(e));
    loss.series.push_back(std::move(l));
  }
  if (non_positive_loss) {
    std::cerr << "fluxion plot: warning: --log-loss: training losses <= 0 cannot be drawn on a log axis and are "
                 "left out\n";
  }
  plot::write_svg_file(opt.out, plot::render_svg({error, loss}, {.title = opt.title}));
  std::cout << "fluxion plot: wrote " << opt.out << " (" << opt.run_dirs.size()
            << (opt.run_dirs.size() == 1 ? " run" : " runs") << ")\n";
}

}  // namespace

void add_plot_command(CLI::App& app) {
  auto opt = std::make_shared<PlotCommandOptions>();
  CLI::App* cmd = app.add_subcommand(
      "plot", "Draw test error and training loss against epoch for one or more runs, as an SVG file");
  cmd->add_option("run_dirs", opt->run_dirs, "Run directories, each with the trainer's metrics.jsonl")
      ->required()
      ->type_name("RUN_DIR");
  cmd->add_option("--out,-o", opt->out, "The SVG file to write")
      ->required()
      ->type_name("FILE.svg")
      ->check(CLI::Validator(
          [](std::string& path) { return ends_with_svg(path) ? std::string() : "must end in .svg, got '" + path + "'"; },
          "", "svg"));
  cmd->add_option("--title", opt->title, "A title above the plots");
  cmd->add_flag("--log-loss", opt->log_loss, "Draw the training loss on a log scale");
  cmd->callback([opt] { run_plot(*opt); });
}

}  // namespace fluxion::apps
