// fluxion: the command-line front end. `fluxion --help` lists the subcommands.
#include <iostream>

#include "apps/commands.h"
#include "core/error.h"

int main(int argc, char** argv) {
  CLI::App app{"Fluxion: a small deep-learning framework built around Bayesian filtering optimizers"};
  app.require_subcommand(1);
  fluxion::apps::add_version_command(app);
  fluxion::apps::add_bench_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const fluxion::Error& e) {
    std::cerr << "fluxion: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
