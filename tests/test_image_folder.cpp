// Image folders: PNG and JPEG decoding of every kind (data/image_decode.h),
// the bilinear resize against values worked out by hand, the folder's scan,
// classes, statistics, cache and errors (data/image_folder.h), and the
// loader's determinism on decoded images. Every image is written here, with
// libpng and libjpeg (tests/image_writers.h).
#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "data/image_decode.h"
#include "data/image_folder.h"
#include "data/loader.h"
#include "helpers.h"
#include "train/config.h"
#include "train/trainer.h"
#include "image_writers.h"

using namespace fluxion;
using namespace fluxion::data;
namespace fs = std::filesystem;

namespace {

std::vector<std::uint8_t> file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

Image decode_path(const std::string& path, bool header_only = false) {
  const std::vector<std::uint8_t> bytes = file_bytes(path);
  return decode_image(bytes.data(), bytes.size(), header_only);
}

void check_mentions(const std::string& message, const std::vector<std::string>& parts) {
  CAPTURE(message);
  for (const auto& part : parts) CHECK(message.find(part) != std::string::npos);
}

// A 3x2 RGB pattern: every sample distinct.
const std::vector<std::uint8_t> kRgb = {10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150, 160, 170, 180};

}  // namespace

TEST_CASE("image decode: PNG grey, RGB, RGBA, grey+alpha, palette, 1/2/4/16-bit and interlaced") {
  test::TempDir dir;
  SUBCASE("8-bit grey and RGB are read as stored") {
    test::write_png(dir.file("g.png"), 3, 2, PNG_COLOR_TYPE_GRAY, 8, {0, 1, 2, 253, 254, 255});
    const Image g = decode_path(dir.file("g.png"));
    CHECK(g.channels == 1);
    CHECK(g.height == 2);
    CHECK(g.width == 3);
    CHECK(g.pixels == std::vector<std::uint8_t>{0, 1, 2, 253, 254, 255});
    test::write_png(dir.file("rgb.png"), 3, 2, PNG_COLOR_TYPE_RGB, 8, kRgb);
    const Image rgb = decode_path(dir.file("rgb.png"));
    CHECK(rgb.channels == 3);
    CHECK(rgb.pixels == kRgb);
    test::write_png(dir.file("i.png"), 3, 2, PNG_COLOR_TYPE_RGB, 8, kRgb, {}, true);
    CHECK(decode_path(dir.file("i.png")).pixels == kRgb);  // Adam7
  }
  SUBCASE("alpha is dropped, as PIL's convert(\"RGB\")") {
    std::vector<std::uint8_t> rgba;
    for (std::size_t p = 0; p < 6; ++p) {
      rgba.insert(rgba.end(), kRgb.begin() + static_cast<long>(3 * p), kRgb.begin() + static_cast<long>(3 * p + 3));
      rgba.push_back(static_cast<std::uint8_t>(p * 40));  // any alpha
    }
    test::write_png(dir.file("rgba.png"), 3, 2, PNG_COLOR_TYPE_RGBA, 8, rgba);
    const Image img = decode_path(dir.file("rgba.png"));
    CHECK(img.channels == 3);
    CHECK(img.pixels == kRgb);
    test::write_png(dir.file("ga.png"), 2, 1, PNG_COLOR_TYPE_GRAY_ALPHA, 8, {7, 0, 9, 255});
    const Image ga = decode_path(dir.file("ga.png"));
    CHECK(ga.channels == 1);
    CHECK(ga.pixels == std::vector<std::uint8_t>{7, 9});
  }
  SUBCASE("palette images become RGB, also at 4 bits per index") {
    const std::vector<png_color> palette = {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {9, 8, 7}};
    for (int depth : {8, 4}) {
      CAPTURE(depth);
      test::write_png(dir.file("p.png"), 4, 1, PNG_COLOR_TYPE_PALETTE, depth, {3, 0, 1, 2}, palette);
      const Image img = decode_path(dir.file("p.png"));
      CHECK(img.channels == 3);
      CHECK(img.pixels == std::vector<std::uint8_t>{9, 8, 7, 255, 0, 0, 0, 255, 0, 0, 0, 255});
    }
  }
  SUBCASE("1-, 2- and 4-bit grey are expanded to 0..255") {
    test::write_png(dir.file("g1.png"), 4, 1, PNG_COLOR_TYPE_GRAY, 1, {0, 1, 1, 0});
    CHECK(decode_path(dir.file("g1.png")).pixels == std::vector<std::uint8_t>{0, 255, 255, 0});
    test::write_png(dir.file("g2.png"), 4, 1, PNG_COLOR_TYPE_GRAY, 2, {0, 1, 2, 3});
    CHECK(decode_path(dir.file("g2.png")).pixels == std::vector<std::uint8_t>{0, 85, 170, 255});
    test::write_png(dir.file("g4.png"), 3, 1, PNG_COLOR_TYPE_GRAY, 4, {0, 1, 15});
    CHECK(decode_path(dir.file("g4.png")).pixels == std::vector<std::uint8_t>{0, 17, 255});
  }
  SUBCASE("16-bit samples are scaled to 8 bits, rounded: v * 255 / 65535") {
    // Big-endian 16-bit: 0, 65535, 32896 (= 128 * 257), 32767, 257 * 200 + 128.
    const std::vector<std::uint16_t> values = {0, 65535, 32896, 32767, 51528};
    std::vector<std::uint8_t> bytes;
    for (std::uint16_t v : values) bytes.push_back(static_cast<std::uint8_t>(v >> 8)), bytes.push_back(v & 0xff);
    test::write_png(dir.file("g16.png"), 5, 1, PNG_COLOR_TYPE_GRAY, 16, bytes);
    const Image g = decode_path(dir.file("g16.png"));
    std::vector<std::uint8_t> expected;
    for (std::uint16_t v : values) expected.push_back(static_cast<std::uint8_t>(std::lround(v * 255.0 / 65535.0)));
    CHECK(expected == std::vector<std::uint8_t>{0, 255, 128, 127, 200});
    CHECK(g.pixels == expected);
    std::vector<std::uint8_t> rgb16;
    for (int i = 0; i < 3; ++i) rgb16.insert(rgb16.end(), bytes.begin() + 2 * i, bytes.begin() + 2 * i + 2);
    test::write_png(dir.file("rgb16.png"), 1, 1, PNG_COLOR_TYPE_RGB, 16, rgb16);
    CHECK(decode_path(dir.file("rgb16.png")).pixels == std::vector<std::uint8_t>{0, 255, 128});
  }
  SUBCASE("the header alone gives the size and colour") {
    test::write_png(dir.file("rgb.png"), 3, 2, PNG_COLOR_TYPE_RGB, 8, kRgb);
    const Image h = decode_path(dir.file("rgb.png"), true);
    CHECK(h.height == 2);
    CHECK(h.width == 3);
    CHECK(h.channels == 3);
    CHECK(h.pixels.empty());
  }
}

