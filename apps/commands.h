// The `fluxion` command's subcommands. Each add_*_command registers one on the
// CLI11 app; its callback does the work.
#pragma once

#include <CLI/CLI.hpp>

namespace fluxion::apps {

void add_version_command(CLI::App& app);  // version.cpp
void add_train_command(CLI::App& app);    // train.cpp
void add_lr_find_command(CLI::App& app);  // lr_find.cpp: `lr-find` (the train flags of model, data, optimizer)
void add_eval_command(CLI::App& app);     // eval.cpp
void add_predict_command(CLI::App& app);  // predict.cpp: `predict --checkpoint FILE [--top K] [--json] IMAGE...`
void add_export_command(CLI::App& app);   // export.cpp: `export --checkpoint FILE --onnx OUT.onnx`
void add_plot_command(CLI::App& app);     // plot.cpp: `plot RUN_DIR... --out FILE.svg`
void add_summary_command(CLI::App& app);  // summary.cpp: `summary --model NAME`
void add_graph_command(CLI::App& app);    // graph.cpp: `graph --model NAME --out FILE.svg`
void add_step_command(CLI::App& app);     // step.cpp: `step --model NAME [--explain]`
void add_reproduce_command(CLI::App& app);  // reproduce.cpp: `reproduce table1|fig3`
void add_bench_command(CLI::App& app);    // bench_ops.cpp: `bench`, its subcommands and options
void add_bench_ops_command(CLI::App* bench);    // bench_ops.cpp
void add_bench_optim_command(CLI::App* bench);  // bench_optim.cpp
void add_bench_loader_command(CLI::App* bench);  // bench_loader.cpp
void add_bench_gpu_command(CLI::App* bench);     // bench_gpu.cpp
void add_bench_distributed_command(CLI::App* bench);  // bench_distributed.cpp
// bench_model.cpp: `bench --model NAME ...` (options on `bench` itself, run
// when no subcommand is given). Register after the subcommands.
void add_bench_model_options(CLI::App* bench);

}  // namespace fluxion::apps
