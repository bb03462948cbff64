#!/bin/bash
# gpu-bundle.sh BUILD DEST [TAE] — what one device call needs beside the
# working tree, for gpu-run.sh: the cuda suite's test programs and
# shapes-dump from the Debian build BUILD (meson, CUDA found), the Debian
# libraries they need that a CUDA image lacks (GLib, OpenBLAS xz-compressed),
# gpu-run.sh, and TAE (a model file whose tae.* weights MODE=joint starts
# from, as DEST/tae-init.safetensors) if given.
# DEST must be a folder of the repo's root (gpu-run.sh finds the repo as
# DEST/..), ignored by git and named in the device call's carry.
set -eu
build=$1 dest=$2 tae=${3:-}
# bring what travels up to date with this tree first (a device call is
# too dear to spend on stale binaries)
ninja -C "$build" tests/cuda/test-cuda-device tests/cuda/test-cuda-ops tests/reference/shapes-dump
mkdir -p "$dest/lib"
cp "$build/tests/cuda/test-cuda-device" "$build/tests/cuda/test-cuda-ops" \
   "$build/tests/reference/shapes-dump" "$dest/"
for lib in libglib-2.0.so.0 libpcre2-8.so.0 libgfortran.so.5 libquadmath.so.0; do
  cp -L "$(ldconfig -p | awk -v l=$lib '$1 == l { print $NF; exit }')" "$dest/lib/"
done
xz -T0 -6 -c "$(ldconfig -p | awk '$1 == "libopenblas.so.0" { print $NF; exit }')" \
  > "$dest/lib/libopenblas.so.0.xz"
cp "$(dirname "$0")/gpu-run.sh" "$dest/run.sh"
if [ -n "$tae" ]; then cp "$tae" "$dest/tae-init.safetensors"; fi
du -sh "$dest"
