// `fluxion export --checkpoint FILE [--model NAME] --onnx OUT.onnx
// [--batch N|dynamic]`: the model of a checkpoint (a run's, or any state_dict
// with --model) as an ONNX model, traced in eval mode (apps/onnx_export.h).
// --reference-input IN --reference-output OUT also write Fluxion's own
// output for IN's "input" tensor, so another runtime can be checked against
// it (scripts/check_onnx.py). docs/export.md has the details.
#include <algorithm>
#include <cstdio>

#include "apps/checkpoint_model.h"
#include "apps/commands.h"
#include "core/error.h"
#include "core/factory.h"
#include "core/grad_mode.h"
#include "core/random.h"
#include "core/safetensors.h"
#include "data/datasets.h"
#ifdef FLUXION_WITH_ONNX
#include "apps/onnx_export.h"
#endif

namespace fluxion::apps {
namespace {

struct ExportFlags {
  std::string checkpoint, onnx, batch = "1", reference_input, reference_output;
  CheckpointModelFlags model;
};

// Runs the model on the "input" tensor of `in` and writes it with the
// "output" beside it to `out`: the reference a runtime is compared with.
void write_reference(nn::Module& model, const std::string& in, const std::string& out) {
  const SafetensorsFile file = load_safetensors(in);
  const auto it = file.tensors.find("input");
  FLUXION_CHECK_INPUT(it != file.tensors.end(), in, ": no tensor named \"input\" (--reference-input)");
  FLUXION_CHECK_INPUT(it->second.dtype() == kFloat32 && it->second.dim() == 4, in,
                      ": \"input\" must be float32 [N, C, H, W], got ", it->second.dtype(), " ",
                      to_string(it->second.shape()));
  NoGradGuard no_grad;
  model.eval();
  Tensor output;
  try {
    output = model.forward(it->second);
  } catch (const InputError&) {
    throw;
  } catch (const Error& e) {
    throw InputError(detail::concat(in, ": the model cannot run on its \"input\" ", to_string(it->second.shape()),
                                    ": ", e.what()));
  }
  save_safetensors(out, {{"input", it->second}, {"output", output}});
}

void run(const ExportFlags& f) {
#ifndef FLUXION_WITH_ONNX
  (void)f;
  throw InputError(
      "this fluxion was built without ONNX export: libonnx-dev and libprotobuf-dev were not found when it was "
      "configured. Install them (apt-get install libonnx-dev libprotobuf-dev, or bash scripts/setup.sh) and "
      "configure and build again");
#else
  const CheckpointModel spec = checkpoint_model(f.checkpoint, f.model);
  nn::ModulePtr model = load_checkpoint_model(f.checkpoint, spec);
  const bool dynamic = f.batch == "dynamic";
  // A dynamic batch is traced with 2, so that the batch dimension is told
  // apart from the many dimensions of size 1.
  const std::int64_t batch = dynamic ? 2 : std::stoll(f.batch);
  Generator generator(20261207);
  // An image folder's run may have non-square images (--image-size HxW).
  const std::int64_t height = spec.data.info.height > 0 ? spec.data.info.height : spec.options.image_size;
  const std::int64_t width = spec.data.info.width > 0 ? spec.data.info.width : spec.options.image_size;
  const Tensor example =
      randn({batch, spec.options.in_channels, height, width}, TensorOptions(kFloat32), &generator);
  OnnxExportOptions options;
  options.graph_name = spec.model;
  options.dynamic_batch = dynamic;
  const OnnxExportSummary summary = export_onnx(*model, example, f.onnx, options);
  const std::string input_shape = detail::concat("[", dynamic ? std::string("batch") : std::to_string(batch), ", ",
                                                 spec.options.in_channels, ", ", height, ", ", width, "]");
  std::printf("fluxion export: %s (%lld classes, input %s) to %s: %zu ONNX nodes, %zu initializers, opset %lld, "
              "checked by onnx::checker (ONNX %s)\n",
              spec.model.c_str(), static_cast<long long>(spec.options.num_classes), input_shape.c_str(),
              f.onnx.c_str(), summary.nodes, summary.initializers, static_cast<long long>(options.opset),
              onnx_library_version().c_str());
  if (!f.reference_input.empty()) {
    write_reference(*model, f.reference_input, f.reference_output);
    std::printf("fluxion export: wrote Fluxion's output for %s to %s\n", f.reference_input.c_str(),
                f.reference_output.c_str());
  }
#endif
}

}  // namespace

void add_export_command(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("export", "Write a checkpoint's model as ONNX (traced in eval mode)");
  auto f = std::make_shared<ExportFlags>();
  add_checkpoint_model_flags(cmd, f->checkpoint, f->model,
                             "Dataset whose image shape and classes the model takes (default: the run's, else the "
                             "model's usual)");
  cmd->add_option("--onnx", f->onnx, "The ONNX file to write")->required()->type_name("OUT.onnx");
  cmd->add_option("--batch", f->batch, "The input's batch size, or 'dynamic' for any")
      ->capture_default_str()
      ->type_name("N|dynamic")
      ->check(CLI::Validator(
          [](std::string& text) {
            const bool number = !text.empty() && text.size() <= 5 && text[0] != '0' &&
                                std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
            return text == "dynamic" || number
                       ? std::string()
                       : "expected a batch size from 1 to 99999 or 'dynamic', got '" + text + "'";
          },
          "N|dynamic"));
  auto* in = cmd->add_option("--reference-input", f->reference_input,
                             "A safetensors file with a float32 \"input\" [N, C, H, W]: also write Fluxion's output "
                             "for it (to check a runtime)")
                 ->check(CLI::ExistingFile)
                 ->type_name("IN.safetensors");
  auto* out = cmd->add_option("--reference-output", f->reference_output,
                              "Where to write \"input\" and Fluxion's \"output\" for --reference-input")
                  ->type_name("OUT.safetensors");
  in->needs(out);
  out->needs(in);
  cmd->callback([f] { run(*f); });
}

}  // namespace fluxion::apps
