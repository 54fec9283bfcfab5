// The data loader (data/loader.h): batches, normalisation, the paper's
// augmentation, shuffling, and determinism whatever the worker count.
#include <doctest/doctest.h>

#include <algorithm>
#include <memory>
#include <set>

#include "data/loader.h"
#include "helpers.h"

using namespace fluxion;
using data::DataLoader;
using data::Dataset;
using data::LoaderOptions;

namespace {

// n images of c x h x w whose pixel (image i, channel ch, y, x) is a known
// function of its position, so any output pixel says where it came from.
std::shared_ptr<Dataset> synthetic(std::int64_t n, std::int64_t c = 3, std::int64_t h = 8, std::int64_t w = 8) {
  auto d = std::make_shared<Dataset>();
  d->name = "synthetic";
  d->channels = c, d->height = h, d->width = w, d->num_classes = 10;
  for (std::int64_t i = 0; i < n; ++i) {
    d->labels.push_back(i % 10);
    for (std::int64_t ch = 0; ch < c; ++ch)
      for (std::int64_t y = 0; y < h; ++y)
        for (std::int64_t x = 0; x < w; ++x) d->pixels.push_back(static_cast<std::uint8_t>(1 + (i * 7 + ch * 3 + y * w + x) % 250));
  }
  return d;
}

std::vector<std::vector<float>> epoch_images(DataLoader& loader, std::int64_t epoch, std::int64_t first = 0) {
  std::vector<std::vector<float>> out;
  loader.start_epoch(epoch, first);
  while (auto b = loader.next()) out.push_back(b->images.to_vector<float>());
  return out;
}

}  // namespace

