// MNIST-style IDX files, plain or gzipped (data/idx.h, data/file_bytes.h).
// Input: a 4-byte little-endian length L, then L bytes of the images file,
// then the labels file.
#include <algorithm>

#include "data/idx.h"
#include "fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace fluxion;
  if (size < 4) return 0;
  const std::size_t images_size = std::min(fuzz::le32(data), size - 4);
  const std::string images = fuzz::write_input("idx/images", data + 4, images_size);
  const std::string labels = fuzz::write_input("idx/labels", data + 4 + images_size, size - 4 - images_size);
  fuzz::expect_input_errors_only([&] {
    const data::Dataset d = data::read_idx(images, labels, 10, "fuzz");
    (void)d.size();
  });
  return 0;
}
