// PNG and JPEG images (data/image_decode.h, data/image_folder.h): the
// header alone, then the whole file read, decoded, converted to grey and
// to RGB and resized, as an image folder's first pass and `fluxion predict`
// do. Input: the file's bytes.
#include "data/image_decode.h"
#include "data/image_folder.h"
#include "fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace fluxion;
  fuzz::expect_input_errors_only([&] {
    const data::Image header = data::decode_image(data, size, true);
    // Beyond 4 Mpixels (within the 64 Mpixel bound the decoder enforces) the
    // time goes into inflating zeros, not into parsing: the header suffices.
    if (header.height * header.width > (std::int64_t{1} << 22)) return;
    const std::string path = fuzz::write_input("image/input.png", data, size);
    (void)data::read_image_file(path, 3, 7, 5);   // shrink or enlarge, colour
    (void)data::read_image_file(path, 1, 40, 3);  // grey
  });
  return 0;
}
