#include "data/image_folder.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <mutex>

#include "core/error.h"
#include "core/parallel.h"
#include "data/file_bytes.h"
#include "data/image_decode.h"

namespace fluxion::data {
namespace {

namespace fs = std::filesystem;

constexpr std::uint64_t kMaxFileBytes = std::uint64_t{256} << 20;  // no PNG/JPEG of 8192^2 pixels needs more

std::string size_text(std::int64_t height, std::int64_t width) { return detail::concat(height, "x", width); }

// The image file's bytes decoded (fully, or its header only); InputError
// "PATH: what is wrong".
Image decode_file(const std::string& path, bool header_only) {
  try {
    const std::vector<std::uint8_t> bytes = read_file_bytes(path, kMaxFileBytes);
    return decode_image(bytes.data(), bytes.size(), header_only);
  } catch (const InputError& e) {
    const std::string what = e.what();
    // read_file_bytes names the path itself.
    if (what.find(path) != std::string::npos) throw;
    throw InputError(detail::concat("'", path, "': ", what));
  }
}

// The images beyond a split's cache, decoded again from their files.
class FolderSource : public ImageSource {
 public:
  FolderSource(std::vector<std::string> paths, std::int64_t c, std::int64_t h, std::int64_t w)
      : paths_(std::move(paths)), c_(c), h_(h), w_(w) {}
  void decode(std::int64_t i, std::uint8_t* out) const override {
    const std::vector<std::uint8_t> planes = read_image_file(paths_.at(static_cast<std::size_t>(i)), c_, h_, w_);
    std::memcpy(out, planes.data(), planes.size());
  }

 private:
  std::vector<std::string> paths_;
  std::int64_t c_, h_, w_;
};

struct Entry {
  std::string path;
  std::int64_t label = 0;
  std::int64_t height = 0, width = 0, channels = 0;  // from the header
  std::string problem;                                // "" or why it cannot be read
  std::vector<std::uint8_t> planes;                   // decoded, when cached
};

// The split's folder: DIR/train; DIR/test, else DIR/val.
fs::path split_folder(const std::string& dir, bool train) {
  FLUXION_CHECK_INPUT(fs::is_directory(dir), "imagefolder: the data directory '", dir,
                      "' does not exist or is not a folder; expected DIR/train/<class>/*.png|jpg and "
                      "DIR/test/<class>/... (torchvision's ImageFolder layout)");
  if (train) {
    FLUXION_CHECK_INPUT(fs::is_directory(fs::path(dir) / "train"), "imagefolder: no train/ folder in '", dir,
                        "'; expected DIR/train/<class>/*.png|jpg (torchvision's ImageFolder layout)");
    return fs::path(dir) / "train";
  }
  for (const char* name : {"test", "val"})
    if (fs::is_directory(fs::path(dir) / name)) return fs::path(dir) / name;
  throw InputError(detail::concat("imagefolder: neither test/ nor val/ in '", dir,
                                  "'; expected DIR/test/<class>/*.png|jpg (or DIR/val/...) for the test split"));
}

// The image files of each class folder, sorted; counts the other files.
std::vector<Entry> list_images(const fs::path& folder, bool train, std::vector<std::string>& classes,
                               std::int64_t& ignored) {
  std::vector<std::string> found;
  for (const fs::directory_entry& e : fs::directory_iterator(folder)) {
    if (e.is_directory()) found.push_back(e.path().filename().string());
    else ++ignored;  // a file beside the class folders
  }
  std::sort(found.begin(), found.end());
  FLUXION_CHECK_INPUT(!found.empty(), "imagefolder: no class folders in '", folder.string(),
                      "'; expected one subfolder of images per class");
  if (train && classes.empty()) classes = found;
  std::vector<Entry> entries;
  for (const std::string& name : found) {
    const auto at = std::find(classes.begin(), classes.end(), name);
    FLUXION_CHECK_INPUT(at != classes.end(), "imagefolder: class '", name, "' of '", folder.string(),
                        "' is not a training class; the classes (train/'s folders) are: ", detail::join(classes));
    std::vector<std::string> files;
    for (const fs::directory_entry& e :
         fs::recursive_directory_iterator(folder / name, fs::directory_options::follow_directory_symlink)) {
      if (e.is_directory()) continue;
      if (has_image_extension(e.path().filename().string())) files.push_back(e.path().string());
      else ++ignored;
    }
    FLUXION_CHECK_INPUT(!files.empty(), "imagefolder: the class folder '", (folder / name).string(),
                        "' holds no images; expected .png, .jpg or .jpeg files (remove the folder, or add images)");
    std::sort(files.begin(), files.end());
    for (auto& f : files) {
      Entry& e = entries.emplace_back();
      e.path = std::move(f);
      e.label = at - classes.begin();
    }
  }
  return entries;
}

// Runs fn(entry) over all entries on the threads; an error in one entry is
// recorded as its problem, not thrown.
template <class Fn>
void for_each_entry(std::vector<Entry>& entries, const Fn& fn) {
  parallel_for(0, static_cast<std::int64_t>(entries.size()), 1, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i) {
      Entry& e = entries[static_cast<std::size_t>(i)];
      if (!e.problem.empty()) continue;
      try {
        fn(e, i);
      } catch (const InputError& error) {
        e.problem = error.what();
      }
    }
  });
}

