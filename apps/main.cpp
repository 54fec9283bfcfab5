// fluxion: the command-line front end. `fluxion --help` lists the subcommands.
#include <algorithm>
#include <csignal>
#include <filesystem>
#include <new>
#include <iostream>

#include "apps/commands.h"
#include "core/error.h"
#include "train/trainer.h"

int main(int argc, char** argv) {
  // Under a file-size limit (ulimit -f) the kernel would kill the process in
  // the middle of a checkpoint write, silently. Ignored, the write fails with
  // EFBIG and is reported like any failed write: exit 2, the previous
  // checkpoint intact, no temporary left.
  std::signal(SIGXFSZ, SIG_IGN);
  CLI::App app{"Fluxion: a small deep-learning framework built around Bayesian filtering optimizers"};
  app.require_subcommand(1);
  fluxion::apps::add_train_command(app);
  fluxion::apps::add_lr_find_command(app);
  fluxion::apps::add_eval_command(app);
  fluxion::apps::add_predict_command(app);
  fluxion::apps::add_export_command(app);
  fluxion::apps::add_version_command(app);
  fluxion::apps::add_bench_command(app);
  fluxion::apps::add_plot_command(app);
  fluxion::apps::add_summary_command(app);
  fluxion::apps::add_graph_command(app);
  fluxion::apps::add_step_command(app);
  fluxion::apps::add_reproduce_command(app);
  // Exit codes: 0 done; 2 the user's input is wrong (a flag, a file, a
  // config); 3 training diverged (NaN loss); 128 + the signal when stopped
  // by SIGINT (130) or SIGTERM (143), as the shell reports a killed
  // program; 1 anything else.
  // CLI11 reports an unknown first word as "A subcommand is required"; name it.
  if (argc > 1 && argv[1][0] != '-') {
    std::vector<std::string> known;
    for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; }))
      known.push_back(sub->get_name());
    const bool found = std::find(known.begin(), known.end(), argv[1]) != known.end();
    if (!found) {
      std::cerr << "fluxion: error: unknown command '" << argv[1] << "'; the commands: " << fluxion::detail::join(known)
                << " (see fluxion --help)\n";
      return 2;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help
    std::cerr << "fluxion: error: " << e.what() << " (see fluxion --help)\n";
    return 2;
  } catch (const fluxion::OutOfMemory& e) {
    std::cerr << "fluxion: error: " << e.what() << "; try a smaller --batch-size\n";
    return 2;
  } catch (const std::bad_alloc&) {
    std::cerr << "fluxion: error: out of memory; try a smaller --batch-size\n";
    return 2;
  } catch (const std::filesystem::filesystem_error& e) {
    // A path that the user named, or the run's folder, that the system
    // refused (a loop of symbolic links, a name too long, a read-only
    // disk): where no message of ours names it already, the system's does.
    std::cerr << "fluxion: error: " << (e.path1().empty() ? "" : "'" + e.path1().string() + "': ")
              << e.code().message() << "\n";
    return 2;
  } catch (const fluxion::InputError& e) {
    std::cerr << "fluxion: error: " << e.what() << "\n";
    return 2;
  } catch (const fluxion::train::TrainingDiverged& e) {
    std::cerr << "fluxion: training diverged: " << e.what() << "\n";
    return 3;
  } catch (const fluxion::train::Interrupted& e) {
    std::cerr << "fluxion: " << e.what() << "\n";
    return 128 + e.signal;
  } catch (const std::exception& e) {
    std::cerr << "fluxion: internal error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
