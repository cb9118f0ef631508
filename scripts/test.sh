#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# The whole test suite: installs what is missing, builds with AddressSanitizer and UBSan, runs every ctest test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh --tests
# The C and C++ sources are formatted as .clang-format says (`bash scripts/format.sh` formats them).
sources=$(git ls-files '*.c' '*.h' '*.cpp')
if [ -z "$sources" ] || ! clang-format --dry-run --Werror $sources; then
  echo "test.sh: sources not formatted as .clang-format says (above), or none found: run bash scripts/format.sh" >&2
  exit 1
fi
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCOVOIT_SANITIZE=ON -DCOVOIT_WERROR=ON >/dev/null
cmake --build build-asan -j"$(nproc)"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# A failure is shown again at the very end (a long log's tail is what a CI summary keeps): the failed tests run once
# more, alone, with their output; the suite fails either way.
if ! (cd build-asan && ctest --output-on-failure -j"$(nproc)" --label-exclude slow); then
  echo "test.sh: the failed tests again, one at a time:" >&2
  (cd build-asan && ctest --rerun-failed --output-on-failure 2>&1 | tail -80) >&2 || true
  exit 1
fi
# The fuzz targets (tests/fuzz: libFuzzer, clang, ASan and UBSan): built in build-fuzz, then each runs 8 s on its
# seeds, one at a time; a crash or a failed check fails the suite (the input is left in build-fuzz/tests/fuzz/crashes).
CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCOVOIT_FUZZ=ON -DCOVOIT_TESTS=OFF \
  >/dev/null
cmake --build build-fuzz --target fuzz -j"$(nproc)"
ctest --test-dir build-fuzz/tests/fuzz --output-on-failure