TEST_CASE("image decode: JPEG grey and colour, within the codec's loss") {
  test::TempDir dir;
  std::vector<std::uint8_t> grey(16 * 8, 100);
  test::write_jpeg(dir.file("g.jpg"), 16, 8, 1, grey, 100);
  const Image g = decode_path(dir.file("g.jpg"));
  CHECK(g.channels == 1);
  CHECK(g.height == 8);
  CHECK(g.width == 16);
  for (std::uint8_t v : g.pixels) CHECK(std::abs(int{v} - 100) <= 1);
  std::vector<std::uint8_t> rgb;
  for (int p = 0; p < 16 * 16; ++p) rgb.insert(rgb.end(), {200, 40, 90});
  test::write_jpeg(dir.file("c.jpeg"), 16, 16, 3, rgb, 100);
  const Image c = decode_path(dir.file("c.jpeg"));
  CHECK(c.channels == 3);
  for (std::size_t i = 0; i < c.pixels.size(); ++i) CHECK(std::abs(int{c.pixels[i]} - int{rgb[i]}) <= 3);
  CHECK(decode_path(dir.file("c.jpeg"), true).channels == 3);
  test::write_jpeg(dir.file("p.jpg"), 16, 16, 3, rgb, 100, true);  // progressive
  const Image p = decode_path(dir.file("p.jpg"));
  for (std::size_t i = 0; i < p.pixels.size(); ++i) CHECK(std::abs(int{p.pixels[i]} - int{rgb[i]}) <= 3);
}