// Bad entries stop the read, or are dropped and counted (skip_bad_images).
void drop_bad(std::vector<Entry>& entries, ImageFolderSplit& split, bool skip) {
  for (const Entry& e : entries) {
    if (e.problem.empty()) continue;
    FLUXION_CHECK_INPUT(skip, "imagefolder: ", e.problem, " (or pass --skip-bad-images to leave such images out)");
    if (split.bad_images++ == 0) split.first_bad = e.problem;
  }
  std::erase_if(entries, [](const Entry& e) { return !e.problem.empty(); });
  FLUXION_CHECK_INPUT(!entries.empty(), "imagefolder: no image in '", split.folder,
                      "' could be decoded; the first: ", split.first_bad);
}

}  // namespace

std::vector<std::uint8_t> read_image_file(const std::string& path, std::int64_t channels, std::int64_t height,
                                          std::int64_t width) {
  return to_planes(decode_file(path, false), channels, height, width);
}

ImageFolderSplit read_image_folder(const std::string& dir, bool train, const ImageFolderOptions& options) {
  FLUXION_CHECK(train || !options.classes.empty(), "read_image_folder: a test split needs the training classes");
  ImageFolderSplit split;
  const fs::path folder = split_folder(dir, train);
  split.folder = folder.string();
  split.classes = options.classes;
  std::vector<Entry> entries = list_images(folder, train, split.classes, split.ignored_files);

  // Pass 1: the headers, for the sizes and the colour.
  for_each_entry(entries, [](Entry& e, std::int64_t) {
    const Image header = decode_file(e.path, true);
    e.height = header.height, e.width = header.width, e.channels = header.channels;
  });
  drop_bad(entries, split, options.skip_bad_images);
  std::int64_t channels = options.channels, height = options.height, width = options.width;
  if (channels == 0)
    channels = std::all_of(entries.begin(), entries.end(), [](const Entry& e) { return e.channels == 1; }) ? 1 : 3;
  if (!options.resize) {
    const bool from_first = height == 0;
    if (from_first) height = entries.front().height, width = entries.front().width;
    for (const Entry& e : entries)
      FLUXION_CHECK_INPUT(
          e.height == height && e.width == width, "imagefolder: images of different sizes without --image-size: '",
          e.path, "' is ", size_text(e.height, e.width), " (height x width), ",
          from_first ? detail::concat("'", entries.front().path, "' is ", size_text(height, width))
                     : detail::concat("the training images are ", size_text(height, width)),
          "; pass --image-size N or HxW to resize them all");
  }
  const std::int64_t image_bytes = channels * height * width;

  // Pass 2: every image decoded, converted and resized; the statistics (sums
  // of integers, so the same whatever the threads); the first ones kept.
  const auto cache_count = static_cast<std::int64_t>(options.cache_bytes / static_cast<std::uint64_t>(image_bytes));
  std::vector<std::uint64_t> sum(static_cast<std::size_t>(channels)), squares(sum.size());
  std::mutex sums;
  for_each_entry(entries, [&](Entry& e, std::int64_t i) {
    std::vector<std::uint8_t> planes = read_image_file(e.path, channels, height, width);
    std::vector<std::uint64_t> s(sum.size()), q(sum.size());
    for (std::int64_t c = 0; c < channels; ++c)
      for (std::int64_t p = 0; p < height * width; ++p) {
        const std::uint64_t v = planes[static_cast<std::size_t>(c * height * width + p)];
        s[static_cast<std::size_t>(c)] += v;
        q[static_cast<std::size_t>(c)] += v * v;
      }
    {
      std::lock_guard<std::mutex> lock(sums);
      for (std::size_t c = 0; c < sum.size(); ++c) sum[c] += s[c], squares[c] += q[c];
    }
    if (i < cache_count) e.planes = std::move(planes);
  });
  // A bad image of pass 2 contributed nothing to the sums (its decode threw).
  drop_bad(entries, split, options.skip_bad_images);
  const double count = static_cast<double>(entries.size()) * static_cast<double>(height * width);
  for (std::size_t c = 0; c < sum.size(); ++c) {
    const double mean = static_cast<double>(sum[c]) / count / 255.0;
    const double mean_square = static_cast<double>(squares[c]) / count / (255.0 * 255.0);
    split.mean.push_back(static_cast<float>(mean));
    split.std.push_back(static_cast<float>(std::sqrt(std::max(0.0, mean_square - mean * mean))));
  }

  auto d = std::make_shared<Dataset>();
  d->name = detail::concat("imagefolder ", folder.filename().string());
  d->channels = channels, d->height = height, d->width = width;
  d->num_classes = static_cast<std::int64_t>(split.classes.size());
  std::vector<std::string> paths;
  bool cached = true;  // the cached images are a prefix of the good ones
  for (Entry& e : entries) {
    d->labels.push_back(e.label);
    paths.push_back(e.path);
    cached = cached && !e.planes.empty();
    if (cached) d->pixels.insert(d->pixels.end(), e.planes.begin(), e.planes.end());
    std::vector<std::uint8_t>().swap(e.planes);
  }
  if (d->cached_images() < d->size()) d->source = std::make_shared<FolderSource>(std::move(paths), channels, height, width);
  split.dataset = std::move(d);
  return split;
}

