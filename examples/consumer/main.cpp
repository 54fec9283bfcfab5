// Using Fluxion from your own program: a custom model and a custom loss,
// trained with AdaBayes on Fashion-MNIST (Debian's dataset-fashion-mnist,
// the dataset the README's main job uses), evaluated, then saved and loaded
// back. Built against an installed Fluxion by examples/consumer/CMakeLists.txt;
// docs/tutorial.md walks through it (its code blocks are the regions marked
// "snippet" below, checked by tests/check_snippets.sh).
//
//   ./consumer [checkpoint path] [training images, default 12000]
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>

// [snippet:include]
#include <fluxion/fluxion.h>  // everything; or pick headers, e.g. <fluxion/core/tensor.h>

using namespace fluxion;
// [end snippet]

// [snippet:module]
// A model is an nn::Module: register the layers it owns (their parameters
// then appear in parameters() and in checkpoints under these names) and
// write forward() with ops; autograd records them for backward().
class Classifier : public nn::Module {
 public:
  Classifier(std::int64_t pixels, std::int64_t hidden, std::int64_t classes) {
    fc1 = register_module("fc1", std::make_shared<nn::Linear>(pixels, hidden));
    fc2 = register_module("fc2", std::make_shared<nn::Linear>(hidden, classes));
  }
  // images [N, 1, 28, 28] -> logits [N, classes]
  Tensor forward(const Tensor& images) override {
    return fc2->forward(relu(fc1->forward(images.flatten(1))));
  }
  std::string type_name() const override { return "Classifier"; }

  std::shared_ptr<nn::Linear> fc1, fc2;
};
// [end snippet]

// [snippet:loss]
// A loss the library does not have, written with differentiable ops: the
// focal loss (Lin et al. 2017), cross-entropy with each example weighted by
// (1 - p)^gamma, p being the probability given to its true class, so that
// examples already classified well count less. Autograd derives its gradient.
Tensor focal_loss(const Tensor& logits, const Tensor& labels, double gamma = 2.0) {
  // log p of each example's true class: [N, classes] -> [N, 1]
  Tensor log_p = gather(log_softmax(logits, 1), 1, labels.unsqueeze(1));
  return mean(-pow(1.0 - exp(log_p), gamma) * log_p);
}
// [end snippet]

int main(int argc, char** argv) {
  const std::string path = argc > 1 ? argv[1]
                                    : (std::filesystem::temp_directory_path() / "fluxion_consumer.safetensors").string();
  const std::int64_t images = argc > 2 ? std::stoll(argv[2]) : 12000;
  // [snippet:autograd]
  // Tensors are strided views of shared storage; ops on them record a graph
  // when an input requires a gradient, and backward() walks it.
  manual_seed(1);  // the default generator: random tensors, the layers' initial weights
  Tensor w = tensor({2.0, -1.0, 0.5}, TensorOptions().requires_grad(true));
  Tensor x = randn({4, 3});
  Tensor y = sum(pow(matmul(x, w), 2.0));  // y = |x w|^2
  y.backward();                            // w.grad() = dy/dw = 2 x^T x w
  std::cout << "y = " << y.item() << ", dy/dw = " << w.grad() << "\n";
  // [end snippet]

  // [snippet:data]
  // The training split (its first `images` images) and the test split, read
  // from Debian's package folder; the loader normalises, shuffles every epoch
  // (seeded) and makes batches on background threads.
  const data::DatasetInfo& info = data::dataset_info("fashion-mnist");
  auto train_set = std::make_shared<data::Dataset>(data::load_dataset("fashion-mnist", "", true));
  train_set->keep_first(images);
  auto test_set = std::make_shared<const data::Dataset>(data::load_dataset("fashion-mnist", "", false));
  const auto loader_options = data::LoaderOptions().batch_size(128).mean(info.mean).std(info.std);
  data::DataLoader train_loader(train_set, data::LoaderOptions(loader_options).shuffle(true).seed(1));
  data::DataLoader test_loader(test_set, data::LoaderOptions(loader_options).shuffle(false));
  // [end snippet]

  // [snippet:optimizer]
  Classifier model(28 * 28, 128, info.num_classes);
  // AdaBayes with the paper's settings: lr is Adam's learning rate (the
  // high-information limit), sgd_lr SGD's (the low-information limit), and
  // batch_size the number of examples the (mean) loss averages over.
  const auto options = optim::AdaBayesOptions(1e-3).sgd_lr(0.1).batch_size(128);
  optim::AdaBayes optimizer(model.parameters(), options);
  // [end snippet]

  // [snippet:train]
  double first_loss = 0, loss_sum = 0;
  std::int64_t steps = 0;
  for (std::int64_t epoch = 0; epoch < 2; ++epoch) {
    model.train();
    train_loader.start_epoch(epoch);
    while (auto batch = train_loader.next()) {
      Tensor loss = focal_loss(model(batch->images), batch->labels);
      optimizer.zero_grad();
      loss.backward();
      optimizer.step();
      if (++steps == 1) first_loss = loss.item();
      loss_sum += loss.item();
    }
    const train::EvalResult test = train::evaluate(model, test_loader, info.num_classes);
    std::printf("epoch %lld: mean focal loss %.4f | test error %.2f%%\n", static_cast<long long>(epoch + 1),
                loss_sum / static_cast<double>(train_loader.batches_per_epoch()), 100 * test.error);
    loss_sum = 0;
  }
  // [end snippet]

  // [snippet:checkpoint]
  // Save the model and the optimizer's state, then load them into a new
  // model (other initial weights) and optimizer, as a resumed run would. The
  // metadata records where a run stands; here only the random generator's
  // state, which load_checkpoint requires.
  train::CheckpointInfo saved;
  saved.generator_state = default_generator().state();
  train::save_checkpoint(path, model, optimizer, saved);  // atomic: a crash leaves the old file or the new
  Classifier restored(28 * 28, 128, info.num_classes);
  optim::AdaBayes restored_optimizer(restored.parameters(), options);
  train::load_checkpoint(path, restored, restored_optimizer);
  // [end snippet]
  std::filesystem::remove(path);

  NoGradGuard no_grad;  // no graph needed from here on
  model.eval(), restored.eval();
  test_loader.start_epoch(0);
  const Tensor first_batch = test_loader.next()->images;
  const double difference = max(abs(model(first_batch) - restored(first_batch))).item();
  const train::EvalResult test = train::evaluate(restored, test_loader, info.num_classes);
  std::printf("restored model: test error %.2f%%; outputs differ from the trained model's by at most %g\n",
              100 * test.error, difference);

  if (!(test.error < 0.25)) {
    std::fprintf(stderr, "consumer: test error %.2f%%, expected under 25%% (first loss %.4f)\n", 100 * test.error,
                 first_loss);
    return 1;
  }
  if (difference != 0) {
    std::fprintf(stderr, "consumer: the model loaded from %s gives different outputs\n", path.c_str());
    return 1;
  }
  return 0;
}
