// SPDX-License-Identifier: AGPL-3.0-or-later
// chromium.mjs — where the browser tests find Debian's Chromium ($CHROMIUM, else /usr/bin/chromium). When it is
// absent the test says so and exits 77, which ctest reports as skipped (SKIP_RETURN_CODE): never a silent pass.
import { existsSync } from 'node:fs';

export function chromiumPath(test) {
  const path = process.env.CHROMIUM || '/usr/bin/chromium';
  if (!existsSync(path)) {
    console.log(`SKIP ${test}: no Chromium at ${path} (apt-get install chromium, or bash scripts/deps.sh --tests; ` +
      'CHROMIUM=PATH names another)');
    process.exit(77);
  }
  return path;
}