TEST_CASE("image decode: truncated, corrupt or foreign bytes are refused with what is wrong") {
  test::TempDir dir;
  test::write_png(dir.file("a.png"), 3, 2, PNG_COLOR_TYPE_RGB, 8, kRgb);
  std::vector<std::uint8_t> png = file_bytes(dir.file("a.png"));
  std::vector<std::uint8_t> jpeg_pixels(32 * 32 * 3);
  for (std::size_t i = 0; i < jpeg_pixels.size(); ++i) jpeg_pixels[i] = static_cast<std::uint8_t>(i * 7);
  test::write_jpeg(dir.file("a.jpg"), 32, 32, 3, jpeg_pixels);
  std::vector<std::uint8_t> jpeg = file_bytes(dir.file("a.jpg"));
  auto message = [](std::vector<std::uint8_t> bytes) {
    return test::error_message<InputError>([&] { decode_image(bytes.data(), bytes.size()); });
  };
  check_mentions(message({png.begin(), png.begin() + 40}), {"corrupt PNG"});
  std::vector<std::uint8_t> bad_crc = png;
  bad_crc[29] ^= 0xff;  // the IHDR chunk's CRC
  check_mentions(message(bad_crc), {"corrupt PNG"});
  check_mentions(message({jpeg.begin(), jpeg.begin() + static_cast<long>(jpeg.size() / 2)}), {"corrupt JPEG"});
  check_mentions(message({jpeg.begin(), jpeg.begin() + 3}), {"corrupt JPEG"});
  check_mentions(message({'h', 'e', 'l', 'l', 'o'}), {"not a PNG or JPEG"});
  check_mentions(message({}), {"empty file"});
  CHECK(has_image_extension("a/b.PNG"));
  CHECK(has_image_extension("x.jpeg"));
  CHECK(has_image_extension("x.Jpg"));
  CHECK_FALSE(has_image_extension("notes.txt"));
  CHECK_FALSE(has_image_extension("png"));
}

TEST_CASE("image resize: bilinear with antialiasing, against values worked out by hand") {
  std::vector<std::uint8_t> out(4);
  // Shrinking 4 -> 2: output x has centre 2x + 1 and the triangle filter
  // twice as wide, weights (0.75, 0.75, 0.25) / 1.75 over inputs 0..2 (1..3).
  const std::vector<std::uint8_t> row = {0, 10, 20, 30};
  resize_bilinear(row.data(), 1, 4, 1, out.data(), 1, 2);
  CHECK(out[0] == 7);   // (7.5 + 5) / 1.75 = 7.14
  CHECK(out[1] == 23);  // (2.5 + 15 + 22.5) / 1.75 = 22.86
  // 4 -> 1: weights 0.625, 0.875, 0.875, 0.625 over all four.
  resize_bilinear(row.data(), 1, 4, 1, out.data(), 1, 1);
  CHECK(out[0] == 15);
  // Enlarging 2 -> 4 is PyTorch's bilinear, align_corners=False: 0, 25, 75, 100.
  const std::vector<std::uint8_t> two = {0, 100};
  resize_bilinear(two.data(), 1, 2, 1, out.data(), 1, 4);
  CHECK(out == std::vector<std::uint8_t>{0, 25, 75, 100});
  // The same along the other axis, and per channel of interleaved pixels.
  const std::vector<std::uint8_t> column = {0, 200, 100, 50};  // 2 rows of [R, G]
  std::vector<std::uint8_t> tall(8);
  resize_bilinear(column.data(), 2, 1, 2, tall.data(), 4, 1);
  CHECK(tall == std::vector<std::uint8_t>{0, 200, 25, 163, 75, 88, 100, 50});  // 200 - 37.5 = 162.5 rounds up
  // Equal sizes copy; a constant image stays constant at any size.
  std::vector<std::uint8_t> same(4);
  resize_bilinear(row.data(), 2, 2, 1, same.data(), 2, 2);
  CHECK(same == row);
  const std::vector<std::uint8_t> flat(7 * 5 * 3, 77);
  std::vector<std::uint8_t> flat_out(3 * 11 * 3);
  resize_bilinear(flat.data(), 7, 5, 3, flat_out.data(), 3, 11);
  for (std::uint8_t v : flat_out) CHECK(v == 77);
}

