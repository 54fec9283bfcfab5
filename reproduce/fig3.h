//! @file
//! The paper's Fig. 3: AdaBayes's learning rate sigma^2_post against Adam's,
//! eta / sqrt(<g^2>), for a fixed random sample of weights at set points of a
//! training run, beside the fixed point of the filter (Eq. 21), its low-data
//! limit sigma^2 (Eq. 22: SGD) and its high-data limit eta / sqrt(<g^2>)
//! (Adam). `fluxion reproduce fig3` (apps/reproduce.cpp) trains with
//! train::run_training and samples through its on_step hook.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "layers/module.h"
#include "optim/adabayes.h"
#include "train/config.h"

namespace fluxion::reproduce {

/// Eq. 21: the posterior variance the filter settles at for a weight whose
/// summed-loss gradient has mean square `mean_square`, with prior variance
/// sigma2 and lr eta. Tends to sigma2 as mean_square -> 0 (Eq. 22) and to
/// eta / sqrt(mean_square) as it grows.
double fixed_point_variance(double mean_square, double sigma2, double eta);

/// One weight at one moment of training.
struct Fig3Point {
  double epoch = 0;  ///< fractional: 0.5 is halfway through the first epoch
  std::string parameter;
  std::int64_t index = 0;             ///< flat index into the parameter
  double mean_square_gradient = 0;    ///< bias-corrected <g^2> of the summed-loss gradient
  double posterior_variance = 0;      ///< sigma^2_post: AdaBayes's learning rate for the weight
  double prior_variance = 0;  ///< sigma^2 (Eq. 23) at that moment
  double lr = 0;              ///< eta at that moment
  double adam_lr() const;             ///< eta / sqrt(<g^2>): the x axis
  double fixed_point() const;         ///< Eq. 21 for this point
  /// |sigma^2_post / Eq. 21 - 1| <= tolerance.
  bool near_fixed_point(double tolerance = 0.1) const;
};

/// A fixed random choice of weights, spread evenly over the model's parameter
/// tensors (so small layers, biases and batchnorm are represented, not just
/// the big convolutions), in random order (any prefix is a fair sample).
/// `only`, when not empty, names the parameters to sample from (e.g.
/// {"linear.weight"}: Fig. 3 of one layer); an unknown name is an InputError
/// naming --parameters and listing the model's parameters.
class Fig3Sampler {
 public:
  Fig3Sampler(const nn::Module& model, std::int64_t count, std::uint64_t seed,
              const std::vector<std::string>& only = {});
  std::size_t size() const { return chosen_.size(); }
  /// Appends one point per chosen weight (none before the optimizer's first step).
  void sample(const optim::AdaBayes& optimizer, double epoch, std::vector<Fig3Point>& out) const;

 private:
  struct Choice {
    std::size_t param;
    std::int64_t index;
  };
  std::vector<std::string> names_;
  std::vector<Choice> chosen_;
};

struct Fig3Options {
  train::TrainConfig config;     ///< optimizer must be adabayes; config.out_dir/run holds the training run
  std::int64_t samples = 3000;   ///< weights followed
  std::vector<std::string> parameters;  ///< sample these parameters only (all when empty)
};

struct Fig3Summary {
  std::size_t counted = 0;          ///< points sampled after the first epoch
  double share_near = 0;            ///< of those, the share within 10% of Eq. 21
  std::size_t counted_last = 0;     ///< points of the last sampling moment
  double share_near_last = 0;       ///< of those, the share within 10% of Eq. 21
  /// Of those far into each limit (eta/sqrt(<g^2>) > 10 sigma^2, or < sigma^2 / 10):
  std::size_t low_data = 0, high_data = 0;
  double share_sgd_like = 0;        ///< low data: within 10% of sigma^2 (Eq. 22)
  double share_adam_like = 0;       ///< high data: within 10% of eta / sqrt(<g^2>)
};
Fig3Summary summarize_fig3(const std::vector<Fig3Point>& points);

/// Trains config (in out_dir/run) and samples at a tenth and at half of the
/// first epoch, then at the end of every epoch. Throws InputError when the
/// optimizer is not adabayes (AdaBayes-FP sits on the curve by construction).
std::vector<Fig3Point> run_fig3(const Fig3Options& options, const std::string& out_dir, std::ostream& log);

/// One line per point: epoch,parameter,index,mean_square_gradient,
/// posterior_variance,prior_variance,lr,adam_lr,fixed_point.
std::string fig3_csv(const std::vector<Fig3Point>& points);
/// The log-log plot; `subtitle` says what was trained (the paper's figure is
/// of a ResNet-34 on CIFAR-10). At most `max_per_time` points per sampling
/// moment are drawn (the CSV has them all).
std::string fig3_svg(const std::vector<Fig3Point>& points, const std::string& subtitle,
                     std::size_t max_per_time = 1000);

}  // namespace fluxion::reproduce
