// `fluxion step --model NAME [--explain]`: one training step on one batch of
// a real dataset. With --explain it says, in order, what happens and where
// the code is: the batch leaving the loader, each module's forward with
// statistics of its output, the loss, the backward through every recorded
// op with the size of the gradient it received, and the optimizer's update
// of every parameter (for AdaBayes: sigma^2_post and how many weights are in
// its SGD-like and Adam-like regimes). docs/walkthrough.md is written from it.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "apps/commands.h"
#include "apps/flag_checks.h"
#include "autograd/trace.h"
#include "core/error.h"
#include "data/datasets.h"
#include "data/loader.h"
#include "fluxion.h"
#include "layers/forward_trace.h"

namespace fluxion::apps {
namespace {

struct StepOptions {
  std::string model;
  std::string dataset = "fashion-mnist";
  std::string data_dir;
  std::int64_t batch_size = 32;
  std::string optimizer = "adabayes";
  double lr = 0.0;  // 0: the optimizer's default
  bool explain = false;
  int depth = -1;
  std::uint64_t seed = 0;
};

struct Stats {
  double mean = 0, std = 0, min = 0, max = 0, norm = 0;
};

Stats stats_of(const Tensor& t) {
  const std::vector<double> v = t.to_vector<double>();
  Stats s;
  if (v.empty()) return s;
  s.min = s.max = v[0];
  double sum = 0, squares = 0;
  for (double x : v) {
    sum += x;
    squares += x * x;
    s.min = std::min(s.min, x);
    s.max = std::max(s.max, x);
  }
  const double n = static_cast<double>(v.size());
  s.mean = sum / n;
  s.std = std::sqrt(std::max(0.0, squares / n - s.mean * s.mean));
  s.norm = std::sqrt(squares);
  return s;
}

// Where each op's forward and backward are written.
std::string op_file(const std::string& op) {
  static const std::map<std::string, std::string> files{
      {"conv2d", "autograd/ops/conv.cpp"},        {"batch_norm", "autograd/ops/batch_norm.cpp"},
      {"batch_norm_relu", "autograd/ops/batch_norm.cpp"},
      {"relu", "autograd/ops/activation.cpp"},    {"add_relu", "autograd/ops/activation.cpp"},
      {"sigmoid", "autograd/ops/activation.cpp"}, {"tanh", "autograd/ops/activation.cpp"},
      {"max_pool2d", "autograd/ops/pool.cpp"},    {"avg_pool2d", "autograd/ops/pool.cpp"},
      {"matmul", "autograd/ops/matmul.cpp"},
      {"add", "autograd/ops/arithmetic.cpp"},     {"sub", "autograd/ops/arithmetic.cpp"},
      {"mul", "autograd/ops/arithmetic.cpp"},     {"div", "autograd/ops/arithmetic.cpp"},
      {"neg", "autograd/ops/arithmetic.cpp"},     {"sum", "autograd/ops/reduction.cpp"},
      {"log_softmax", "autograd/ops/softmax.cpp"}, {"softmax", "autograd/ops/softmax.cpp"},
      {"gather", "autograd/ops/index.cpp"},       {"where", "autograd/ops/index.cpp"},
      {"cat", "autograd/ops/join.cpp"},           {"dropout", "autograd/ops/dropout.cpp"},
  };
  static const std::vector<std::string> views{"reshape", "permute", "slice", "squeeze", "unsqueeze",
                                              "expand", "clone", "to"};
  const auto it = files.find(op);
  if (it != files.end()) return it->second;
  if (std::find(views.begin(), views.end(), op) != views.end()) return "autograd/ops/view.cpp";
  return "autograd/ops/unary.cpp";  // exp, log, sqrt, pow, abs, clamp
}

// Where each module's forward is written; the model's own blocks by model.
std::string module_file(const std::string& type, const std::string& model) {
  static const std::map<std::string, std::string> files{
      {"Conv2d", "layers/conv.cpp"},           {"BatchNorm2d", "layers/batch_norm.cpp"},
      {"BatchNorm1d", "layers/batch_norm.cpp"}, {"Linear", "layers/linear.cpp"},
      {"ReLU", "layers/activation.cpp"},       {"Dropout", "layers/activation.cpp"},
      {"Flatten", "layers/activation.cpp"},    {"Identity", "layers/activation.cpp"},
      {"MaxPool2d", "layers/pooling.cpp"},     {"AvgPool2d", "layers/pooling.cpp"},
      {"AdaptiveAvgPool2d", "layers/pooling.cpp"}, {"Sequential", "layers/container.cpp"},
  };
  const auto it = files.find(type);
  if (it != files.end()) return it->second;
  if (model == "resnet18" || model == "resnet34") return "layers/models/resnet.cpp";
  if (model == "densenet121") return "layers/models/densenet.cpp";
  if (model == "small_cnn") return "layers/models/small_cnn.cpp";
  return "layers/models/cifar_resnet.cpp";
}

// Prints each traced module call down to `depth` with its output's statistics.
class ExplainForward : public nn::ForwardObserver {
 public:
  ExplainForward(std::string model, int depth) : model_(std::move(model)), depth_(depth) {}
  void exit(const nn::ForwardCall& call, const Tensor& output) override {
    if (depth_ >= 0 && call.depth > depth_) return;
    const Stats s = stats_of(output);
    const std::string type = call.module.type_name();
    const std::string name = call.path.empty() ? type : call.path + " (" + type + ")";
    std::printf("  %*s%-*s -> %-18s mean %+.3f  std %.3f  range [%+.2f, %+.2f]   %s\n", 2 * call.depth, "",
                std::max(1, 34 - 2 * call.depth), name.c_str(), to_string(output.shape()).c_str(), s.mean, s.std,
                s.min, s.max, module_file(call.module.type_name(), model_).c_str());
  }