TEST_CASE("loader: batches cover the epoch once, in NCHW float32, with the last one partial") {
  auto d = synthetic(10);
  DataLoader loader(d, LoaderOptions().batch_size(4).shuffle(false));
  CHECK(loader.batches_per_epoch() == 3);
  loader.start_epoch(0);
  std::vector<std::int64_t> labels, sizes;
  while (auto b = loader.next()) {
    CHECK(b->images.dtype() == kFloat32);
    CHECK(b->images.shape() == Shape{b->labels.size(0), 3, 8, 8});
    sizes.push_back(b->labels.size(0));
    for (auto l : b->labels.to_vector<std::int64_t>()) labels.push_back(l);
  }
  CHECK(sizes == std::vector<std::int64_t>{4, 4, 2});
  CHECK(labels == std::vector<std::int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  CHECK_FALSE(loader.next().has_value());  // stays at the end

  DataLoader dropping(d, LoaderOptions().batch_size(4).drop_last(true));
  CHECK(dropping.batches_per_epoch() == 2);
}

TEST_CASE("loader: pixels are normalised per channel as (p / 255 - mean) / std") {
  auto d = synthetic(2, 2, 2, 2);
  DataLoader loader(d, LoaderOptions().batch_size(2).shuffle(false).mean({0.5f, 0.25f}).std({0.5f, 2.0f}));
  loader.start_epoch(0);
  const std::vector<float> v = loader.next()->images.to_vector<float>();
  for (std::size_t k = 0; k < v.size(); ++k) {
    const std::int64_t ch = static_cast<std::int64_t>(k / 4) % 2;
    const float expected = (d->pixels[k] / 255.0f - (ch == 0 ? 0.5f : 0.25f)) / (ch == 0 ? 0.5f : 2.0f);
    CHECK(v[k] == doctest::Approx(expected).epsilon(1e-6));
  }
}

TEST_CASE("loader: shuffling is a permutation that changes with the epoch and is fixed by the seed") {
  auto d = synthetic(50, 1, 2, 2);
  auto order = [&](std::uint64_t seed, std::int64_t epoch) {
    DataLoader loader(d, LoaderOptions().batch_size(7).seed(seed));
    loader.start_epoch(epoch);
    std::vector<float> firsts;  // the first pixel identifies the image
    while (auto b = loader.next())
      for (std::int64_t i = 0; i < b->images.size(0); ++i) firsts.push_back(b->images.select(0, i).to_vector<float>()[0]);
    return firsts;
  };
  const auto a = order(1, 0);
  std::set<float> distinct(a.begin(), a.end());
  CHECK(distinct.size() == 50);   // every image once
  CHECK(a == order(1, 0));        // same seed and epoch: same order
  CHECK(a != order(1, 1));        // another epoch: another order
  CHECK(a != order(2, 0));        // another seed: another order
}

TEST_CASE("loader: augmentation is a zero-padded crop with an optional flip") {
  // One 8x8 single-channel image; with mean 0 and std 1 a padded pixel is 0
  // and pixel p reads p / 255.
  auto d = synthetic(1, 1, 8, 8);
  DataLoader loader(d, LoaderOptions().batch_size(1).augment(true));
  int flips = 0, shifted = 0;
  for (std::int64_t epoch = 0; epoch < 40; ++epoch) {
    loader.start_epoch(epoch);
    const std::vector<float> v = loader.next()->images.to_vector<float>();
    // Find the shift and flip that explain every output pixel.
    bool explained = false;
    for (int flip = 0; flip < 2 && !explained; ++flip)
      for (int dy = -4; dy <= 4 && !explained; ++dy)
        for (int dx = -4; dx <= 4 && !explained; ++dx) {
          bool all = true;
          for (int y = 0; y < 8 && all; ++y)
            for (int x = 0; x < 8 && all; ++x) {
              const int sy = y + dy, sx = (flip ? 7 - x : x) + dx;
              const float expected = sy >= 0 && sy < 8 && sx >= 0 && sx < 8 ? d->pixels[sy * 8 + sx] / 255.0f : 0.0f;
              all = v[y * 8 + x] == expected;
            }
          if (all) {
            explained = true;
            flips += flip;
            shifted += dy != 0 || dx != 0;
          }
        }
    CHECK_MESSAGE(explained, "epoch " << epoch << ": output is not a padded crop of the input");
  }
  CHECK(flips > 5);     // about half of 40
  CHECK(flips < 35);
  CHECK(shifted > 30);  // 80 of 81 offsets move the image
}

TEST_CASE("loader: batches do not depend on the number of workers, and an epoch can start mid-way") {
  auto d = synthetic(37);
  auto opts = LoaderOptions().batch_size(5).augment(true).seed(9).mean({0.1f, 0.2f, 0.3f}).std({0.5f, 0.5f, 0.5f});
  DataLoader one(d, LoaderOptions(opts).workers(1).prefetch(1));
  DataLoader many(d, LoaderOptions(opts).workers(3).prefetch(6));
  const auto a = epoch_images(one, 4);
  CHECK(a.size() == 8);
  CHECK(a == epoch_images(many, 4));
  // Starting epoch 4 at batch 3 gives exactly batches 3.. of the full epoch.
  const auto tail = epoch_images(many, 4, 3);
  CHECK(tail == std::vector<std::vector<float>>(a.begin() + 3, a.end()));
  // Abandoning an epoch part-way and starting another is fine.
  many.start_epoch(5);
  many.next();
  CHECK(epoch_images(many, 4) == a);
}

TEST_CASE("loader: replicas split each global batch into shares that make up a single loader's batch") {
  // 23 images, 3 replicas of batch 3: global batches of 9, 9 and 5 (shares 1/2/2).
  auto d = synthetic(23);
  auto opts = LoaderOptions().batch_size(9).augment(true).seed(4).workers(2);
  DataLoader whole(d, opts);
  std::vector<std::unique_ptr<DataLoader>> replicas;
  for (int r = 0; r < 3; ++r)
    replicas.push_back(std::make_unique<DataLoader>(d, LoaderOptions(opts).batch_size(3).num_replicas(3).rank(r)));
  CHECK(replicas[0]->batches_per_epoch() == whole.batches_per_epoch());
  whole.start_epoch(2);
  for (auto& r : replicas) r->start_epoch(2);
  std::vector<std::int64_t> last_shares;
  while (auto big = whole.next()) {
    std::vector<float> joined;
    std::vector<std::int64_t> labels;
    last_shares.clear();
    for (auto& r : replicas) {
      auto part = r->next();
      REQUIRE(part.has_value());
      CHECK(part->index == big->index);
      CHECK(part->global_size == big->labels.size(0));
      last_shares.push_back(part->labels.size(0));
      for (float v : part->images.to_vector<float>()) joined.push_back(v);
      for (auto l : part->labels.to_vector<std::int64_t>()) labels.push_back(l);
    }
    CHECK(joined == big->images.to_vector<float>());  // same images, same crops and flips
    CHECK(labels == big->labels.to_vector<std::int64_t>());
  }
  CHECK(last_shares == std::vector<std::int64_t>{1, 2, 2});
  for (auto& r : replicas) CHECK_FALSE(r->next().has_value());
  CHECK_THROWS_WITH_AS(DataLoader(d, LoaderOptions().num_replicas(2).rank(2)), doctest::Contains("rank 2"), Error);
}

TEST_CASE("loader: bad options are refused") {
  auto d = synthetic(3);
  CHECK_THROWS_WITH_AS(DataLoader(d, LoaderOptions().batch_size(0)), doctest::Contains("batch_size"), Error);
  CHECK_THROWS_WITH_AS(DataLoader(d, LoaderOptions().mean({0.5f})), doctest::Contains("3 channel means"), Error);
  CHECK_THROWS_WITH_AS(DataLoader(d, LoaderOptions().std({1.0f, 0.0f, 1.0f})), doctest::Contains("> 0"), Error);
  CHECK_THROWS_WITH_AS(DataLoader(std::make_shared<Dataset>(), LoaderOptions()), doctest::Contains("has no images"), InputError);
  DataLoader loader(d, LoaderOptions());
  CHECK_THROWS_WITH_AS(loader.next(), doctest::Contains("start_epoch"), Error);
  CHECK_THROWS_WITH_AS(loader.start_epoch(0, 5), doctest::Contains("outside"), Error);
}
