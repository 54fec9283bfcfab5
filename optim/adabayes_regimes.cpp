#include "optim/adabayes_regimes.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace fluxion::optim {

AdaBayesRegimes adabayes_regimes(const AdaBayes& optimizer) {
  std::vector<double> posterior;
  std::int64_t low_data = 0, sgd_like = 0, high_data = 0, adam_like = 0;
  const std::size_t count = optimizer.params().size();
  for (std::size_t i = 0; i < count; ++i) {
    const Tensor post = optimizer.posterior_variance(i);
    if (!post.defined()) continue;  // not stepped yet
    const std::size_t group = optimizer.group_of(i);
    const double sigma2 = optimizer.prior_variance(group), eta = optimizer.lr(group);
    const std::vector<double> p = post.to_vector<double>();
    const std::vector<double> v = optimizer.mean_squared_gradient(i).to_vector<double>();
    for (std::size_t k = 0; k < p.size(); ++k) {
      const double adam_lr = eta / std::sqrt(v[k]);
      low_data += low_data_limit(adam_lr, sigma2);
      high_data += high_data_limit(adam_lr, sigma2);
      const Regime r = regime_of(p[k], sigma2, adam_lr);
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
  const auto share = [&](std::int64_t n) { return static_cast<double>(n) / static_cast<double>(r.weights); };
  r.share_low_data = share(low_data);
  r.share_sgd_like = share(sgd_like);
  r.share_high_data = share(high_data);
  r.share_adam_like = share(adam_like);
  return r;
}

}  // namespace fluxion::optim
