//! @file
//! Lists of update rules (optim/rules.h), as types: each optimizer class names
//! the rules its step() runs in `using Rules = RuleList<...>`, and the
//! registry (optim/registry.h) joins the lists of the registered optimizers
//! into the one list the fused engine accepts (optim/fused.h) and makes GPU
//! kernels of (optim/fused_rules.cu).
#pragma once

#include <cstddef>
#include <type_traits>
#include <utility>

namespace fluxion::optim {

template <class... Rules>
struct RuleList {};

/// The lists `Lists...` joined, in order (a rule two lists share appears twice).
template <class... Lists>
struct JoinRules;
template <>
struct JoinRules<> {
  using type = RuleList<>;
};
template <class... Rules>
struct JoinRules<RuleList<Rules...>> {
  using type = RuleList<Rules...>;
};
template <class... First, class... Second, class... Rest>
struct JoinRules<RuleList<First...>, RuleList<Second...>, Rest...>
    : JoinRules<RuleList<First..., Second...>, Rest...> {};

/// Whether `Rule` is in `List`.
template <class Rule, class List>
inline constexpr bool rule_listed = false;
template <class Rule, class... Rules>
inline constexpr bool rule_listed<Rule, RuleList<Rules...>> = (std::is_same_v<Rule, Rules> || ...);

}  // namespace fluxion::optim

namespace fluxion::detail {

// float& for each I (a struct, not an alias: nvcc expands an alias that
// ignores I as no pack at all).
template <std::size_t>
struct TensorElement {
  using type = float&;
};
template <class Rule, std::size_t... I>
constexpr bool takes_tensors(std::index_sequence<I...>) {
  return std::is_invocable_v<const Rule&, typename TensorElement<I>::type...>;
}
template <class Rule, std::size_t... N>
constexpr int count_tensors(std::index_sequence<N...>) {
  int count = 0;
  ((count = takes_tensors<Rule>(std::make_index_sequence<N>()) ? static_cast<int>(N) : count), ...);
  return count;
}

}  // namespace fluxion::detail

namespace fluxion::optim {

/// How many tensors a rule's operator() takes (the parameter, its gradient,
/// then its state buffers), read from the rule itself: the arity of its GPU
/// kernel. 0 if it takes none of 1 to 8.
template <class Rule>
inline constexpr int tensor_count = detail::count_tensors<Rule>(std::make_index_sequence<9>());

}  // namespace fluxion::optim
