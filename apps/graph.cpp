// `fluxion graph --model NAME --out FILE.svg|FILE.dot [--collapse DEPTH]`: the
// autograd graph of one forward pass (autograd/graph_dot.h) as Graphviz DOT,
// rendered to SVG by Graphviz's `dot` program when it is installed (Debian's
// graphviz package); without it the DOT file is written and the command to
// render it printed.
#include <spawn.h>
#include <sys/wait.h>

#include <cerrno>

#include <iostream>
#include <memory>
#include <unordered_map>

#include "apps/commands.h"
#include "apps/flag_checks.h"
#include "apps/model_input.h"
#include "autograd/graph_dot.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/factory.h"
#include "layers/forward_trace.h"

namespace fluxion::apps {
namespace {

struct GraphOptions {
  ModelInputOptions model;
  std::string out;
  int collapse = 0;
};

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

extern "C" char** environ;

// Runs `dot -Tsvg dot_path -o svg_path` (posix_spawnp: safe beside the
// OpenMP threads, unlike fork + exec). Returns "" on success, else why not.
std::string render_svg(const std::string& dot_path, const std::string& svg_path) {
  std::string program = "dot", format = "-Tsvg", out_flag = "-o", in = dot_path, out = svg_path;
  char* argv[] = {program.data(), format.data(), in.data(), out_flag.data(), out.data(), nullptr};
  pid_t pid = 0;
  const int spawned = posix_spawnp(&pid, "dot", nullptr, nullptr, argv, environ);
  if (spawned != 0) return "Graphviz's dot could not be started (install Debian's graphviz package)";
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return "waiting for Graphviz's dot failed";
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return "";
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
    return "Graphviz's dot could not be started (install Debian's graphviz package)";
  }
  return "Graphviz's dot failed (exit status " + std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) + ")";
}

void run_graph(const GraphOptions& opt) {
  nn::ModulePtr model = build_model(opt.model);
  model->train();
  std::unordered_map<const TensorImpl*, std::string> names;
  for (const auto& [name, p] : model->named_parameters()) names.emplace(p.impl(), name);

  Tensor output;
  {
    nn::ForwardObserver quiet;  // the trace only labels ops with their module
    nn::TraceForward trace(*model, quiet);
    output = model->forward(zeros(input_shape(opt.model)));
  }
  GraphDotOptions options;
  options.collapse_depth = opt.collapse;
  options.title = opt.model.model;
  if (opt.collapse > 0) options.title += " (modules to depth " + std::to_string(opt.collapse) + ")";
  GraphDotStats stats;
  const std::string dot = graph_to_dot(output, names, options, &stats);

  const bool svg = ends_with(opt.out, ".svg");
  const std::string dot_path = svg ? opt.out.substr(0, opt.out.size() - 4) + ".dot" : opt.out;
  write_file_atomically(dot_path, dot, "fluxion graph");
  std::cout << "fluxion graph: " << opt.model.model << ": " << stats.op_nodes << (opt.collapse > 0 ? " nodes" : " ops")
            << ", " << stats.leaf_nodes << " parameters and inputs, " << stats.edges << " edges; wrote " << dot_path
            << "\n";
  if (!svg) return;
  const std::string failure = render_svg(dot_path, opt.out);
  if (failure.empty()) {
    std::cout << "fluxion graph: wrote " << opt.out << "\n";
  } else {
    std::cout << "fluxion graph: " << failure << "; render the DOT file with: dot -Tsvg " << dot_path << " -o "
              << opt.out << "\n";
  }
}

}  // namespace

void add_graph_command(CLI::App& app) {
  auto opt = std::make_shared<GraphOptions>();
  CLI::App* cmd =
      app.add_subcommand("graph", "Draw the autograd graph of one forward pass of a model (Graphviz DOT, or SVG)");
  add_model_input_options(cmd, opt->model);
  cmd->add_option("--out,-o", opt->out, "FILE.dot, or FILE.svg (rendered by Graphviz's dot, with FILE.dot beside it)")
      ->required()
      ->type_name("FILE")
      ->check(CLI::Validator(
          [](std::string& path) {
            return ends_with(path, ".svg") || ends_with(path, ".dot") ? std::string()
                                                                       : "must end in .svg or .dot, got '" + path + "'";
          },
          "", "svg-or-dot"));
  cmd->add_option("--collapse", opt->collapse, "Merge the ops of each module at this depth into one node (0: none)")
      ->capture_default_str()
      ->check(whole_number_in(0, 100));
  cmd->callback([opt] { run_graph(*opt); });
}

}  // namespace fluxion::apps
