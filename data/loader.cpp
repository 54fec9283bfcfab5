#include "data/loader.h"

#include <algorithm>
#include <array>

#include "core/factory.h"
#include "core/random.h"

namespace fluxion::data {
namespace {

// SplitMix64's finaliser: spreads (seed, epoch, index) into independent seeds.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}
std::uint64_t stream_seed(std::uint64_t seed, std::int64_t epoch, std::int64_t index) {
  return mix(mix(mix(seed) ^ static_cast<std::uint64_t>(epoch)) ^ static_cast<std::uint64_t>(index));
}
constexpr std::int64_t kShuffleStream = -1;  // the index that seeds an epoch's permutation
constexpr std::int64_t kPad = 4;             // the paper's crop padding

}  // namespace

DataLoader::DataLoader(std::shared_ptr<const Dataset> dataset, LoaderOptions options)
    : dataset_(std::move(dataset)), options_(std::move(options)) {
  FLUXION_CHECK(dataset_ != nullptr, "DataLoader: no dataset");
  FLUXION_CHECK_INPUT(dataset_->size() > 0, "DataLoader: the dataset '", dataset_->name, "' has no images");
  FLUXION_CHECK(options_.batch_size() >= 1, "DataLoader: batch_size must be >= 1, got ", options_.batch_size());
  FLUXION_CHECK(options_.num_replicas() >= 1 && options_.rank() >= 0 && options_.rank() < options_.num_replicas(),
                "DataLoader: rank ", options_.rank(), " of num_replicas ", options_.num_replicas(),
                ": expected 0 <= rank < num_replicas");
  FLUXION_CHECK(options_.workers() >= 1 && options_.prefetch() >= 1,
                "DataLoader: workers and prefetch must be >= 1, got ", options_.workers(), " and ",
                options_.prefetch());
  const auto c = static_cast<std::size_t>(dataset_->channels);
  FLUXION_CHECK(options_.mean().empty() || options_.mean().size() == c, "DataLoader: ", c,
                " channel means expected, got ", options_.mean().size());
  FLUXION_CHECK(options_.std().empty() || options_.std().size() == c, "DataLoader: ", c,
                " channel standard deviations expected, got ", options_.std().size());
  for (float s : options_.std()) FLUXION_CHECK(s > 0.0f, "DataLoader: standard deviations must be > 0, got ", s);
  FLUXION_CHECK(!options_.drop_last() || dataset_->size() >= options_.batch_size(), "DataLoader: drop_last with ",
                dataset_->size(), " images and batch_size ", options_.batch_size(), " leaves no batch");
}

DataLoader::~DataLoader() { stop_workers(); }

std::int64_t DataLoader::batches_per_epoch() const {
  const std::int64_t n = dataset_->size(), b = options_.batch_size() * options_.num_replicas();
  return options_.drop_last() ? n / b : (n + b - 1) / b;
}

std::vector<std::int64_t> DataLoader::epoch_order(std::int64_t epoch) const {
  std::vector<std::int64_t> order(static_cast<std::size_t>(dataset_->size()));
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<std::int64_t>(i);
  if (!options_.shuffle()) return order;
  // Fisher-Yates with Fluxion's own generator: the same order on every platform.
  Generator gen(stream_seed(options_.seed(), epoch, kShuffleStream));
  for (std::size_t i = order.size(); i > 1; --i) {
    const auto j = static_cast<std::size_t>(gen.uniform() * static_cast<double>(i));
    std::swap(order[i - 1], order[std::min(j, i - 1)]);
  }
  return order;
}

Batch DataLoader::make_batch(std::int64_t index) const {
  const Dataset& d = *dataset_;
  // This rank's share of the global batch `index`.
  const std::int64_t replicas = options_.num_replicas(), rank = options_.rank();
  const std::int64_t global_begin = index * options_.batch_size() * replicas;
  const std::int64_t global_size = std::min(options_.batch_size() * replicas, d.size() - global_begin);
  const std::int64_t begin = global_begin + rank * global_size / replicas;
  const std::int64_t count = global_begin + (rank + 1) * global_size / replicas - begin;
  const std::int64_t c = d.channels, h = d.height, w = d.width, plane = h * w;
  Batch batch{empty({count, c, h, w}, kFloat32), empty({count}, kInt64), index, global_size};
  float* out = batch.images.data<float>();
  std::int64_t* labels = batch.labels.data<std::int64_t>();

  // Normalisation as a table per channel: value = (pixel / 255 - mean) / std.
  std::vector<std::array<float, 256>> table(static_cast<std::size_t>(c));
  for (std::int64_t ch = 0; ch < c; ++ch) {
    const float m = options_.mean().empty() ? 0.0f : options_.mean()[ch];
    const float s = options_.std().empty() ? 1.0f : options_.std()[ch];
    for (int v = 0; v < 256; ++v) table[ch][v] = (static_cast<float>(v) / 255.0f - m) / s;
  }

  std::vector<std::uint8_t> scratch;  // an image decoded from its file (an image folder beyond its cache)
  Generator gen(stream_seed(options_.seed(), epoch_, index));
  // The draws a single loader would have made for the images before ours
  // (three per image), so each image gets the same crop and flip.
  if (options_.augment())
    for (std::int64_t i = 0; i < 3 * (begin - global_begin); ++i) gen.uniform();
  for (std::int64_t i = 0; i < count; ++i) {
    const std::int64_t source = order_[static_cast<std::size_t>(begin + i)];
    labels[i] = d.labels[static_cast<std::size_t>(source)];
    const std::uint8_t* img = d.image(source, scratch);
    float* dst = out + i * c * plane;
    if (!options_.augment()) {
      for (std::int64_t ch = 0; ch < c; ++ch)
        for (std::int64_t p = 0; p < plane; ++p) dst[ch * plane + p] = table[ch][img[ch * plane + p]];
      continue;
    }
    // Random crop of the image padded by kPad with zeros (torchvision's
    // RandomCrop(32, padding=4)), then a flip with probability 1/2.
    const auto dy = static_cast<std::int64_t>(gen.uniform() * (2 * kPad + 1)) - kPad;
    const auto dx = static_cast<std::int64_t>(gen.uniform() * (2 * kPad + 1)) - kPad;
    const bool flip = gen.uniform() < 0.5;
    for (std::int64_t ch = 0; ch < c; ++ch) {
      const float zero = table[ch][0];  // a padded pixel: 0 before normalising
      for (std::int64_t y = 0; y < h; ++y) {
        const std::int64_t sy = y + dy;
        float* row = dst + ch * plane + y * w;
        for (std::int64_t x = 0; x < w; ++x) {
          const std::int64_t sx = (flip ? w - 1 - x : x) + dx;
          row[x] = sy >= 0 && sy < h && sx >= 0 && sx < w ? table[ch][img[ch * plane + sy * w + sx]] : zero;
        }
      }
    }
  }
  return batch;
}

void DataLoader::start_epoch(std::int64_t epoch, std::int64_t first_batch) {
  FLUXION_CHECK(first_batch >= 0 && first_batch <= batches_per_epoch(), "DataLoader: first batch ", first_batch,
                " is outside the epoch's ", batches_per_epoch(), " batches");
  stop_workers();
  epoch_ = epoch;
  order_ = epoch_order(epoch);
  next_to_make_ = next_to_take_ = first_batch;
  end_ = batches_per_epoch();
  ready_.clear();
  error_ = nullptr;
  stopping_ = false;
  started_ = true;
  const int workers = static_cast<int>(std::min<std::int64_t>(options_.workers(), std::max<std::int64_t>(end_ - first_batch, 1)));
  for (int i = 0; i < workers; ++i) workers_.emplace_back([this] { worker_loop(); });
}

void DataLoader::worker_loop() {
  for (;;) {
    std::int64_t index;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      // Work on the next batch once it is within `prefetch` of the consumer.
      consumed_.wait(lock, [&] {
        return stopping_ || next_to_make_ >= end_ || next_to_make_ < next_to_take_ + options_.prefetch();
      });
      if (stopping_ || next_to_make_ >= end_) return;
      index = next_to_make_++;
    }
    try {
      Batch batch = make_batch(index);
      std::lock_guard<std::mutex> lock(mutex_);
      ready_.emplace(index, std::move(batch));
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!error_) error_ = std::current_exception();
    }
    produced_.notify_all();
  }
}

std::optional<Batch> DataLoader::next() {
  std::unique_lock<std::mutex> lock(mutex_);
  FLUXION_CHECK(started_, "DataLoader: call start_epoch() before next()");
  if (next_to_take_ >= end_) return std::nullopt;
  produced_.wait(lock, [&] { return error_ || ready_.count(next_to_take_) > 0; });
  if (error_) std::rethrow_exception(error_);
  auto it = ready_.find(next_to_take_);
  Batch batch = std::move(it->second);
  ready_.erase(it);
  ++next_to_take_;
  lock.unlock();
  consumed_.notify_all();
  return batch;
}

void DataLoader::stop_workers() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  consumed_.notify_all();
  for (auto& t : workers_) t.join();
  workers_.clear();
}

}  // namespace fluxion::data
