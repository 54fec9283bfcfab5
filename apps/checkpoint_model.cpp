#include "apps/checkpoint_model.h"

#include <nlohmann/json.hpp>

#include "apps/flag_checks.h"
#include "apps/model_input.h"
#include "core/error.h"
#include "core/json.h"
#include "data/datasets.h"
#include "train/checkpoint.h"

namespace fluxion::apps {

void add_checkpoint_model_flags(CLI::App* cmd, std::string& checkpoint, CheckpointModelFlags& flags,
                                const std::string& dataset_help) {
  cmd->add_option("--checkpoint", checkpoint,
                  "best.safetensors or last.safetensors from fluxion train, or a state_dict (with --model, and "
                  "--dataset where a command needs one)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--model", flags.model,
                  "The model the checkpoint holds (needed when it has no run record, as a PyTorch state_dict)")
      ->check(CLI::IsMember(nn::model_names()));
  cmd->add_option("--classes", flags.classes,
                  "Classes the model predicts, for a checkpoint without a run record (default: the dataset's, else 10)")
      ->check(whole_number_in(1, std::int64_t{1} << 20));
  cmd->add_option("--dataset", flags.dataset, dataset_help)->check(CLI::IsMember(data::dataset_names()));
}

namespace {

nlohmann::json parse_record(const std::string& source, const std::string& config_json) {
  nlohmann::json record = nlohmann::json::value_t::discarded;  // from_run_record names a malformed one
  try {
    record = parse_json_bounded(config_json);
  } catch (const nlohmann::json::exception&) {
  } catch (const JsonTooDeep& e) {
    throw InputError(detail::concat(source, ": ", e.what()));
  }
  return record;
}

std::string model_list() {
  return detail::join(nn::model_names());
}

}  // namespace

CheckpointModel checkpoint_model(const std::string& path, const CheckpointModelFlags& flags) {
  CheckpointModel spec;
  const std::string source = path + " (its configuration)";
  const std::optional<std::string> config = train::find_config_json(train::read_model_file(path));
  nlohmann::json record;
  if (config) {
    record = parse_record(source, *config);
    spec.run = train::from_run_record(record, source);
    spec.model = spec.run->model;
    spec.dataset = spec.run->dataset;
    FLUXION_CHECK_INPUT(flags.model.empty() || flags.model == spec.model, path, " holds a ", spec.model,
                        " (its run record says so), not the --model ", flags.model, "; leave --model out");
    FLUXION_CHECK_INPUT(flags.classes == 0, path,
                        " has a run record, which fixes its classes; --classes is for checkpoints without one");
  } else {
    FLUXION_CHECK_INPUT(!flags.model.empty(), path,
                        ": no run record in its metadata (not written by fluxion train); say which model it holds "
                        "with --model NAME (and --classes N), one of: ", model_list());
    spec.model = flags.model;
  }
  if (!flags.dataset.empty()) spec.dataset = flags.dataset;

  if (!spec.dataset.empty()) {
    train::TrainConfig c = spec.run.value_or(train::TrainConfig());
    c.dataset = spec.dataset;
    if (!flags.mean.empty()) c.mean = flags.mean;
    if (!flags.std.empty()) c.std = flags.std;
    spec.data = train::recorded_data(c, record, source);
    const data::DatasetInfo& info = spec.data.info;
    spec.options.num_classes = info.num_classes;
    spec.options.in_channels = info.channels;
    spec.options.image_size = info.height;
  } else {
    const Shape chw = usual_input(spec.model);
    spec.options.in_channels = chw[0];
    spec.options.image_size = chw[1];
  }
  if (flags.classes > 0) spec.options.num_classes = flags.classes;
  return spec;
}

nn::ModulePtr load_checkpoint_model(const std::string& path, const CheckpointModel& spec) {
  nn::ModulePtr model = nn::make_model(spec.model, spec.options);
  const TensorMap loaded = train::read_model_file(path).tensors;
  const TensorMap wanted = model->state_dict();
  const std::string what = detail::concat(path, " does not fit ", spec.model, " with ", spec.options.num_classes,
                                          " classes and ", spec.options.in_channels, "x", spec.options.image_size, "x",
                                          spec.options.image_size, " inputs: ");
  std::size_t missing = 0, mismatched = 0, unexpected = 0;
  std::string first;
  for (const auto& [name, target] : wanted) {
    const auto it = loaded.find(name);
    if (it == loaded.end()) {
      ++missing;
      if (first.empty()) first = "no tensor \"" + name + "\" " + to_string(target.shape());
    } else if (it->second.shape() != target.shape()) {
      ++mismatched;
      if (first.empty())
        first = detail::concat("\"", name, "\" is ", to_string(it->second.shape()), " in the file, ",
                               to_string(target.shape()), " in the model");
    }
  }
  for (const auto& [name, t] : loaded) {
    if (wanted.contains(name)) continue;
    ++unexpected;
    if (first.empty()) first = "\"" + name + "\" " + to_string(t.shape()) + " is not in the model";
  }
  FLUXION_CHECK_INPUT(first.empty(), what, first, " (", missing, " missing, ", mismatched, " of another shape, ",
                      unexpected, " unexpected; --classes, --dataset or --model may be wrong)");
  train::load_model_weights(path, *model);
  model->eval();
  return model;
}

}  // namespace fluxion::apps
