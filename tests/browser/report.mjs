// SPDX-License-Identifier: AGPL-3.0-or-later
// report.mjs — covoit batch's report.html in a real browser (Debian's Chromium, headless, driven by
// playwright-core): the example population of the repository planned on the bundled Porto extract, the page
// opened from its directory. It must load with no console error and no failed or outside request, show the
// figures of summary.json, draw every carpool on the map and its three charts, and list who is unmatched by reason.
// A screenshot is left in the build directory.
//
// node report.mjs COVOIT_BIN PORTO_PBF COMMUTERS_CSV WORK_DIR
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { chromiumPath } from './chromium.mjs';

const [covoit, pbf, csv, work] = process.argv.slice(2);
if (!work) {
  console.error('usage: node report.mjs COVOIT_BIN PORTO_PBF COMMUTERS_CSV WORK_DIR');
  process.exit(2);
}
const chromePath = chromiumPath('browser_report');
const failures = [];
function check(ok, what) {
  if (!ok) failures.push(what);
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
}

mkdirSync(work, { recursive: true });
const graph = join(work, 'report_porto.cvg');
const out = join(work, 'report_plan');
rmSync(out, { recursive: true, force: true });
if (!existsSync(graph)) execFileSync(covoit, ['import', pbf, '-o', graph], { stdio: ['ignore', 'ignore', 'inherit'] });
const said = execFileSync(covoit, ['batch', '--graph', graph, '--in', csv, '--out', out], { encoding: 'utf8' });
console.log(said.trim());
const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
check(summary.carpools > 10, `covoit batch planned ${summary.carpools} carpools`);

const browser = await chromium.launch({ executablePath: chromePath, args: ['--no-sandbox'] });
const page = await browser.newPage({ viewport: { width: 1280, height: 1800 } });
const errors = [];
const outside = [];
page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
page.on('pageerror', (e) => errors.push(String(e)));
page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()}`));
page.on('request', (r) => { if (!r.url().startsWith('file:')) outside.push(r.url()); });
await page.goto(pathToFileURL(join(out, 'report.html')).href);
await page.waitForSelector('body[data-ready="yes"]', { timeout: 20000 }).catch(() => {});
check(await page.getAttribute('body', 'data-ready') === 'yes', 'report.js ran to its end');
check(errors.length === 0, `no console or page error${errors.length ? ': ' + errors.join(' | ') : ''}`);
check(outside.length === 0, `no request outside the report's directory${outside.length ? ': ' + outside.join(' ') : ''}`);

const carpools = (await page.textContent('#carpools')).replace(/,/g, '').trim();
check(carpools === String(summary.carpools), `the page's carpools (${carpools}) are summary.json's`);
const km = (await page.textContent('#km')).replace(/,/g, '').trim();
check(Math.abs(Number(km) - summary.km_saved_per_week) <= 1, `the page's km saved (${km}) are summary.json's`);
const drawn = await page.evaluate(() => ({
  canvases: document.querySelectorAll('#map canvas').length,
  lines: Number(document.getElementById('map').dataset.lines),
  attribution: document.querySelector('.leaflet-control-attribution')?.textContent || '',
}));
check(drawn.canvases >= 1 && drawn.lines === summary.carpools, `the map draws every carpool (${drawn.lines})`);
const roads = await page.evaluate(() => window.COVOIT_REPORT.carpools.map((c) => {
  const r = c.route || [];
  const near = (a, b) => Math.abs(a[0] - b[0]) < 2e-4 && Math.abs(a[1] - b[1]) < 2e-4;
  return r.length >= 4 && near(r[0], c.stops[0]) && near(r[r.length - 1], c.stops[c.stops.length - 1]);
}));
check(roads.every(Boolean), `every carpool is drawn along its road route, from the driver's home to their work (${roads.filter(Boolean).length} of ${roads.length})`);
const several = await page.evaluate(() => window.COVOIT_REPORT.carpools.filter((c) => c.passengers.length > 1)
  .map((c) => ({ stops: c.stops.length, np: c.passengers.length, homes: c.homes.length,
    through: c.stops.slice(1, -1).every((s) => {
      /* the stop within 25 m of the simplified line (points are [lat, lon]) */
      const k = Math.cos(s[0] * Math.PI / 180), r = c.route || [];
      let best = Infinity;
      for (let i = 0; i + 1 < r.length; i++) {
        const ax = (r[i][1] - s[1]) * k, ay = r[i][0] - s[0], bx = (r[i + 1][1] - s[1]) * k, by = r[i + 1][0] - s[0];
        const dx = bx - ax, dy = by - ay, l = dx * dx + dy * dy;
        const t = l ? Math.max(0, Math.min(1, -(ax * dx + ay * dy) / l)) : 0;
        best = Math.min(best, Math.hypot(ax + t * dx, ay + t * dy) * 111195);
      }
      return best < 25;
    }) })));
check(several.length > 0 && several.every((c) => c.stops === 2 * c.np + 2 && c.homes === c.np && c.through),
  `the carpools of several passengers are drawn through every stop (${several.length})`);
const perCar = Number((await page.textContent('#per-car')).trim());
check(Math.abs(perCar - summary.passengers_matched / summary.carpools) < 0.006,
  `the page's passengers per car (${perCar}) are summary.json's`);
check(/OpenStreetMap/.test(drawn.attribution), `the map credits OpenStreetMap ("${drawn.attribution}")`);
const charts = await page.evaluate(() => ['versus', 'detours', 'saved'].map((id) => {
  const c = window.Chart.getChart(id);
  return c ? c.data.datasets.reduce((n, d) => n + d.data.reduce((a, b) => a + b, 0), 0) : -1;
}));
check(charts[1] === summary.carpools && charts[2] === summary.carpools,
  `the histograms count every carpool (${charts[1]}, ${charts[2]})`);
check(Math.abs(charts[0] - summary.km_saved_per_week - summary.greedy.km_saved_per_week) < 1,
  'the comparison shows both plans\' km saved');
const unmatched = await page.$$eval('#unmatched details summary', (s) => s.map((x) => x.textContent));
const listed = unmatched.reduce((n, t) => n + Number(t.split(': ').pop()), 0);
check(listed === summary.participants - summary.participants_matched,
  `the unmatched are listed by reason (${unmatched.join('; ')})`);
await page.screenshot({ path: join(work, 'report.png'), fullPage: true });
await browser.close();
if (failures.length) {
  console.error(`report.mjs: ${failures.length} check(s) failed`);
  process.exit(1);
}
console.log(`report.mjs: all checks passed; screenshot ${join(work, 'report.png')}`);
