#include "train/model_ema.h"

#include <vector>

namespace fluxion::train {
namespace {

std::vector<Tensor> buffers_of(const nn::Module& module) {
  std::vector<Tensor> buffers;
  for (const auto& [name, b] : module.named_buffers()) buffers.push_back(b);
  return buffers;
}

// The model's state copied into `average` (its own tensors: no aliasing).
nn::ModulePtr copied(nn::ModulePtr average, const nn::Module& model) {
  average->load_state_dict(model.state_dict(), true, "the trained model");
  return average;
}

}  // namespace

ModelEma::ModelEma(nn::ModulePtr average, const nn::Module& model, optim::EmaOptions options)
    : average_(copied(std::move(average), model)),
      ema_(average_->parameters(), buffers_of(*average_), options) {}

void ModelEma::update(const nn::Module& model) { ema_.update(model.parameters(), buffers_of(model)); }

}  // namespace fluxion::train