TEST_CASE("image planes: grey to RGB repeats, RGB to grey is ITU-R 601 luma, layout C x H x W") {
  Image rgb{1, 2, 3, {255, 0, 0, 10, 20, 30}};
  CHECK(to_planes(rgb, 3, 1, 2) == std::vector<std::uint8_t>{255, 10, 0, 20, 0, 30});
  // (299 R + 587 G + 114 B) / 1000, rounded: red 76 (PIL's value), (10, 20, 30) 18.
  CHECK(to_planes(rgb, 1, 1, 2) == std::vector<std::uint8_t>{76, 18});
  Image grey{1, 2, 1, {5, 250}};
  CHECK(to_planes(grey, 3, 1, 2) == std::vector<std::uint8_t>{5, 250, 5, 250, 5, 250});
  CHECK(to_planes(grey, 1, 1, 2) == std::vector<std::uint8_t>{5, 250});
}

namespace {

// DIR/train/{cat,dog}/ and DIR/test/{cat,dog}/ of w x h RGB PNGs and JPEGs:
// cats red, dogs blue; and a file that is not an image.
void write_folder(const fs::path& dir, int w = 6, int h = 4, int per_class = 3) {
  for (const char* split : {"train", "test"})
    for (int i = 0; i < per_class; ++i) {
      const std::string n = std::to_string(i);
      test::write_png((dir / split / "cat" / ("c" + n + ".png")).string(), w, h, PNG_COLOR_TYPE_RGB, 8,
                      test::solid_rgb(w, h, 200, 30, 30, i));
      test::write_png((dir / split / "dog" / ("d" + n + ".png")).string(), w, h, PNG_COLOR_TYPE_RGB, 8,
                      test::solid_rgb(w, h, 30, 30, 200, i));
    }
  std::ofstream(dir / "train" / "cat" / "notes.txt") << "not an image";
}

std::vector<std::uint8_t> all_pixels(const Dataset& d) {
  std::vector<std::uint8_t> out, scratch;
  for (std::int64_t i = 0; i < d.size(); ++i) {
    const std::uint8_t* p = d.image(i, scratch);
    out.insert(out.end(), p, p + d.image_bytes());
  }
  return out;
}

}  // namespace

