#!/usr/bin/env bash
# Prepares .deps/ (ignored by git): Fluxion's header-only dependencies and
# zlib's headers, copied from this machine's Debian packages, with minimal
# CMake package files for them. A machine without those packages (the GPU
# machine the device tool lends has CMake, nvcc and cuDNN but no Debian
# packages and no network) then configures Fluxion with
#   cmake -DCMAKE_PREFIX_PATH=$PWD/.deps -DFLUXION_BLAS=eigen ...
# scripts/gpu_check.sh does exactly that. About 12 MB.
set -euo pipefail
cd "$(dirname "$0")/.."
deps=.deps
rm -rf "$deps"
mkdir -p "$deps/include" "$deps/lib/cmake"
cp -r /usr/include/eigen3 /usr/include/nlohmann /usr/include/CLI /usr/include/doctest "$deps/include/"
cp /usr/include/zlib.h /usr/include/zconf.h "$deps/include/"

# package NAME TARGET VERSION INCLUDE_SUBDIR: NAMEConfig.cmake defining the
# imported interface TARGET on the copied headers, and its version file.
package() {
  local name=$1 target=$2 version=$3 subdir=$4 dir="$deps/lib/cmake/$1"
  mkdir -p "$dir"
  cat >"$dir/${name}Config.cmake" <<CONFIG
# Written by scripts/gpu_deps.sh: the headers copied beside this file.
if(NOT TARGET ${target})
  add_library(${target} INTERFACE IMPORTED)
  set_target_properties(${target} PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "\${CMAKE_CURRENT_LIST_DIR}/../../../include${subdir}")
endif()
CONFIG
  cat >"$dir/${name}ConfigVersion.cmake" <<VERSION
set(PACKAGE_VERSION "${version}")
if(PACKAGE_FIND_VERSION VERSION_GREATER PACKAGE_VERSION)
  set(PACKAGE_VERSION_COMPATIBLE FALSE)
else()
  set(PACKAGE_VERSION_COMPATIBLE TRUE)
endif()
VERSION
}

version_of() { dpkg-query -W -f='${Version}' "$1" | sed 's/[-+~].*//'; }
package Eigen3 Eigen3::Eigen "$(version_of libeigen3-dev)" /eigen3
package nlohmann_json nlohmann_json::nlohmann_json "$(version_of nlohmann-json3-dev)" ""
package CLI11 CLI11::CLI11 "$(version_of libcli11-dev)" ""
package doctest doctest::doctest "$(version_of doctest-dev)" ""
cp /usr/lib/cmake/doctest/doctest.cmake /usr/lib/cmake/doctest/doctestAddTests.cmake "$deps/lib/cmake/doctest/"
du -sh "$deps"
