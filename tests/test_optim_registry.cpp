// The optimizer registry (optim/registry.h) keeps its promises: the names
// and their order, every entry built by name, every option of every
// optimizer visited, set by name, saved and checked, and every registered
// rule run. The registry is closed (the GPU kernels are compiled with the
// library from its list), so no test registers an optimizer of its own;
// instead SignDescent, a toy rule no registered optimizer lists, shows the
// compile-time guard: for_each_element would refuse it in any build.
// docs/contributing.md has the recipe that adds an optimizer.
#include <doctest/doctest.h>

#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "fluxion.h"
#include "optim/fused.h"
#include "optim/registry.h"

using namespace fluxion;
using namespace fluxion::optim;

namespace {

// Every option of `Options`, by name, with its default.
template <class Options>
std::vector<std::pair<std::string, double>> options_of(Options options) {
  std::vector<std::pair<std::string, double>> all;
  options.visit([&](const char* name, auto& field) { all.emplace_back(name, static_cast<double>(field)); });
  return all;
}

// A toy update rule that no registered optimizer lists: signSGD,
// w -= lr sign(g) (Bernstein et al. 2018).
struct SignDescent {
  double lr;
  template <class T>
  FLUXION_HOST_DEVICE void operator()(T& w, T& g) const {
    w -= T(lr) * T((g > T(0)) - (g < T(0)));
  }
};

// for_each_element's requirement, as a concept: what it static_asserts.
template <class Rule>
concept RunsFused = is_registered_rule<Rule>;

// Runs `rule` over as many tensors of ones as it takes.
template <class Rule, std::size_t... I>
void run_on_ones(const Rule& rule, DType dtype, std::index_sequence<I...>) {
  const std::vector<Tensor> t{((void)I, ones({5}, dtype))...};
  for_each_element("registry test", rule, t[I]...);
}

template <class... Rules>
void run_every_rule(RuleList<Rules...>) {
  for (DType dtype : {kFloat32, kFloat64})
    (run_on_ones(Rules{}, dtype, std::make_index_sequence<tensor_count<Rules>>()), ...);
}

}  // namespace

// The rules the optimizers' step() functions run, and the toy one that is not registered.
static_assert(RunsFused<rules::Sgd> && RunsFused<rules::SgdMomentum>);
static_assert(RunsFused<rules::Adam<false>> && RunsFused<rules::Adam<true>>);
static_assert(RunsFused<rules::Adagrad>);
static_assert(RunsFused<rules::RMSprop<false, false>> && RunsFused<rules::RMSprop<true, true>>);
static_assert(RunsFused<rules::AdaBound<false>> && RunsFused<rules::AdaBound<true>>);
static_assert(RunsFused<rules::AdaBayes> && RunsFused<rules::AdaBayesRescaled> && RunsFused<rules::AdaBayesFP>);
static_assert(!RunsFused<SignDescent>);
// The GPU kernels' arities, read from the rules.
static_assert(tensor_count<rules::Sgd> == 2 && tensor_count<rules::Adam<true>> == 5);
static_assert(tensor_count<rules::RMSprop<true, false>> == 4 && tensor_count<SignDescent> == 2);

TEST_CASE("optim registry: the names, in the order the command line uses") {
  // One string, so that a failure prints the names (a new optimizer's too).
  std::string names;
  for (const std::string& name : optimizer_names()) names += (names.empty() ? "" : " ") + name;
  CHECK(names == "sgd adam amsgrad adamw adagrad rmsprop adabound amsbound adabayes adabayes-fp adabayes-rescaled");
  const std::set<std::string> unique(optimizer_names().begin(), optimizer_names().end());
  CHECK(unique.size() == optimizer_names().size());
}

TEST_CASE("optim registry: every entry builds, and every option is visited, set by name, saved and checked") {
  std::apply([](const auto&... entry) {
    auto check = [](const auto& entry) {
      const std::string name = entry.name;
      CAPTURE(name);
      Tensor p = ones({3}, kFloat64).requires_grad_();
      auto opt = make_optimizer(name, {p});
      // Defaults pass their own checks, and every option is saved under its name.
      entry.defaults.validate(name.c_str());
      const StateDict dict = opt->state_dict();
      // Named, not a structured binding: clang < 16 cannot capture those (CAPTURE).
      for (const auto& option_default : options_of(entry.defaults)) {
        const std::string& option = option_default.first;
        const double value = option_default.second;
        CAPTURE(option);
        REQUIRE(dict.count("param_groups.0." + option));
        CHECK(dict.at("param_groups.0." + option).item() == value);
        CHECK_NOTHROW(make_optimizer(name, {p}, {{option, value}}));  // accepted by name
      }
      CHECK(dict.size() == options_of(entry.defaults).size() + 1);  // and initial_lr
      // The value given by name is the value saved.
      CHECK(make_optimizer(name, {p}, {{"lr", 0.25}})->state_dict().at("param_groups.0.lr").item() == 0.25);
      // Its options are the ones an unknown option's error lists.
      try {
        make_optimizer(name, {p}, {{"no_such_option", 1.0}});
        FAIL("expected an error");
      } catch (const Error& e) {
        for (const auto& [option, value] : options_of(entry.defaults))
          CHECK(std::string(e.what()).find(option) != std::string::npos);
      }
      // A step runs (on the CPU, through for_each_element) and a checkpoint round-trips.
      p.set_grad(full({3}, 0.5, kFloat64));
      opt->step();
      auto resumed = make_optimizer(name, {ones({3}, kFloat64).requires_grad_()});
      resumed->load_state_dict(opt->state_dict());
      CHECK(resumed->state(0).step == 1);
    };
    (check(entry), ...);
  }, registry());
}

TEST_CASE("optim registry: every registered rule runs on the CPU, in float32 and float64") {
  run_every_rule(RegisteredRules{});
}
