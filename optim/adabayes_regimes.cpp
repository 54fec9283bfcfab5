#include "optim/adabayes_regimes.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace fluxion::optim {

AdaBayesRegimes adabayes_regimes(const AdaBayes& optimizer) {
  std::vector<double> posterior;
  std::int64_t sgd_like = 0, adam_like = 0;
  const std::size_t count = optimizer.params().size();
  for (std::size_t i = 0; i < count; ++i) {
    const Tensor post = optimizer.posterior_variance(i);
    if (!post.defined()) continue;  // not stepped yet
    const std::size_t group = optimizer.group_of(i);
    const double sigma2 = optimizer.prior_variance(group), eta = optimizer.lr(group);
    const std::vector<double> p = post.to_vector<double>();
    const std::vector<double> v = optimizer.mean_squared_gradient(i).to_vector<double>();
    for (std::size_t k = 0; k < p.size(); ++k) {
      const Regime r = regime_of(p[k], sigma2, eta / std::sqrt(v[k]));
      sgd_like += r == Regime::sgd_like;
      adam_like += r == Regime::adam_like;
    }
    posterior.insert(posterior.end(), p.begin(), p.end());
  }
  AdaBayesRegimes r;
  if (posterior.empty()) return r;
  r.weights = static_cast<std::int64_t>(posterior.size());
  const auto middle = posterior.begin() + static_cast<std::ptrdiff_t>((posterior.size() - 1) / 2);
  std::nth_element(posterior.begin(), middle, posterior.end());
  r.median_posterior_variance = *middle;
  r.share_sgd_like = static_cast<double>(sgd_like) / static_cast<double>(r.weights);
  r.share_adam_like = static_cast<double>(adam_like) / static_cast<double>(r.weights);
  return r;
}

}  // namespace fluxion::optim
