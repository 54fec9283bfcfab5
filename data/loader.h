//! @file
//! Batches for training and evaluation: shuffling, the paper's CIFAR
//! augmentation (random 32x32 crop of the image zero-padded by 4, random
//! horizontal flip), per-channel normalisation, and NCHW float32 tensors made
//! on background threads ahead of the consumer. Images a dataset keeps in
//! their files (an image folder's beyond its cache, data/image_folder.h) are
//! decoded by the worker that makes their batch.
//!
//! Everything random is a function of (seed, epoch, batch index) alone, so the
//! batches are the same whatever the number of worker threads, and a resumed
//! run that starts an epoch at batch b gets exactly the batches an
//! uninterrupted run got from b on.
//!
//!   DataLoader loader(train_set, LoaderOptions().batch_size(128).augment(true).mean(m).std(s).seed(1));
//!   loader.start_epoch(epoch);
//!   while (auto batch = loader.next()) { ... batch->images, batch->labels ... }
#pragma once

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "core/options.h"
#include "core/tensor.h"
#include "data/dataset.h"

namespace fluxion::data {

struct LoaderOptions {
  FLUXION_ARG(std::int64_t, batch_size, 128);
  FLUXION_ARG(bool, shuffle, true);        ///< a fresh permutation every epoch
  FLUXION_ARG(bool, augment, false);       ///< random crop (padding 4) and horizontal flip
  FLUXION_ARG(bool, drop_last, false);     ///< drop a last batch smaller than batch_size
  FLUXION_ARG(std::vector<float>, mean, {});  ///< per channel, applied to pixel / 255; empty: 0
  FLUXION_ARG(std::vector<float>, std, {});   ///< per channel; empty: 1
  FLUXION_ARG(std::uint64_t, seed, 0);
  FLUXION_ARG(int, workers, 2);            ///< background threads making batches
  FLUXION_ARG(int, prefetch, 4);           ///< batches made ahead of the consumer
  /// Data-parallel training (dist/distributed.h), as PyTorch's
  /// DistributedSampler: each step's global batch is batch_size x
  /// num_replicas images of the one shuffled order every rank computes, and
  /// rank r takes its r-th share (equal shares, so a last global batch of G
  /// images gives each rank G / num_replicas, rounded). The images and their
  /// augmentation are those a single loader with the global batch size makes.
  FLUXION_ARG(int, num_replicas, 1);
  FLUXION_ARG(int, rank, 0);
};

struct Batch {
  Tensor images;       ///< [B, C, H, W] float32, normalised
  Tensor labels;       ///< [B] int64
  std::int64_t index;  ///< position in the epoch, from 0
  std::int64_t global_size = 0;  ///< images in this step over all replicas (num_replicas 1: labels.size(0))
};

class DataLoader {
 public:
  DataLoader(std::shared_ptr<const Dataset> dataset, LoaderOptions options);
  ~DataLoader();
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  std::int64_t batches_per_epoch() const;
  const Dataset& dataset() const { return *dataset_; }
  const LoaderOptions& options() const { return options_; }

  /// Begins epoch `epoch` (any integer; it seeds the shuffle and augmentation)
  /// at batch `first_batch`, abandoning any epoch in progress.
  void start_epoch(std::int64_t epoch, std::int64_t first_batch = 0);
  /// The next batch of the epoch, or nothing at its end. Rethrows an error
  /// a worker met.
  std::optional<Batch> next();

 private:
  void stop_workers();
  void worker_loop();
  std::vector<std::int64_t> epoch_order(std::int64_t epoch) const;
  Batch make_batch(std::int64_t index) const;

  std::shared_ptr<const Dataset> dataset_;
  LoaderOptions options_;

  /// The epoch in progress, shared with the workers under mutex_.
  std::mutex mutex_;
  std::condition_variable produced_, consumed_;
  std::vector<std::thread> workers_;
  std::vector<std::int64_t> order_;
  std::int64_t epoch_ = 0, next_to_make_ = 0, next_to_take_ = 0, end_ = 0;
  std::map<std::int64_t, Batch> ready_;
  std::exception_ptr error_;
  bool stopping_ = false;
  bool started_ = false;
};

}  // namespace fluxion::data
