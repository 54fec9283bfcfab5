#!/usr/bin/env bash
# Downloads CIFAR-10 and/or CIFAR-100 in the binary format Fluxion reads,
# checks each archive against the md5 sum published on the official page
# (https://www.cs.toronto.edu/~kriz/cifar.html), extracts it into DIR and
# prints the --data-dir to pass. Needs internet, curl or wget, md5sum and tar.
# Builds and tests never call it: they make their own small CIFAR files.
#
#   scripts/get-cifar.sh DIR [cifar10|cifar100|all]    (default: all)
set -euo pipefail

usage() {
  echo "usage: scripts/get-cifar.sh DIR [cifar10|cifar100|all]" >&2
  exit 2
}
if [ $# -lt 1 ] || [ $# -gt 2 ]; then usage; fi
dir=$1
which=${2:-all}
case $which in
  cifar10 | cifar100) sets=("$which") ;;
  all) sets=(cifar10 cifar100) ;;
  *) usage ;;
esac

base_url=https://www.cs.toronto.edu/~kriz
declare -A archive=([cifar10]=cifar-10-binary.tar.gz [cifar100]=cifar-100-binary.tar.gz)
declare -A md5=([cifar10]=c32a1d4ab5d03f1284b67883e8d87530 [cifar100]=03b5dce01913d631647c71ecec9e9cb8)
declare -A folder=([cifar10]=cifar-10-batches-bin [cifar100]=cifar-100-binary)
declare -A files=(
  [cifar10]="data_batch_1.bin data_batch_2.bin data_batch_3.bin data_batch_4.bin data_batch_5.bin test_batch.bin"
  [cifar100]="train.bin test.bin"
)

die() {
  echo "get-cifar.sh: $*" >&2
  exit 1
}

for tool in md5sum tar; do
  command -v "$tool" >/dev/null || die "needs $tool"
done

download() {  # URL FILE
  if command -v curl >/dev/null; then
    curl -fL --retry 3 --progress-bar -o "$2" "$1"
  elif command -v wget >/dev/null; then
    wget -q --show-progress -O "$2" "$1"
  else
    die "needs curl or wget to download $1"
  fi
}

md5_ok() {  # FILE SUM
  [ "$(md5sum "$1" | cut -d' ' -f1)" = "$2" ]
}

has_all_files() {  # SET
  local f
  for f in ${files[$1]}; do
    [ -f "$dir/${folder[$1]}/$f" ] || return 1
  done
}

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
for set in "${sets[@]}"; do
  if has_all_files "$set"; then
    echo "get-cifar.sh: $set is already in $dir/${folder[$set]}"
    continue
  fi
  tarball=$dir/${archive[$set]}
  if [ -f "$tarball" ] && md5_ok "$tarball" "${md5[$set]}"; then
    echo "get-cifar.sh: using the $set archive already in $tarball"
  else
    echo "get-cifar.sh: downloading $base_url/${archive[$set]} (about 160 MB)"
    download "$base_url/${archive[$set]}" "$tarball.part" || die "download of $base_url/${archive[$set]} failed"
    md5_ok "$tarball.part" "${md5[$set]}" ||
      die "$tarball.part: md5 $(md5sum "$tarball.part" | cut -d' ' -f1), expected ${md5[$set]}" \
        "(the download is damaged or the file changed upstream); delete it and retry"
    mv "$tarball.part" "$tarball"
  fi
  tar -xzf "$tarball" -C "$dir"
  has_all_files "$set" || die "$tarball did not extract the expected files (${files[$set]}) into $dir/${folder[$set]}"
  echo "get-cifar.sh: $set is in $dir/${folder[$set]} (the archive $tarball may be deleted)"
done
echo "get-cifar.sh: pass --data-dir $dir"
