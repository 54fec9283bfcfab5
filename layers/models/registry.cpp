#include "layers/models/registry.h"

#include <functional>
#include <utility>

#include "layers/activation.h"
#include "layers/container.h"
#include "layers/linear.h"
#include "layers/models/cifar_resnet.h"
#include "layers/models/densenet.h"
#include "layers/models/resnet.h"
#include "layers/models/small_cnn.h"

namespace fluxion::nn {
namespace {

using Factory = std::function<ModulePtr(const ModelOptions&)>;

const std::vector<std::pair<std::string, Factory>>& registry() {
  static const std::vector<std::pair<std::string, Factory>> models = {
      {"resnet18", [](const ModelOptions& o) { return resnet18(o.num_classes, o.in_channels); }},
      {"resnet34", [](const ModelOptions& o) { return resnet34(o.num_classes, o.in_channels); }},
      {"densenet121", [](const ModelOptions& o) { return densenet121(o.num_classes, o.in_channels); }},
      {"resnet20", [](const ModelOptions& o) { return std::make_shared<CifarResNet>(20, o.num_classes, o.in_channels); }},
      {"resnet20b", [](const ModelOptions& o) {
         return std::make_shared<CifarResNet>(20, o.num_classes, o.in_channels, Shortcut::B);
       }},
      {"resnet32", [](const ModelOptions& o) { return std::make_shared<CifarResNet>(32, o.num_classes, o.in_channels); }},
      {"resnet44", [](const ModelOptions& o) { return std::make_shared<CifarResNet>(44, o.num_classes, o.in_channels); }},
      {"resnet56", [](const ModelOptions& o) { return std::make_shared<CifarResNet>(56, o.num_classes, o.in_channels); }},
      {"resnet110", [](const ModelOptions& o) { return std::make_shared<CifarResNet>(110, o.num_classes, o.in_channels); }},
      // Without batchnorm, so data-parallel training with any number of
      // ranks computes what one process does (tests/mpi/).
      {"mlp", [](const ModelOptions& o) {
         const std::int64_t inputs = o.in_channels * o.image_size * o.image_size;
         return std::make_shared<Sequential>(std::initializer_list<ModulePtr>{
             std::make_shared<Flatten>(), std::make_shared<Linear>(inputs, 256), std::make_shared<ReLU>(),
             std::make_shared<Linear>(256, o.num_classes)});
       }},
      {"small_cnn", [](const ModelOptions& o) {
         return std::make_shared<SmallCNN>(o.num_classes, o.in_channels, o.image_size);
       }},
  };
  return models;
}

}  // namespace

ModulePtr make_model(const std::string& name, const ModelOptions& options) {
  for (const auto& [n, factory] : registry())
    if (n == name) return factory(options);
  throw Error(detail::concat("unknown model '", name, "'; known models: ", detail::join(model_names())));
}

ModulePtr make_model(const std::string& name, std::int64_t num_classes) {
  ModelOptions options;
  options.num_classes = num_classes;
  return make_model(name, options);
}

std::vector<std::string> model_names() {
  std::vector<std::string> names;
  for (const auto& [n, _] : registry()) names.push_back(n);
  return names;
}

}  // namespace fluxion::nn
