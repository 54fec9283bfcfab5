// `fluxion bench loader`: how many images a second the data loader delivers
// (shuffle, the paper's crop-and-flip augmentation, normalisation, NCHW
// float32 batches, on its background threads), with nothing consuming them.
// By default on 50,000 random CIFAR-shaped images, so it runs without the
// CIFAR files; --dataset reads a real one. Compare the figure with
// `fluxion bench --model resnet18` (the loader must stay far ahead).
#include <chrono>
#include <cstdio>
#include <memory>
#include <tuple>

#include "apps/commands.h"
#include "apps/flag_checks.h"
#include "core/random.h"
#include "data/datasets.h"
#include "data/image_folder.h"
#include "data/loader.h"

namespace fluxion::apps {
namespace {

struct BenchLoaderOptions {
  std::string dataset, data_dir, image_size;
  std::int64_t image_cache_mb = 0;
  std::int64_t batch_size = 128;
  int workers = 2;
  std::int64_t batches = 200;
  std::string augment = "on";
};

std::shared_ptr<data::Dataset> random_cifar_shaped(std::int64_t n) {
  auto d = std::make_shared<data::Dataset>();
  d->name = "random CIFAR-shaped";
  d->channels = 3, d->height = 32, d->width = 32, d->num_classes = 10;
  Generator gen(0);
  d->pixels.resize(static_cast<std::size_t>(n * d->image_bytes()));
  for (auto& p : d->pixels) p = static_cast<std::uint8_t>(gen.next_u64() & 0xff);
  for (std::int64_t i = 0; i < n; ++i) d->labels.push_back(i % 10);
  return d;
}

void run(const BenchLoaderOptions& o) {
  std::shared_ptr<data::Dataset> dataset;
  std::vector<float> mean, std;
  if (o.dataset.empty()) {
    dataset = random_cifar_shaped(50000);
    mean = data::dataset_info("cifar10").mean;
    std = data::dataset_info("cifar10").std;
  } else if (data::dataset_info(o.dataset).from_folder) {
    // An image folder's training split, decoded by the workers beyond the
    // cache (none by default: the figure is then the decoding's).
    FLUXION_CHECK_INPUT(!o.data_dir.empty(), "--dataset ", o.dataset, " needs --data-dir DIR");
    data::ImageFolderOptions folder;
    folder.cache_bytes = static_cast<std::uint64_t>(o.image_cache_mb) << 20;
    if (!o.image_size.empty()) {
      folder.resize = true;
      std::tie(folder.height, folder.width) = data::parse_image_size(o.image_size, "--image-size");
    }
    const data::ImageFolderSplit split = data::read_image_folder(o.data_dir, true, folder);
    dataset = split.dataset;
    mean = split.mean;
    std = split.std;
  } else {
    dataset = std::make_shared<data::Dataset>(data::load_dataset(o.dataset, o.data_dir, true));
    mean = data::dataset_info(o.dataset).mean;
    std = data::dataset_info(o.dataset).std;
  }
  data::DataLoader loader(dataset, data::LoaderOptions()
                                       .batch_size(o.batch_size)
                                       .augment(o.augment == "on")
                                       .mean(mean)
                                       .std(std)
                                       .workers(o.workers));
  std::printf("fluxion bench loader: %s (%lld images of %lldx%lldx%lld), batch %lld, %d workers, augmentation %s\n",
              dataset->name.c_str(), static_cast<long long>(dataset->size()),
              static_cast<long long>(dataset->channels), static_cast<long long>(dataset->height),
              static_cast<long long>(dataset->width), static_cast<long long>(o.batch_size), o.workers,
              o.augment.c_str());
  // Whole epochs until `batches` batches have come out; the first epoch's
  // start (threads starting, first batches) is timed too.
  std::int64_t images = 0, taken = 0, decoded = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (std::int64_t epoch = 0; taken < o.batches; ++epoch) {
    loader.start_epoch(epoch);
    while (taken < o.batches) {
      auto batch = loader.next();
      if (!batch) break;
      images += batch->labels.size(0);
      // Those beyond the cache are decoded from their files: in a shuffled
      // epoch, that share of each batch on average (all with no cache).
      decoded += dataset->source ? batch->labels.size(0) * (dataset->size() - dataset->cached_images()) / dataset->size()
                                 : 0;
      ++taken;
    }
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%lld batches in %.2f s\n", static_cast<long long>(taken), seconds);
  std::printf("loader batch %lld workers %d: %.0f img/s\n", static_cast<long long>(o.batch_size), o.workers,
              static_cast<double>(images) / seconds);
  if (dataset->source)
    std::printf("decoded %lld images from their files: %.0f decoded images/s per worker (%d workers)\n",
                static_cast<long long>(decoded), static_cast<double>(decoded) / seconds / o.workers, o.workers);
}

}  // namespace

void add_bench_loader_command(CLI::App* bench) {
  auto o = std::make_shared<BenchLoaderOptions>();
  CLI::App* cmd = bench->add_subcommand("loader", "Images per second the data loader delivers");
  cmd->add_option("--dataset", o->dataset, "A dataset to read (default: random CIFAR-shaped images in memory)")
      ->check(CLI::IsMember(data::dataset_names()));
  cmd->add_option("--data-dir", o->data_dir, "Its folder");
  cmd->add_option("--image-size", o->image_size, "imagefolder: resize to N or HxW");
  cmd->add_option("--image-cache-mb", o->image_cache_mb, "imagefolder: MiB of decoded images kept in memory")
      ->check(whole_number_in(0, std::int64_t{1} << 24))
      ->capture_default_str();
  cmd->add_option("--batch-size", o->batch_size, "Images per batch")->check(whole_number_in(1, 65536))->capture_default_str();
  cmd->add_option("--workers", o->workers, "Loader threads")->check(whole_number_in(1, 64))->capture_default_str();
  cmd->add_option("--batches", o->batches, "Batches to time")->check(whole_number_in(1, 1000000))->capture_default_str();
  cmd->add_option("--augment", o->augment, "Crop and flip: on, off")
      ->check(CLI::IsMember({"on", "off"}))
      ->capture_default_str();
  cmd->callback([o] { run(*o); });
}

}  // namespace fluxion::apps
