#include "apps/model_input.h"
#include "apps/flag_checks.h"

#include <regex>

#include "core/error.h"

namespace fluxion::apps {
namespace {

// "3x32x32" -> {3, 32, 32}; empty for anything else.
std::vector<std::int64_t> parse_chw(const std::string& text) {
  static const std::regex pattern(R"(([0-9]{1,6})x([0-9]{1,6})x([0-9]{1,6}))");
  std::smatch m;
  if (!std::regex_match(text, m, pattern)) return {};
  std::vector<std::int64_t> chw{std::stoll(m[1]), std::stoll(m[2]), std::stoll(m[3])};
  for (std::int64_t v : chw)
    if (v < 1) return {};
  return chw;
}

}  // namespace

void add_model_input_options(CLI::App* cmd, ModelInputOptions& options) {
  cmd->add_option("--model", options.model, "The model, by name")
      ->required()
      ->check(CLI::IsMember(nn::model_names()));
  cmd->add_option("--input", options.input, "One input's shape CxHxW (default: 1x28x28 for small_cnn, else 3x32x32)")
      ->type_name("CxHxW")
      ->check(CLI::Validator(
          [](std::string& text) {
            return parse_chw(text).empty() ? "expected CxHxW with positive sizes, such as 3x32x32, got '" + text + "'"
                                           : std::string();
          },
          "CxHxW"));
  cmd->add_option("--batch-size", options.batch_size, "Inputs in the batch")
      ->capture_default_str()
      ->check(whole_number_in(1, std::int64_t{1} << 16));
  cmd->add_option("--classes", options.classes, "Classes the model predicts")
      ->capture_default_str()
      ->check(whole_number_in(1, std::int64_t{1} << 20));
}

Shape usual_input(const std::string& model) { return model == "small_cnn" ? Shape{1, 28, 28} : Shape{3, 32, 32}; }

Shape input_shape(const ModelInputOptions& options) {
  std::vector<std::int64_t> chw = parse_chw(options.input);
  if (chw.empty()) chw = usual_input(options.model);
  return {options.batch_size, chw[0], chw[1], chw[2]};
}

nn::ModulePtr build_model(const ModelInputOptions& options) {
  const Shape shape = input_shape(options);
  nn::ModelOptions model_options;
  model_options.num_classes = options.classes;
  model_options.in_channels = shape[1];
  model_options.image_size = shape[2];
  return nn::make_model(options.model, model_options);
}

}  // namespace fluxion::apps
