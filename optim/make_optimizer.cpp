#include "optim/make_optimizer.h"

#include <sstream>
#include <type_traits>

#include "optim/adabayes.h"
#include "optim/adabound.h"
#include "optim/adagrad.h"
#include "optim/adam.h"
#include "optim/rmsprop.h"
#include "optim/sgd.h"

namespace fluxion::optim {
namespace {

// `defaults` with `given` applied by name, then range-checked.
template <class Options>
Options with(Options options, const std::map<std::string, double>& given, const std::string& who) {
  // Named, not a structured binding: clang < 16 (the fuzz build) cannot capture those.
  for (const auto& entry : given) {
    const std::string& key = entry.first;
    const double value = entry.second;
    bool found = false;
    std::ostringstream allowed;
    options.visit([&](const char* name, auto& field) {
      allowed << (allowed.tellp() > 0 ? ", " : "") << name;
      if (key != name) return;
      found = true;
      field = option_from_double<std::remove_reference_t<decltype(field)>>(who.c_str(), key, value);
    });
    FLUXION_CHECK(found, who, ": unknown option '", key, "' (options: ", allowed.str(), ")");
  }
  options.validate(who.c_str());
  return options;
}

}  // namespace

const std::vector<std::string>& optimizer_names() {
  static const std::vector<std::string> names{"sgd",     "adam",     "amsgrad",  "adamw",    "adagrad",
                                              "rmsprop", "adabound", "amsbound", "adabayes", "adabayes-fp"};
  return names;
}

std::unique_ptr<Optimizer> make_optimizer(const std::string& name, std::vector<Tensor> params,
                                          const std::map<std::string, double>& options) {
  if (name == "sgd") return std::make_unique<SGD>(std::move(params), with(SGDOptions(), options, name));
  if (name == "adam") return std::make_unique<Adam>(std::move(params), with(AdamOptions(), options, name));
  if (name == "amsgrad")
    return std::make_unique<Adam>(std::move(params), with(AdamOptions().amsgrad(true), options, name));
  if (name == "adamw") return std::make_unique<AdamW>(std::move(params), with<AdamOptions>(AdamWOptions(), options, name));
  if (name == "adagrad") return std::make_unique<Adagrad>(std::move(params), with(AdagradOptions(), options, name));
  if (name == "rmsprop") return std::make_unique<RMSprop>(std::move(params), with(RMSpropOptions(), options, name));
  if (name == "adabound")
    return std::make_unique<AdaBound>(std::move(params), with(AdaBoundOptions(), options, name));
  if (name == "amsbound")
    return std::make_unique<AdaBound>(std::move(params), with(AdaBoundOptions().amsbound(true), options, name));
  if (name == "adabayes") return std::make_unique<AdaBayes>(std::move(params), with(AdaBayesOptions(), options, name));
  if (name == "adabayes-fp")
    return std::make_unique<AdaBayesFP>(std::move(params), with(AdaBayesOptions(), options, name));
  std::ostringstream known;
  for (const auto& n : optimizer_names()) known << (known.tellp() > 0 ? ", " : "") << n;
  throw Error(detail::concat("make_optimizer: unknown optimizer '", name, "' (known: ", known.str(), ")"));
}

}  // namespace fluxion::optim
