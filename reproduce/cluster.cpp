#include "reproduce/cluster.h"

#include <charconv>
#include <sstream>

#include "core/error.h"

namespace fluxion::reproduce {
namespace {

// The shortest text that reads back as exactly `value` (0.8, not 0.80000000000000004).
std::string number(double value) {
  char text[32];
  const auto end = std::to_chars(text, text + sizeof text, value).ptr;
  return std::string(text, end);
}

// The header every script starts with: what it is and how it was made.
void write_header(std::ostringstream& out, const ClusterOptions& o, const std::string& what) {
  out << "# " << what << "\n"
      << "# " << o.description << "\n"
      << "# Written by fluxion reproduce table1; every task is a `fluxion train ... --auto-resume`, so running a\n"
      << "# task again continues its run, and a finished run is left alone.\n";
}

// `fluxion` from $FLUXION, else the executable that wrote the script.
void write_fluxion_variable(std::ostringstream& out, const ClusterOptions& o) {
  out << "FLUXION=${FLUXION:-" << shell_quote(o.fluxion) << "}\n";
}

// A bash function run_task I that runs task I's `fluxion train`.
void write_task_function(std::ostringstream& out, const std::vector<PlannedRun>& runs) {
  out << "run_task() {\n  local args\n  case \"$1\" in\n";
  for (std::size_t i = 0; i < runs.size(); ++i) {
    out << "    " << i << ") args=(";
    const std::vector<std::string> args = train_arguments(runs[i]);
    for (std::size_t a = 0; a < args.size(); ++a) out << (a ? " " : "") << shell_quote(args[a]);
    out << ") ;;\n";
  }
  out << "    *) echo \"no task '$1': expected 0 to " << runs.size() - 1 << "\" >&2; return 2 ;;\n"
      << "  esac\n  \"$FLUXION\" \"${args[@]}\"\n}\n";
}

}  // namespace

std::string shell_quote(const std::string& text) {
  const bool safe = !text.empty() && text.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                                            "0123456789_-+=./:,@%") == std::string::npos;
  if (safe) return text;
  std::string quoted = "'";
  for (char ch : text) quoted += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return quoted + "'";
}

std::vector<std::string> train_arguments(const PlannedRun& run) {
  const train::TrainConfig& c = run.config;
  std::vector<std::string> args = {"train",        "--model",      c.model,
                                   "--dataset",    c.dataset,      "--optimizer",
                                   c.optimizer,    "--epochs",     std::to_string(c.epochs),
                                   "--batch-size", std::to_string(c.batch_size), "--schedule",
                                   c.schedule,     "--seed",       std::to_string(c.seed),
                                   "--subset",     std::to_string(c.subset)};
  if (c.augment != -1) args.insert(args.end(), {"--augment", c.augment == 1 ? "on" : "off"});
  for (const auto& [name, value] : c.optimizer_options) {
    // The options `fluxion train` has flags for; beta1 and beta2 go together.
    if (name == "beta2") continue;
    if (name == "beta1") {
      FLUXION_CHECK(c.optimizer_options.count("beta2"), "train_arguments: beta1 without beta2");
      args.insert(args.end(), {"--betas", number(value) + "," + number(c.optimizer_options.at("beta2"))});
      continue;
    }
    FLUXION_CHECK(name == "lr" || name == "sgd_lr" || name == "momentum" || name == "weight_decay",
                  "train_arguments: no fluxion train flag for the optimizer option '", name, "'");
    std::string flag = "--" + name;
    for (char& ch : flag) ch = ch == '_' ? '-' : ch;
    args.insert(args.end(), {flag, number(value)});
  }
  if (!c.data_dir.empty()) args.insert(args.end(), {"--data-dir", c.data_dir});
  if (c.threads > 0) args.insert(args.end(), {"--threads", std::to_string(c.threads)});
  args.insert(args.end(), {"--workers", std::to_string(c.workers), "--device", c.device});
  if (c.skip_nonfinite > 0) args.insert(args.end(), {"--skip-nonfinite", std::to_string(c.skip_nonfinite)});
  args.insert(args.end(), {"--out", c.out_dir, "--auto-resume"});
  return args;
}

