//! @file
//! The Table 1 sweep as scripts for a cluster or a plain shell, one task per
//! planned run (reproduce/protocol.h). Each task is one `fluxion train` with
//! every setting spelled out, its own --out and --auto-resume, so a task that
//! is requeued or run again continues its run, and a finished one does
//! nothing. `fluxion reproduce table1 --emit-slurm DIR` / `--emit-shell DIR`
//! write them (apps/reproduce.cpp; docs/distributed.md).
#pragma once

#include <string>
#include <vector>

#include "reproduce/protocol.h"

namespace fluxion::reproduce {

/// Where and how the scripts run the tasks.
struct ClusterOptions {
  std::string fluxion;                    ///< the fluxion executable the scripts call (overridable by $FLUXION)
  std::string job_name = "fluxion-table1";
  std::vector<std::string> sbatch;        ///< extra `#SBATCH` lines, for example "--partition=gpu", "--time=48:00:00"
  std::vector<std::string> gather_args;   ///< `fluxion reproduce table1 ... --report-only`: the table of the runs
  std::string description;                ///< one line for the scripts' header
};

/// The arguments after `fluxion` that run one planned run: "train", its
/// settings (model, dataset, optimizer, epochs, batch size, schedule, seed,
/// subset, and data folder, threads, workers, device where set), "--out" and
/// "--auto-resume".
std::vector<std::string> train_arguments(const PlannedRun& run);

/// `text` quoted for bash: as is when it holds only safe characters, else in
/// single quotes (a ' inside written '\'').
std::string shell_quote(const std::string& text);

/// A Slurm batch script with one array task per run (`#SBATCH --array=0-N`),
/// task i running runs[i]. Requeueable; logs go to OUT/slurm/.
std::string slurm_script(const std::vector<PlannedRun>& runs, const ClusterOptions& options, const std::string& out_dir);

/// A bash script that runs every task in turn on this machine (or only tasks
/// FIRST..LAST: `bash run_all.sh FIRST LAST`), then writes the table.
std::string shell_script(const std::vector<PlannedRun>& runs, const ClusterOptions& options);

/// A bash script that writes table1.md and fig4.svg from the runs finished so far.
std::string gather_script(const ClusterOptions& options);

}  // namespace fluxion::reproduce
