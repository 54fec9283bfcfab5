// The optimizers' fused GPU kernels: every rule of optim/rules.h instantiated
// with the arity its optimizer passes (core/fused.h's for_each_element). A
// new rule needs one line here.
#include "core/cuda/fused.cuh"
#include "optim/rules.h"

namespace fluxion::cuda {

using namespace optim::rules;

template void for_each_element<Sgd, 2>(const Sgd&, std::int64_t, DType, int, std::array<void*, 2>);
template void for_each_element<SgdMomentum, 3>(const SgdMomentum&, std::int64_t, DType, int, std::array<void*, 3>);
template void for_each_element<Adam<false>, 4>(const Adam<false>&, std::int64_t, DType, int, std::array<void*, 4>);
template void for_each_element<Adam<true>, 5>(const Adam<true>&, std::int64_t, DType, int, std::array<void*, 5>);
template void for_each_element<Adagrad, 3>(const Adagrad&, std::int64_t, DType, int, std::array<void*, 3>);
template void for_each_element<RMSprop<false, false>, 3>(const RMSprop<false, false>&, std::int64_t, DType, int,
                                                         std::array<void*, 3>);
template void for_each_element<RMSprop<true, false>, 4>(const RMSprop<true, false>&, std::int64_t, DType, int,
                                                        std::array<void*, 4>);
template void for_each_element<RMSprop<false, true>, 4>(const RMSprop<false, true>&, std::int64_t, DType, int,
                                                        std::array<void*, 4>);
template void for_each_element<RMSprop<true, true>, 5>(const RMSprop<true, true>&, std::int64_t, DType, int,
                                                       std::array<void*, 5>);
template void for_each_element<AdaBound<false>, 4>(const AdaBound<false>&, std::int64_t, DType, int,
                                                   std::array<void*, 4>);
template void for_each_element<AdaBound<true>, 5>(const AdaBound<true>&, std::int64_t, DType, int,
                                                  std::array<void*, 5>);
template void for_each_element<AdaBayes, 5>(const AdaBayes&, std::int64_t, DType, int, std::array<void*, 5>);
template void for_each_element<AdaBayesFP, 4>(const AdaBayesFP&, std::int64_t, DType, int, std::array<void*, 4>);

}  // namespace fluxion::cuda