TEST_CASE("image folder: sorted classes, labels, ignored files, statistics and a bounded cache") {
  test::TempDir dir;
  write_folder(dir.path);
  // A nested folder inside a class counts for it, a JPEG too.
  test::write_jpeg(dir.file("train/dog/more/d9.jpg"), 6, 4, 3, test::solid_rgb(6, 4, 30, 30, 200), 100);
  ImageFolderOptions o;
  const ImageFolderSplit train = read_image_folder(dir.path.string(), true, o);
  CHECK(train.classes == std::vector<std::string>{"cat", "dog"});
  CHECK(train.ignored_files == 1);
  const Dataset& d = *train.dataset;
  CHECK(d.size() == 7);
  CHECK(d.channels == 3);
  CHECK(d.height == 4);
  CHECK(d.width == 6);
  CHECK(d.num_classes == 2);
  CHECK(d.labels == std::vector<std::int64_t>{0, 0, 0, 1, 1, 1, 1});
  CHECK(d.cached_images() == 7);  // all of them fit the default bound
  CHECK(d.source == nullptr);
  // The statistics, computed here independently over the decoded pixels.
  const std::vector<std::uint8_t> pixels = all_pixels(d);
  for (std::int64_t c = 0; c < 3; ++c) {
    double sum = 0, squares = 0, n = 0;
    for (std::int64_t i = 0; i < d.size(); ++i)
      for (std::int64_t p = 0; p < 24; ++p) {
        const double v = pixels[static_cast<std::size_t>(i * 72 + c * 24 + p)] / 255.0;
        sum += v, squares += v * v, n += 1;
      }
    CHECK(train.mean[static_cast<std::size_t>(c)] == doctest::Approx(sum / n).epsilon(1e-6));
    CHECK(train.std[static_cast<std::size_t>(c)] ==
          doctest::Approx(std::sqrt(squares / n - (sum / n) * (sum / n))).epsilon(1e-5));
  }
  // A bound of two images keeps the first two; the others decode to the same pixels.
  o.cache_bytes = 2 * 72 + 10;
  const ImageFolderSplit bounded = read_image_folder(dir.path.string(), true, o);
  CHECK(bounded.dataset->cached_images() == 2);
  CHECK(bounded.dataset->source != nullptr);
  CHECK(all_pixels(*bounded.dataset) == pixels);
  o.cache_bytes = 0;
  CHECK(all_pixels(*read_image_folder(dir.path.string(), true, o).dataset) == pixels);
  // The test split with the training classes; val/ when there is no test/.
  o.classes = train.classes;
  const ImageFolderSplit test = read_image_folder(dir.path.string(), false, o);
  CHECK(test.dataset->size() == 6);
  fs::rename(dir.path / "test", dir.path / "val");
  CHECK(read_image_folder(dir.path.string(), false, o).folder == (dir.path / "val").string());
}

TEST_CASE("image folder: --image-size resizes, --channels converts, grey folders stay grey") {
  test::TempDir dir;
  write_folder(dir.path);
  test::write_png(dir.file("train/cat/big.png"), 12, 8, PNG_COLOR_TYPE_RGB, 8, test::solid_rgb(12, 8, 200, 30, 30));
  ImageFolderOptions o;
  o.resize = true, o.height = 3, o.width = 5, o.channels = 1;
  const ImageFolderSplit s = read_image_folder(dir.path.string(), true, o);
  CHECK(s.dataset->channels == 1);
  CHECK(s.dataset->height == 3);
  CHECK(s.dataset->width == 5);
  CHECK(s.mean.size() == 1);
  // Every image grey: one channel unless asked for three.
  test::TempDir grey;
  for (const char* split : {"train", "test"})
    for (const char* c : {"a", "b"})
      test::write_png((grey.path / split / c / "x.png").string(), 2, 2, PNG_COLOR_TYPE_GRAY, 8, {1, 2, 3, 4});
  CHECK(read_image_folder(grey.path.string(), true, {}).dataset->channels == 1);
  ImageFolderOptions three;
  three.channels = 3;
  CHECK(read_image_folder(grey.path.string(), true, three).dataset->channels == 3);
}

