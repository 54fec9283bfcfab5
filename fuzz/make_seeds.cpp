// Writes the seed corpus of every fuzz target into fuzz/corpus/TARGET/
// (committed; rerun after a format change):
//   build/release/fuzz/fuzz_make_seeds fuzz/corpus
// Each seed is a small valid file, or a near miss, in the format the target
// reads, so the fuzzer starts inside the format instead of guessing magic
// numbers.
#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "autograd/ops.h"
#include "core/factory.h"
#include "core/random.h"
#include "core/safetensors.h"
#include "fuzz/seed_model.h"
#include "train/checkpoint.h"
#include "train/config.h"
#include "tests/image_writers.h"

namespace fs = std::filesystem;
using namespace fluxion;
using Bytes = std::vector<std::uint8_t>;

namespace {

void write(const fs::path& path, const Bytes& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                               static_cast<std::streamsize>(bytes.size()));
}

Bytes read(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

Bytes text(const std::string& s) { return Bytes(s.begin(), s.end()); }

void be32(Bytes& b, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) b.push_back(static_cast<std::uint8_t>(v >> shift));
}

Bytes gzip(const Bytes& plain, const fs::path& scratch) {
  gzFile f = gzopen(scratch.c_str(), "wb");
  gzwrite(f, plain.data(), static_cast<unsigned>(plain.size()));
  gzclose(f);
  return read(scratch);
}

// fuzz_idx's input: a 4-byte little-endian length, the images file, the labels file.
Bytes idx_pair(const Bytes& images, const Bytes& labels) {
  Bytes out;
  for (int shift = 0; shift < 32; shift += 8) out.push_back(static_cast<std::uint8_t>(images.size() >> shift));
  out.insert(out.end(), images.begin(), images.end());
  out.insert(out.end(), labels.begin(), labels.end());
  return out;
}

void idx_seeds(const fs::path& dir) {
  Bytes images, labels;
  be32(images, 0x803), be32(images, 3), be32(images, 4), be32(images, 5);
  for (int i = 0; i < 3 * 4 * 5; ++i) images.push_back(static_cast<std::uint8_t>(i * 7));
  be32(labels, 0x801), be32(labels, 3);
  labels.insert(labels.end(), {0, 9, 4});
  write(dir / "valid", idx_pair(images, labels));
  write(dir / "valid-gzip", idx_pair(gzip(images, dir / "tmp.gz"), gzip(labels, dir / "tmp.gz")));
  fs::remove(dir / "tmp.gz");
  write(dir / "truncated", idx_pair(Bytes(images.begin(), images.end() - 3), labels));
  Bytes wrong_label = labels;
  wrong_label.pop_back();
  wrong_label.push_back(10);
  write(dir / "label-out-of-range", idx_pair(images, wrong_label));
  // A gzip bomb behind a valid header: 3 images declared, 1 MiB inflated.
  Bytes bomb(images.begin(), images.begin() + 16);
  bomb.resize(1 << 20, 0);
  write(dir / "gzip-bomb", idx_pair(gzip(bomb, dir / "tmp.gz"), labels));
  fs::remove(dir / "tmp.gz");
}

void cifar_seeds(const fs::path& dir) {
  Bytes c10, c100;
  Generator gen(1);
  for (int r = 0; r < 2; ++r) {
    c10.push_back(static_cast<std::uint8_t>(r));
    c100.push_back(static_cast<std::uint8_t>(r)), c100.push_back(static_cast<std::uint8_t>(50 + r));
    for (int i = 0; i < 3072; ++i) {
      const auto pixel = static_cast<std::uint8_t>(gen.uniform() * 256);
      c10.push_back(pixel), c100.push_back(pixel);
    }
  }
  write(dir / "cifar10-two-records", c10);
  write(dir / "cifar100-two-records", c100);
  write(dir / "cifar10-truncated", Bytes(c10.begin(), c10.end() - 100));
}

