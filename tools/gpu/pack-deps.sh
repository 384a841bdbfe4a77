#!/usr/bin/env bash
# Packs the build headers the GPU machine lacks into .gpu-deps/ (ignored by git; name it in the device tool's
# `carry`). The GPU machine (Ubuntu 24.04 image, no network) has the PCRE2 and ICU *runtime* libraries but not their
# -dev packages, nor nlohmann-json; this machine has them from Debian (scripts/apt-packages.txt). tools/gpu/run.sh
# turns the headers into a prefix with pkg-config files that point at the GPU machine's own runtime libraries.
# Nothing here is committed: it is a copy of Debian-packaged headers made for one device call.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="$root/.gpu-deps"
rm -rf "$out"
mkdir -p "$out/include" "$out/share/cmake"
cp -r /usr/include/unicode /usr/include/nlohmann "$out/include/"
cp /usr/include/pcre2.h "$out/include/"
# Under share/cmake so that the package config finds its headers at <prefix>/include (it computes the prefix as
# three directories up).
cp -r /usr/share/cmake/nlohmann_json "$out/share/cmake/"
tar -C "$out" -czf "$root/.gpu-deps.tgz" include share
rm -rf "$out"
mkdir -p "$out"
mv "$root/.gpu-deps.tgz" "$out/headers.tgz"
du -sh "$out"