std::pair<std::int64_t, std::int64_t> parse_image_size(const std::string& text, const std::string& flag) {
  auto number = [&](const std::string& part) {
    const bool digits = !part.empty() && part.size() <= 4 &&
                        std::all_of(part.begin(), part.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
    const std::int64_t n = digits ? std::stoll(part) : 0;
    FLUXION_CHECK_INPUT(n >= 1 && n <= 4096, flag, " '", text,
                        "': expected N or HxW (height x width), whole numbers from 1 to 4096, such as 32 or 48x64");
    return n;
  };
  const std::size_t x = text.find('x');
  if (x == std::string::npos) return {number(text), number(text)};
  return {number(text.substr(0, x)), number(text.substr(x + 1))};
}

std::vector<float> parse_channel_values(const std::string& text, const std::string& flag, bool positive) {
  std::vector<float> values;
  std::size_t start = 0;
  for (;;) {
    const std::size_t comma = text.find(',', start);
    const std::string part = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    char* end = nullptr;
    const double v = part.empty() ? NAN : std::strtod(part.c_str(), &end);
    FLUXION_CHECK_INPUT(!part.empty() && end == part.c_str() + part.size() && std::isfinite(v) && (!positive || v > 0),
                        flag, " '", text, "': expected one ", positive ? "positive " : "",
                        "number per channel, separated by commas (such as 0.5,0.5,0.5 or 0.5)");
    values.push_back(static_cast<float>(v));
    if (comma == std::string::npos) return values;
    start = comma + 1;
  }
}

}  // namespace fluxion::data