void safetensors_seeds(const fs::path& dir) {
  fs::create_directories(dir);
  manual_seed(0);
  fuzz::SeedModel m;
  const Tensor x = randn({5, 3});
  m.optimizer->zero_grad();
  cross_entropy(m.model->forward(x), tensor({0, 1, 1, 0, 1}).to(kInt64)).backward();
  m.optimizer->step();
  train::CheckpointInfo info;
  info.epochs_done = 1;
  info.best_test_error = 0.25;
  info.config_json = train::to_json(train::TrainConfig()).dump();
  info.generator_state = default_generator().state();
  train::save_checkpoint((dir / "checkpoint").string(), *m.model, *m.optimizer, info);
  train::save_model((dir / "model").string(), *m.model, info.config_json);
  save_safetensors((dir / "dtypes").string(),
                   {{"f32", randn({2, 3})}, {"f64", randn({4}, kFloat64)}, {"i64", tensor({1, 2, 3}).to(kInt64)},
                    {"scalar", randn({})}, {"empty", zeros({0, 2})}},
                   {{"note", "every dtype and shape kind"}});
  // The 16-bit floats Fluxion reads but never writes (1, -2.5, a subnormal,
  // inf, NaN in F16; 1 and -2.5 in BF16), as PyTorch would save them.
  const std::string header =
      R"({"b":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]},"h":{"dtype":"F16","shape":[5],"data_offsets":[4,14]}})";
  Bytes half(8, 0);
  for (int i = 0; i < 8; ++i) half[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(header.size() >> (8 * i));
  half.insert(half.end(), header.begin(), header.end());
  for (std::uint16_t bits : {0x3f80, 0xc020, 0x3c00, 0xc100, 0x0001, 0x7c00, 0x7e00}) {
    half.push_back(static_cast<std::uint8_t>(bits & 0xff));
    half.push_back(static_cast<std::uint8_t>(bits >> 8));
  }
  write(dir / "half", half);
}

void config_seeds(const fs::path& dir) {
  write(dir / "defaults", text(train::to_json(train::TrainConfig()).dump(2)));
  nlohmann::json record = train::to_json(train::TrainConfig());
  record["fluxion_version"] = "0.1.0", record["git_commit"] = "abc", record["blas"] = "openblas";
  record["optimizer_options"] = {{"lr", 1e-3}, {"sgd_lr", 0.1}, {"batch_size", 128}};
  write(dir / "run-record", text(record.dump()));
  write(dir / "flags", text(R"({"model": "resnet20", "dataset": "cifar10", "data_dir": "/data", "optimizer": "adamw",
    "lr": 0.001, "betas": [0.9, 0.999], "epochs": 30, "schedule": "multistep:10,20:0.1", "seed": 7,
    "optimizer_options": {"eps": 1e-8}, "device": "cuda:1", "skip_nonfinite": 2})"));
  write(dir / "bad-schedule", text(R"({"schedule": "step:0:nan", "epochs": -1})"));
  // 20,000 levels: once a stack overflow in the recursive copy of the parsed
  // JSON, now refused as nested too deep (core/json.h).
  write(dir / "deep-nesting", text(R"({"model": )" + std::string(20000, '[') + std::string(20000, ']') + "}"));
}

void metrics_seeds(const fs::path& dir) {
  write(dir / "metrics", text(R"({"epoch": 1, "train_loss": 0.5, "train_error": 0.2, "test_loss": 0.6, "test_error": 0.25, "lr": 0.1, "images_per_s": 900, "seconds": 12}
{"epoch": 2, "train_loss": null, "train_error": 0.1, "test_loss": 0.4, "test_error": 0.15, "lr": 0.1, "images_per_s": 910, "seconds": 11}
{"epoch": 3, "train_loss": 0.2)"));
  write(dir / "curves", text("model,optimizer,lr,epoch,train_acc,test_acc,source\n"
                             "resnet,sgd,0.1,1,50.1,60.2,resnet-sgd-lr0.1-momentum0.9\n"
                             "densenet,adam,0.001,1,55,61.5,densenet-adam-lr0.001-betas0.9-0.999\n"));
}

}  // namespace

// PNGs of every colour type and depth, interlaced, JPEGs grey, colour and
// progressive, each 5x3 (small, so mutations stay fast), and two truncated.
void image_seeds(const fs::path& dir) {
  fs::create_directories(dir);
  const int w = 5, h = 3;
  Bytes grey, rgb, rgba, grey16, index;
  for (int i = 0; i < w * h; ++i) {
    const auto v = static_cast<std::uint8_t>(i * 17);
    grey.push_back(v);
    rgb.insert(rgb.end(), {v, static_cast<std::uint8_t>(255 - v), 90});
    rgba.insert(rgba.end(), {v, 30, static_cast<std::uint8_t>(255 - v), static_cast<std::uint8_t>(i * 9)});
    grey16.insert(grey16.end(), {v, static_cast<std::uint8_t>(i)});
    index.push_back(static_cast<std::uint8_t>(i % 3));
  }
  const std::vector<png_color> palette = {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}};
  test::write_png((dir / "grey.png").string(), w, h, PNG_COLOR_TYPE_GRAY, 8, grey);
  test::write_png((dir / "rgb.png").string(), w, h, PNG_COLOR_TYPE_RGB, 8, rgb);
  test::write_png((dir / "rgba-interlaced.png").string(), w, h, PNG_COLOR_TYPE_RGBA, 8, rgba, {}, true);
  test::write_png((dir / "grey16.png").string(), w, h, PNG_COLOR_TYPE_GRAY, 16, grey16);
  test::write_png((dir / "palette4.png").string(), w, h, PNG_COLOR_TYPE_PALETTE, 4, index, palette);
  test::write_jpeg((dir / "grey.jpg").string(), w, h, 1, grey);
  test::write_jpeg((dir / "rgb.jpg").string(), w, h, 3, rgb);
  test::write_jpeg((dir / "progressive.jpg").string(), w, h, 3, rgb, 90, true);
  for (const char* name : {"rgb.png", "rgb.jpg"}) {
    Bytes bytes = read(dir / name);
    bytes.resize(bytes.size() * 2 / 3);
    write(dir / (std::string("truncated-") + name), bytes);
  }
}

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: " << argv[0] << " CORPUS_DIR   (e.g. fuzz/corpus)\n";
    return 2;
  }
  const fs::path root(argv[1]);
  idx_seeds(root / "idx");
  cifar_seeds(root / "cifar");
  safetensors_seeds(root / "safetensors");
  config_seeds(root / "config");
  metrics_seeds(root / "metrics");
  image_seeds(root / "image");
  std::cout << "wrote the seeds under " << root << "\n";
  return 0;
}