TEST_CASE("image folder: each bad layout or file is one error naming it") {
  test::TempDir dir;
  write_folder(dir.path);
  const std::string root = dir.path.string();
  ImageFolderOptions o;
  SUBCASE("sizes differ without --image-size: both sizes and files named") {
    test::write_png(dir.file("train/dog/odd.png"), 5, 5, PNG_COLOR_TYPE_RGB, 8, test::solid_rgb(5, 5, 1, 2, 3));
    check_mentions(test::error_message<InputError>([&] { read_image_folder(root, true, o); }),
                   {"odd.png' is 5x5", "c0.png' is 4x6", "--image-size"});
    o.resize = true, o.height = o.width = 4;
    CHECK(read_image_folder(root, true, o).dataset->size() == 7);
  }
  SUBCASE("a corrupt image is named, or skipped and counted") {
    std::vector<std::uint8_t> png = file_bytes(dir.file("train/dog/d1.png"));
    std::ofstream(dir.file("train/dog/d1.png"), std::ios::binary)
        .write(reinterpret_cast<const char*>(png.data()), static_cast<std::streamsize>(png.size() - 20));
    check_mentions(test::error_message<InputError>([&] { read_image_folder(root, true, o); }),
                   {"d1.png", "corrupt PNG", "--skip-bad-images"});
    o.skip_bad_images = true;
    const ImageFolderSplit one = read_image_folder(root, true, o);
    CHECK(one.bad_images == 1);
    CHECK(one.dataset->size() == 5);
    check_mentions(one.first_bad, {"d1.png", "corrupt PNG"});
    // A file that is not an image at all fails on its header, found first.
    std::ofstream(dir.file("train/dog/fake.jpg")) << "not a jpeg";
    const ImageFolderSplit two = read_image_folder(root, true, o);
    CHECK(two.bad_images == 2);
    CHECK(two.dataset->size() == 5);
    check_mentions(two.first_bad, {"fake.jpg", "not a PNG or JPEG"});
  }
  SUBCASE("a test class that is not a training class") {
    test::write_png(dir.file("test/zebra/z.png"), 6, 4, PNG_COLOR_TYPE_RGB, 8, test::solid_rgb(6, 4, 1, 2, 3));
    o.classes = {"cat", "dog"};
    check_mentions(test::error_message<InputError>([&] { read_image_folder(root, false, o); }),
                   {"class 'zebra'", "not a training class", "cat, dog"});
  }
  SUBCASE("an empty class folder, or one of non-images only") {
    fs::create_directories(dir.path / "train" / "emu");
    check_mentions(test::error_message<InputError>([&] { read_image_folder(root, true, o); }),
                   {"emu", "holds no images"});
    std::ofstream(dir.file("train/emu/readme.md")) << "#";
    check_mentions(test::error_message<InputError>([&] { read_image_folder(root, true, o); }),
                   {"emu", "holds no images"});
  }
  SUBCASE("no class folders, no train/, no test/") {
    test::TempDir empty;
    fs::create_directories(empty.path / "train");
    check_mentions(test::error_message<InputError>([&] { read_image_folder(empty.path.string(), true, o); }),
                   {"no class folders"});
    fs::remove_all(dir.path / "test");
    o.classes = {"cat", "dog"};
    check_mentions(test::error_message<InputError>([&] { read_image_folder(root, false, o); }),
                   {"neither test/ nor val/"});
    fs::remove_all(dir.path / "train");
    check_mentions(test::error_message<InputError>([&] { read_image_folder(root, true, o); }), {"no train/"});
  }
  CHECK(parse_image_size("32", "--image-size") == std::pair<std::int64_t, std::int64_t>{32, 32});
  CHECK(parse_image_size("24x48", "--image-size") == std::pair<std::int64_t, std::int64_t>{24, 48});
  for (const char* bad : {"", "0", "x4", "4x", "-3", "4097", "3x3x3", "ab"})
    check_mentions(test::error_message<InputError>([&] { parse_image_size(bad, "--image-size"); }), {"--image-size"});
  CHECK(parse_channel_values("0.5,0.25,1", "--mean", false) == std::vector<float>{0.5f, 0.25f, 1.0f});
  for (const char* bad : {"", "0.5,", "a", "0.5;0.5", "nan"})
    check_mentions(test::error_message<InputError>([&] { parse_channel_values(bad, "--mean", false); }), {"--mean"});
  check_mentions(test::error_message<InputError>([&] { parse_channel_values("0.5,0", "--std", true); }), {"--std"});
}

