// Using Fluxion from your own program: a custom model, a custom loss, the
// AdaBayes optimizer, and a checkpoint saved and loaded back. Built against an
// installed Fluxion by examples/consumer/CMakeLists.txt.
//
//   ./consumer [checkpoint path]
#include <cstdio>
#include <filesystem>
#include <string>

#include <fluxion/fluxion.h>  // everything; or pick headers, e.g. <fluxion/core/tensor.h>

using namespace fluxion;

// A model is an nn::Module: register the layers it owns (their parameters
// then appear in parameters() and in checkpoints under these names) and
// write forward().
class SpiralNet : public nn::Module {
 public:
  explicit SpiralNet(std::int64_t hidden) {
    fc1 = register_module("fc1", std::make_shared<nn::Linear>(2, hidden));
    fc2 = register_module("fc2", std::make_shared<nn::Linear>(hidden, hidden));
    out = register_module("out", std::make_shared<nn::Linear>(hidden, 2));
  }
  // points [N, 2] -> logits [N, 2]
  Tensor forward(const Tensor& x) override { return out->forward(tanh(fc2->forward(tanh(fc1->forward(x))))); }
  std::string type_name() const override { return "SpiralNet"; }

  std::shared_ptr<nn::Linear> fc1, fc2, out;
};

// A loss the library does not have, written with differentiable ops: the
// focal loss (Lin et al. 2017), cross-entropy with each example weighted by
// (1 - p)^gamma, p being the probability given to its true class, so that
// examples already classified well count less. Autograd derives its gradient.
Tensor focal_loss(const Tensor& logits, const Tensor& labels, double gamma = 2.0) {
  // log p of each example's true class: [N, 2] -> [N, 1]
  Tensor log_p = gather(log_softmax(logits, 1), 1, labels.unsqueeze(1));
  return mean(-pow(1.0 - exp(log_p), gamma) * log_p);
}

int main(int argc, char** argv) {
  const std::string path = argc > 1 ? argv[1]
                                    : (std::filesystem::temp_directory_path() / "fluxion_consumer.safetensors").string();
  manual_seed(1);  // the layers' initial weights come from the default generator
  Generator gen(1);
  const data::Spirals data = data::make_spirals(200, gen);  // 400 points, two classes
  const std::int64_t batch = data.labels.numel();          // full-batch training

  SpiralNet model(64);
  // AdaBayes filters the gradient of the loss summed over the batch: tell it
  // how many examples the (mean) loss averages. While gradients are small it
  // acts as SGD with lr sgd_lr, once they are large as Adam with lr lr; the
  // spirals start on a plateau of small gradients, which a large sgd_lr leaves.
  const optim::AdaBayesOptions options =
      optim::AdaBayesOptions(0.01).sgd_lr(10.0).batch_size(static_cast<double>(batch));
  optim::AdaBayes optimizer(model.parameters(), options);

  double first_loss = 0, last_loss = 0;
  for (int step = 1; step <= 400; ++step) {
    Tensor loss = focal_loss(model(data.points), data.labels);
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
    last_loss = loss.item();
    if (step == 1) first_loss = last_loss;
    if (step == 1 || step % 50 == 0) std::printf("step %3d  focal loss %.4f\n", step, last_loss);
  }

  // Save the model and the optimizer's state; then load them into a new
  // model (different initial weights) and a new optimizer, as a resumed run would.
  // (The metadata records where a resumed run stands; here only the random
  // generator's state, which load_checkpoint requires.)
  train::CheckpointInfo info;
  info.generator_state = default_generator().state();
  train::save_checkpoint(path, model, optimizer, info);
  SpiralNet restored(64);
  optim::AdaBayes restored_optimizer(restored.parameters(), options);
  train::load_checkpoint(path, restored, restored_optimizer);
  std::filesystem::remove(path);

  NoGradGuard no_grad;  // no graph needed from here on
  const double difference = max(abs(model(data.points) - restored(data.points))).item();
  const double accuracy = mean(eq(argmax(model(data.points), 1), data.labels).to(kFloat32)).item();
  std::printf("accuracy %.1f%%; restored model's outputs differ by at most %g\n", 100 * accuracy, difference);

  if (!(last_loss < 0.5 * first_loss)) {
    std::fprintf(stderr, "consumer: the loss did not fall enough (%.4f -> %.4f)\n", first_loss, last_loss);
    return 1;
  }
  if (difference != 0) {
    std::fprintf(stderr, "consumer: the model loaded from %s gives different outputs\n", path.c_str());
    return 1;
  }
  return 0;
}
