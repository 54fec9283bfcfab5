// The small model and optimizer whose checkpoints seed fuzz_safetensors
// (written by make_seeds.cpp, loaded by the target): small so that a file
// that loads is a few hundred bytes and the fuzzer runs fast, with a
// batchnorm so buffers are in the file too.
#pragma once

#include <memory>

#include "layers/batch_norm.h"
#include "layers/linear.h"
#include "layers/container.h"
#include "optim/adabayes.h"

namespace fluxion::fuzz {

struct SeedModel {
  std::shared_ptr<nn::Sequential> model = std::make_shared<nn::Sequential>();
  std::unique_ptr<optim::AdaBayes> optimizer;
  SeedModel() {
    model->push_back(std::make_shared<nn::Linear>(3, 4));
    model->push_back(std::make_shared<nn::BatchNorm1d>(4));
    model->push_back(std::make_shared<nn::Linear>(4, 2));
    optimizer = std::make_unique<optim::AdaBayes>(model->parameters());
  }
};

}  // namespace fluxion::fuzz
