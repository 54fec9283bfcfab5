#include "optim/make_optimizer.h"

#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include "optim/registry.h"

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
    std::vector<std::string> allowed;
    options.visit([&](const char* name, auto& field) {
      allowed.push_back(name);
      if (key != name) return;
      found = true;
      field = option_from_double<std::remove_reference_t<decltype(field)>>(who.c_str(), key, value);
    });
    FLUXION_CHECK(found, who, ": unknown option '", key, "' (options: ", detail::join(allowed), ")");
  }
  options.validate(who.c_str());
  return options;
}

}  // namespace

const std::vector<std::string>& optimizer_names() {
  static const std::vector<std::string> names =
      std::apply([](const auto&... entry) { return std::vector<std::string>{entry.name...}; }, registry());
  return names;
}

bool has_option(const std::string& name, const std::string& option) {
  bool found = false;
  auto look_in = [&](const auto& entry) {
    if (name != entry.name) return;
    auto options = entry.defaults;
    options.visit([&](const char* key, auto&) { found = found || option == key; });
  };
  std::apply([&](const auto&... entry) { (look_in(entry), ...); }, registry());
  return found;
}

std::unique_ptr<Optimizer> make_optimizer(const std::string& name, std::vector<Tensor> params,
                                          const std::map<std::string, double>& options) {
  std::unique_ptr<Optimizer> made;
  // The entry called `name`: its class, from its defaults with `options` applied.
  auto make_if_named = [&]<class Class>(const Registered<Class>& entry) {
    if (!made && name == entry.name)
      made = std::make_unique<Class>(std::move(params), with(entry.defaults, options, name));
  };
  std::apply([&](const auto&... entry) { (make_if_named(entry), ...); }, registry());
  if (made) return made;
  throw Error(detail::concat("make_optimizer: unknown optimizer '", name, "' (known: ", detail::join(optimizer_names()),
                             ")"));
}

}  // namespace fluxion::optim
