#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# scripts/check_spdx.sh — every source file of the repository names its licence (AGPL-3.0-or-later, LICENSE) with
# an SPDX line near its top: C, C++, JavaScript, CSS, HTML, shell, Python, Lua and CMake files. Prints each file
# without one; exit 1 if any. Data, documents and JSON (which has no comments) are not source files.
set -euo pipefail
cd "$(dirname "$0")/.."
bad=0
while IFS= read -r f; do
    head -n 3 "$f" | grep -q 'SPDX-License-Identifier: AGPL-3.0-or-later' ||
        { echo "$f: no 'SPDX-License-Identifier: AGPL-3.0-or-later' in its first 3 lines"; bad=1; }
done < <(git ls-files '*.c' '*.h' '*.cpp' '*.js' '*.mjs' '*.css' '*.html' '*.sh' '*.py' '*.lua' '*.cmake' \
    'CMakeLists.txt' '*/CMakeLists.txt' .ci/run)
[ $bad = 0 ] && echo "spdx: every source file names its licence (AGPL-3.0-or-later)"
exit $bad