TEST_CASE("image folder: the loader's batches are the same for any worker count and any cache bound") {
  test::TempDir dir;
  write_folder(dir.path, 6, 4, 9);
  auto batches = [&](int workers, std::uint64_t cache_bytes) {
    ImageFolderOptions o;
    o.cache_bytes = cache_bytes;
    const ImageFolderSplit s = read_image_folder(dir.path.string(), true, o);
    DataLoader loader(s.dataset,
                      LoaderOptions().batch_size(4).augment(true).mean(s.mean).std(s.std).seed(3).workers(workers));
    std::vector<std::vector<float>> out;
    for (std::int64_t epoch = 0; epoch < 2; ++epoch) {
      loader.start_epoch(epoch);
      while (auto b = loader.next()) {
        out.push_back(b->images.to_vector<float>());
        const std::vector<std::int64_t> labels = b->labels.to_vector<std::int64_t>();
        out.emplace_back(labels.begin(), labels.end());
      }
    }
    return out;
  };
  const auto reference = batches(1, std::uint64_t{1} << 30);
  CHECK(reference.size() == 2 * 5 * 2);
  CHECK(batches(3, 0) == reference);         // every image decoded by the workers
  CHECK(batches(2, 5 * 72) == reference);    // five cached, the rest decoded
}

// The image folders tests/cli_test.sh and tests/bad_input_test.sh use, in
// FLUXION_CLI_DIR/images (written with the CIFAR files, by CTest's
// cli_write_cifar_files); otherwise only checks that they read.
TEST_CASE("cli fixtures - generated image folders") {
  test::TempDir scratch;
  const char* env = std::getenv("FLUXION_CLI_DIR");
  const fs::path dir = (env != nullptr && *env != '\0' ? fs::path(env) : scratch.path) / "images";
  fs::remove_all(dir);
  // good/: three colour classes of mixed sizes and formats (so --image-size
  // is needed), a palette PNG, an RGBA PNG, and a text file.
  const fs::path good = dir / "good";
  const std::vector<std::array<std::uint8_t, 3>> colours = {{220, 40, 40}, {40, 200, 40}, {40, 40, 220}};
  const char* names[] = {"red", "green", "blue"};
  for (int c = 0; c < 3; ++c)
    for (int i = 0; i < 10; ++i) {
      const std::string split = i < 7 ? "train" : "test";
      const int w = 12 + (i % 3) * 4, h = 12 + (i % 2) * 6;
      const auto [r, g, b] = colours[static_cast<std::size_t>(c)];
      const std::string stem = (good / split / names[c] / (std::string(names[c]) + std::to_string(i))).string();
      if (i % 3 == 1) test::write_jpeg(stem + ".jpg", w, h, 3, test::solid_rgb(w, h, r, g, b, i));
      else test::write_png(stem + ".png", w, h, PNG_COLOR_TYPE_RGB, 8, test::solid_rgb(w, h, r, g, b, i));
    }
  test::write_png((good / "train" / "red" / "palette.png").string(), 2, 2, PNG_COLOR_TYPE_PALETTE, 8, {0, 0, 0, 0},
                  {{220, 40, 40}});
  std::ofstream(good / "train" / "red" / "README.txt") << "not an image";
  // same-size/: every image 8x8, so no --image-size is needed.
  const fs::path same = dir / "same-size";
  for (const char* split : {"train", "test"})
    for (int c = 0; c < 2; ++c)
      test::write_png((same / split / names[c] / "a.png").string(), 8, 8, PNG_COLOR_TYPE_RGB, 8,
                      test::solid_rgb(8, 8, colours[static_cast<std::size_t>(c)][0], 9, 9));
  // The bad ones: each a copy of same-size/ with one thing wrong.
  auto copy_of_same = [&](const std::string& name) {
    fs::copy(same, dir / name, fs::copy_options::recursive);
    return dir / name;
  };
  std::ofstream(copy_of_same("corrupt") / "train" / "red" / "broken.png") << "\x89PNG\r\n\x1a\n truncated";
  test::write_png((copy_of_same("foreign-class") / "test" / "zebra" / "z.png").string(), 8, 8, PNG_COLOR_TYPE_RGB, 8,
                  test::solid_rgb(8, 8, 1, 2, 3));
  fs::create_directories(copy_of_same("empty-class") / "train" / "grey");
  fs::create_directories(dir / "no-images" / "train");
  fs::create_directories(dir / "no-images" / "test");
  test::write_png((copy_of_same("mixed-sizes") / "train" / "green" / "b.png").string(), 9, 7, PNG_COLOR_TYPE_RGB,
                  8, test::solid_rgb(9, 7, 1, 2, 3));
  ImageFolderOptions o;
  o.resize = true, o.height = o.width = 16;
  const ImageFolderSplit s = read_image_folder(good.string(), true, o);
  CHECK(s.dataset->size() == 22);
  CHECK(s.ignored_files == 1);
  CHECK(read_image_folder(same.string(), true, {}).dataset->size() == 2);
}

