// `fluxion summary --model NAME [--input 3x32x32] [--batch-size B] [--depth N]`:
// each module's output shape, parameters and multiply-adds, and the totals
// (layers/summary.h), in the manner of torchinfo.
#include <iostream>
#include <memory>

#include "apps/commands.h"
#include "apps/flag_checks.h"
#include "apps/model_input.h"
#include "layers/summary.h"

namespace fluxion::apps {

void add_summary_command(CLI::App& app) {
  struct Options {
    ModelInputOptions model;
    int depth = 3;
  };
  auto opt = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "summary", "Print a model's modules with their output shapes, parameters and multiply-adds, and the totals");
  add_model_input_options(cmd, opt->model);
  cmd->add_option("--depth", opt->depth, "Show modules down to this depth (0: the model alone; -1: all)")
      ->capture_default_str()
      ->check(whole_number_in(-1, 100));
  cmd->callback([opt] {
    nn::ModulePtr model = build_model(opt->model);
    const nn::ModelSummary summary = nn::summarize(*model, input_shape(opt->model));
    std::cout << nn::format_summary(summary, opt->depth);
  });
}

}  // namespace fluxion::apps
