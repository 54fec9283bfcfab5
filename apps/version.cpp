// `fluxion version`: what this build is and how it will run.
#include <iostream>

#include "apps/commands.h"
#ifdef FLUXION_WITH_ONNX
#include "apps/onnx_export.h"
#endif
#include "core/cuda.h"
#include "core/parallel.h"
#include "core/version.h"

namespace fluxion::apps {

void add_version_command(CLI::App& app) {
  CLI::App* cmd =
      app.add_subcommand("version", "Print the version, the BLAS in use, threads, CUDA support and ONNX export");
  cmd->callback([] {
    std::cout << "fluxion " << version() << "\n"
              << "blas: " << blas_backend() << "\n"
              << "threads: " << get_num_threads() << "\n"
              << "cuda: " << (cuda_enabled() ? "on" : "off (configured without the CUDA toolkit)") << "\n"
#ifdef FLUXION_WITH_ONNX
              << "onnx export: on (libonnx " << onnx_library_version() << ")\n";
#else
              << "onnx export: off (configured without libonnx-dev and libprotobuf-dev)\n";
#endif
    if (cuda_enabled()) std::cout << "cuda devices: " << cuda::device_count() << "\n";
  });
}

}  // namespace fluxion::apps