TEST_CASE("image folder: a run records its classes, shape and statistics, which eval and predict read back") {
  test::TempDir dir;
  write_folder(dir.path / "pets", 6, 4, 4);
  train::TrainConfig c;
  c.model = "mlp";
  c.dataset = "imagefolder";
  c.data_dir = dir.file("pets");
  c.image_size = "5x7";  // not square: the MLP's first layer is made for square images
  c.out_dir = dir.file("wide");
  std::ostringstream log;
  train::TrainOptions options;
  options.log = &log;
  check_mentions(test::error_message<InputError>([&] { train::run_training(c, options); }),
                 {"--model mlp does not fit", "3x5x7"});
  c.image_size = "5";
  c.epochs = 1;
  c.batch_size = 4;
  c.threads = 1;
  c.out_dir = dir.file("run");
  log.str("");
  train::run_training(c, options);
  check_mentions(log.str(), {"2 classes (cat, dog)", "ignored 1 file that is not", "3x5x5"});
  const nlohmann::json record = train::read_json_file(dir.file("run/config.json"), "test");
  const train::TrainConfig back = train::from_run_record(record, "config.json");
  CHECK(back.image_size == "5");
  const train::RecordedData recorded = train::recorded_data(back, record, "config.json");
  CHECK(recorded.classes == std::vector<std::string>{"cat", "dog"});
  CHECK(recorded.info.num_classes == 2);
  CHECK(recorded.info.channels == 3);
  CHECK(recorded.info.height == 5);
  CHECK(recorded.info.width == 5);
  ImageFolderOptions o;
  o.resize = true, o.height = 5, o.width = 5;
  CHECK(recorded.info.mean == read_image_folder(c.data_dir, true, o).mean);
  const auto test_split = train::load_test_split(back, recorded);
  CHECK(test_split->size() == 8);
  CHECK(test_split->height == 5);
  // --mean/--std given at eval or predict override the recorded values.
  train::TrainConfig eval = back;
  eval.mean = "0.5,0.5,0.5";
  CHECK(train::recorded_data(eval, record, "x").info.mean == std::vector<float>{0.5f, 0.5f, 0.5f});
  eval.mean = "0.5";
  check_mentions(test::error_message<InputError>([&] { train::recorded_data(eval, record, "x"); }),
                 {"--mean 0.5: 1 values for images of 3 channels"});
  // A record without "data" (not an image folder's run) is refused by name.
  nlohmann::json bare = record;
  bare.erase("data");
  check_mentions(test::error_message<InputError>([&] { train::recorded_data(back, bare, "old.json"); }),
                 {"old.json", "no classes, image size or normalisation"});
}