std::string slurm_script(const std::vector<PlannedRun>& runs, const ClusterOptions& o, const std::string& out_dir) {
  FLUXION_CHECK_INPUT(!runs.empty(), "--emit-slurm: the plan has no runs");
  // #SBATCH lines are not shell: a quoted path would keep its quotes.
  FLUXION_CHECK_INPUT(out_dir.find_first_of(" \t\n'\"%") == std::string::npos, "--out '", out_dir,
                      "': Slurm's #SBATCH --output cannot name a path with spaces, quotes or %; choose another --out");
  // Each task is given one GPU, which it sees as cuda:0.
  const std::string& device = runs.front().config.device;
  FLUXION_CHECK_INPUT(device == "cpu" || device == "cuda", "--device ", device,
                      ": a Slurm task sees only the GPU it is given (--gres=gpu:1), as cuda; pass --device cuda");
  std::ostringstream out;
  out << "#!/usr/bin/env bash\n";
  // Slurm reads #SBATCH lines only before the first command, so they come first.
  out << "#SBATCH --job-name=" << o.job_name << "\n"
      << "#SBATCH --array=0-" << runs.size() - 1 << "\n"
      << "#SBATCH --ntasks=1\n"
      << "#SBATCH --cpus-per-task=" << (runs.front().config.threads > 0 ? runs.front().config.threads : 4) << "\n"
      << "#SBATCH --requeue\n"
      << "#SBATCH --open-mode=append\n"  // a requeued task adds to its log, not over it
      << "#SBATCH --output=" << out_dir << "/slurm/%A_%a.log\n";
  if (runs.front().config.device.rfind("cuda", 0) == 0) out << "#SBATCH --gres=gpu:1\n";
  for (const std::string& line : o.sbatch) out << "#SBATCH " << line << "\n";
  write_header(out, o, "Table 1 as a Slurm job array: one task per run, " + std::to_string(runs.size()) + " tasks.");
  out << "#   sbatch table1.sbatch    # then, when the array is done:\n"
      << "#   bash gather.sh          # or: sbatch --dependency=afterany:JOBID gather.sh\n"
      << "# Test one task here: SLURM_ARRAY_TASK_ID=0 bash table1.sbatch\n"
      << "set -euo pipefail\n";
  write_fluxion_variable(out, o);
  // Without --threads a task uses the CPUs Slurm gave it, not the node's cores.
  if (runs.front().config.threads == 0) out << "export FLUXION_NUM_THREADS=${SLURM_CPUS_PER_TASK:-4}\n";
  write_task_function(out, runs);
  out << ": \"${SLURM_ARRAY_TASK_ID:?not set: submit with sbatch, or set it to a task number}\"\n"
      << "run_task \"$SLURM_ARRAY_TASK_ID\"\n";
  return out.str();
}

std::string shell_script(const std::vector<PlannedRun>& runs, const ClusterOptions& o) {
  FLUXION_CHECK_INPUT(!runs.empty(), "--emit-shell: the plan has no runs");
  std::ostringstream out;
  out << "#!/usr/bin/env bash\n";
  write_header(out, o, "Table 1 on this machine: " + std::to_string(runs.size()) + " runs, one after another.");
  out << "#   bash run_all.sh             # every task, then the table (gather.sh)\n"
      << "#   bash run_all.sh FIRST LAST  # tasks FIRST..LAST only, e.g. to split them between machines\n"
      << "set -uo pipefail\n";
  write_fluxion_variable(out, o);
  write_task_function(out, runs);
  out << "first=${1:-0}\nlast=${2:-" << runs.size() - 1 << "}\nfailed=0\n"
      << "for ((task = first; task <= last; task++)); do\n"
      << "  echo \"run_all.sh: task $task of 0.." << runs.size() - 1 << "\"\n"
      << "  run_task \"$task\" || { echo \"run_all.sh: task $task failed (exit $?); going on\" >&2; failed=$((failed + 1)); }\n"
      << "done\n"
      << "bash \"$(dirname \"$0\")/gather.sh\" || failed=$((failed + 1))\n"
      << "[[ $failed -eq 0 ]] || { echo \"run_all.sh: $failed task(s) failed\" >&2; exit 1; }\n";
  return out.str();
}

std::string gather_script(const ClusterOptions& o) {
  std::ostringstream out;
  out << "#!/usr/bin/env bash\n";
  write_header(out, o, "Writes table1.md and fig4.svg from the runs finished so far (unfinished ones are counted).");
  out << "set -euo pipefail\n";
  write_fluxion_variable(out, o);
  out << "\"$FLUXION\"";
  for (const std::string& a : o.gather_args) out << " " << shell_quote(a);
  out << "\n";
  return out.str();
}

}  // namespace fluxion::reproduce
