// The JSON fixtures that scripts write into tests/fixtures/ (PyTorch's own
// results on fixed inputs), read with one error that names the missing file
// and the script that makes it.
#pragma once

#include <fstream>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#ifndef FLUXION_FIXTURES_DIR
#error "FLUXION_FIXTURES_DIR must name tests/fixtures (see tests/CMakeLists.txt)"
#endif

namespace test {

/// tests/fixtures/NAME, parsed; `maker` is the command that writes it.
inline nlohmann::json fixture_json(const std::string& name, const std::string& maker) {
  const std::string path = std::string(FLUXION_FIXTURES_DIR) + "/" + name;
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path + " (run " + maker + ")");
  return nlohmann::json::parse(in);
}

}  // namespace test