 private:
  std::string model_;
  int depth_;
};

void explain_adabayes(const optim::AdaBayes& adabayes) {
  // Each weight's sigma^2_post against the two limits of the filter, as the
  // paper's Fig. 3 reads them (optim/adabayes_regimes.h): the prior sigma^2
  // (low Fisher information: AdaBayes steps like SGD with sgd_lr) and
  // eta / sqrt(<g^2>) (high: like Adam).
  const optim::AdaBayesRegimes r = optim::adabayes_regimes(adabayes);
  if (r.weights == 0) return;
  std::printf("  sigma^2 (prior, = sgd_lr / batch_size, Eq. 23) = %.3g; median sigma^2_post = %.3g\n",
              adabayes.prior_variance(0), r.median_posterior_variance);
  std::printf("  low-data limit (eta/sqrt(<g^2>) > 10 sigma^2): %.1f%% of the weights, SGD-like (sigma^2_post within "
              "10%% of sigma^2): %.1f%%\n",
              100 * r.share_low_data, 100 * r.share_sgd_like);
  std::printf("  high-data limit (eta/sqrt(<g^2>) < sigma^2 / 10): %.1f%%, Adam-like (within 10%% of "
              "eta/sqrt(<g^2>)): %.1f%%\n",
              100 * r.share_high_data, 100 * r.share_adam_like);
  std::printf("  (after one step every posterior is still near its prior: the filter has seen one gradient, and <g^2>\n"
              "   is that gradient squared; over training the weights settle on the fixed point of Eq. 21)\n");
}

// Batch 0 of epoch 0 of the training split, shuffled with the seed.
struct FirstBatch {
  std::int64_t dataset_size = 0;  // images in the training split
  data::Batch batch;
};

FirstBatch first_batch(const StepOptions& o, const data::DatasetInfo& info) {
  auto dataset = std::make_shared<const data::Dataset>(data::load_dataset(o.dataset, o.data_dir, true));
  data::LoaderOptions loader_options;
  loader_options.batch_size(o.batch_size).mean(info.mean).std(info.std).seed(o.seed).workers(1);
  data::DataLoader loader(dataset, loader_options);
  loader.start_epoch(0);
  std::optional<data::Batch> first = loader.next();
  FLUXION_CHECK_INPUT(first.has_value(), o.dataset, ": the training split has no images to make a batch from");
  return {dataset->size(), std::move(*first)};
}

// The optimizer with its defaults, but --lr and AdaBayes's batch size.
std::unique_ptr<optim::Optimizer> make_step_optimizer(const StepOptions& o, nn::Module& model) {
  std::map<std::string, double> options;
  if (o.lr > 0) options["lr"] = o.lr;
  if (optim::has_option(o.optimizer, "batch_size")) options["batch_size"] = static_cast<double>(o.batch_size);
  return optim::make_optimizer(o.optimizer, model.parameters(), options);
}

void explain_batch(const StepOptions& o, const data::DatasetInfo& info, const FirstBatch& first) {
  const data::Batch& batch = first.batch;
  const Stats s = stats_of(batch.images);
  std::printf("1. The batch  (data/datasets.cpp reads the files, data/loader.cpp makes batches)\n");
  std::printf("  %s training split: %lld images of %lldx%lldx%lld, %lld classes\n", o.dataset.c_str(),
              static_cast<long long>(first.dataset_size), static_cast<long long>(info.channels),
              static_cast<long long>(info.height), static_cast<long long>(info.width),
              static_cast<long long>(info.num_classes));
  std::printf("  batch 0 of epoch 0 (shuffled with seed %llu): images %s float32, pixels / 255 normalised by the\n"
              "  dataset's mean and std to mean %+.3f, std %.3f, range [%+.2f, %+.2f]; labels %s int64\n\n",
              static_cast<unsigned long long>(o.seed), to_string(batch.images.shape()).c_str(), s.mean, s.std, s.min,
              s.max, to_string(batch.labels.shape()).c_str());
  std::printf("2. Forward  (each module's forward(); ops record the graph as they run: autograd/node.cpp)\n"
              "   a module is listed when its forward returns, so a block follows the layers inside it\n");
}

// The model's forward; with --explain, each module's output as it returns.
Tensor traced_forward(const StepOptions& o, nn::Module& model, const Tensor& images) {
  ExplainForward observer(o.model, o.explain ? o.depth : -2);
  std::unique_ptr<nn::TraceForward> trace;
  if (o.explain) trace = std::make_unique<nn::TraceForward>(model, observer);
  return model.forward(images);
}

void explain_loss(const Tensor& logits, const Tensor& loss, const data::DatasetInfo& info) {
  std::printf("\n3. Loss  (autograd/ops/loss.cpp: log_softmax, then the mean of -log p[label])\n");
  std::printf("  cross_entropy(logits %s, labels) = %.4f; a model that knows nothing scores ln(%lld) = %.4f\n\n",
              to_string(logits.shape()).c_str(), loss.item(), static_cast<long long>(info.num_classes),
              std::log(static_cast<double>(info.num_classes)));
  std::printf("4. Backward  (autograd/engine.cpp: the graph in topological order, each op's backward in its file;\n"
              "   the module that ran the op, '-' for ops outside any module such as the loss's, and the norm of\n"
              "   the gradient the op received)\n");
}

// loss.backward(); with --explain, each node as it runs. Returns the number
// of nodes that ran (counted only with --explain).
int traced_backward(const StepOptions& o, const Tensor& loss) {
  int node_count = 0;
  std::unique_ptr<trace::BackwardHookGuard> hook;
  if (o.explain) {
    hook = std::make_unique<trace::BackwardHookGuard>(
        [&node_count](const Node& node, const Tensor& grad_output, const TensorList&) {
          ++node_count;
          std::printf("  %3d. %-12s %-22s |grad| %.3e   %s\n", node_count, node.name.c_str(),
                      node.scope.empty() ? "-" : node.scope.c_str(), stats_of(grad_output).norm,
                      op_file(node.name).c_str());
        });
  }
  loss.backward();
  return node_count;
}

// Each parameter's norm, gradient and step, from its value `before` the step.
void explain_update(const StepOptions& o, const optim::Optimizer& optimizer, const nn::NamedTensors& named,
                    const std::vector<Tensor>& before, int node_count) {
  std::printf("\n   %d ops ran backward; every parameter now has its .grad()\n\n", node_count);
  std::printf("5. Optimizer step  (%s, optim/%s.cpp; the update is one fused pass per parameter: optim/fused.h)\n",
              optimizer.name(), o.optimizer.rfind("adabayes", 0) == 0 ? "adabayes" : o.optimizer.c_str());
  std::printf("  group 0: lr %g, %zu parameters\n", optimizer.lr(0), named.size());
  std::printf("  %-34s %-16s %10s %10s %10s %10s\n", "parameter", "shape", "|w|", "|grad|", "|step|", "|step|/|w|");
  for (std::size_t i = 0; i < named.size(); ++i) {
    const Tensor& p = named[i].second;
    const double weight_norm = stats_of(before[i]).norm;
    const double grad_norm = p.grad().defined() ? stats_of(p.grad()).norm : 0.0;
    const double step_norm = stats_of(p.detach() - before[i]).norm;
    std::printf("  %-34s %-16s %10.3e %10.3e %10.3e %10.3e\n", named[i].first.c_str(), to_string(p.shape()).c_str(),
                weight_norm, grad_norm, step_norm, weight_norm > 0 ? step_norm / weight_norm : 0.0);
  }
  if (const auto* adabayes = dynamic_cast<const optim::AdaBayes*>(&optimizer)) {
    std::printf("\n");
    explain_adabayes(*adabayes);
  }
}

void run_step(const StepOptions& o) {
  manual_seed(o.seed);
  const data::DatasetInfo& info = data::dataset_info(o.dataset);
  const FirstBatch first = first_batch(o, info);
  nn::ModulePtr model = train::make_model_for(o.model, info);
  std::unique_ptr<optim::Optimizer> optimizer = make_step_optimizer(o, *model);
  const nn::NamedTensors named = model->named_parameters();

  if (o.explain) explain_batch(o, info, first);
  const Tensor logits = traced_forward(o, *model, first.batch.images);
  const Tensor loss = cross_entropy(logits, first.batch.labels);
  if (o.explain) explain_loss(logits, loss, info);
  const int node_count = traced_backward(o, loss);
  std::vector<Tensor> before;
  for (const auto& [_, p] : named) before.push_back(p.detach().clone());
  optimizer->step();
  if (!o.explain) {
    std::printf("fluxion step: %s on a batch of %lld %s images, %s: loss %.4f\n", o.model.c_str(),
                static_cast<long long>(o.batch_size), o.dataset.c_str(), optimizer->name(), loss.item());
    return;
  }
  explain_update(o, *optimizer, named, before, node_count);
}

}  // namespace

void add_step_command(CLI::App& app) {
  auto opt = std::make_shared<StepOptions>();
  CLI::App* cmd =
      app.add_subcommand("step", "Run one training step on one batch; --explain says what happens, and where");
  cmd->add_option("--model", opt->model, "The model, by name")->required()->check(CLI::IsMember(nn::model_names()));
  cmd->add_option("--dataset", opt->dataset, "The dataset the batch comes from")
      ->capture_default_str()
      ->check(CLI::IsMember(data::dataset_names()));
  cmd->add_option("--data-dir", opt->data_dir, "Where its files are (default: the dataset's usual folder)");
  cmd->add_option("--batch-size", opt->batch_size, "Images in the batch")
      ->capture_default_str()
      ->check(whole_number_in(1, std::int64_t{1} << 16));
  cmd->add_option("--optimizer", opt->optimizer, "The optimizer, by name (as fluxion train takes)")
      ->capture_default_str()
      ->check(CLI::IsMember(optim::optimizer_names()));
  cmd->add_option("--lr", opt->lr, "Learning rate (default: the optimizer's)")->check(positive_number);
  cmd->add_flag("--explain", opt->explain, "Say what each stage does, with statistics and the file that does it");
  cmd->add_option("--depth", opt->depth, "With --explain, show modules down to this depth (-1: all)")
      ->capture_default_str()
      ->check(whole_number_in(-1, 100));
  cmd->add_option("--seed", opt->seed, "Seed for the initial weights and the batch order")->capture_default_str();
  cmd->callback([opt] { run_step(*opt); });
}

}  // namespace fluxion::apps
