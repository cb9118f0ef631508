// page.mjs — the map page in a real browser (Debian's Chromium, headless, driven by playwright-core) against a real
// `covoit serve` on 127.0.0.1 with the bundled Porto extract, its place index and a trip database: a passenger types
// the start and the destination and picks them from the suggestions (by mouse and by keyboard), the route is drawn,
// a click on the map names the point it sets, a search finds a driver's offer and shows where the pickup and the
// drop-off are by name. No console error, no request to another host. Screenshots (desktop and mobile) are left in
// the build directory.
//
// node page.mjs COVOIT_BIN PORTO_PBF WORK_DIR
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { chromium } from 'playwright-core';

const [covoit, pbf, work] = process.argv.slice(2);
if (!work) {
  console.error('usage: node page.mjs COVOIT_BIN PORTO_PBF WORK_DIR');
  process.exit(2);
}
const failures = [];
function check(ok, what) {
  if (!ok) failures.push(what);
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
}

mkdirSync(work, { recursive: true });
const graph = join(work, 'page_porto.cvg');
if (!existsSync(graph) || !existsSync(graph + '.places'))
  execFileSync(covoit, ['import', pbf, '-o', graph], { stdio: ['ignore', 'ignore', 'inherit'] });
// the basemap: vector tiles of the same extract, made by Debian's tilemaker with covoit's configuration
const src = dirname(dirname(pbf));
if (!existsSync(graph + '.mbtiles'))
  execFileSync('tilemaker', ['--input', pbf, '--output', graph + '.mbtiles', '--config',
    join(src, 'tiles/tilemaker/config.json'), '--process', join(src, 'tiles/tilemaker/process.lua')],
  { stdio: ['ignore', 'ignore', 'inherit'] });
const db = join(work, 'page_trips.db');
rmSync(db, { force: true });

// the server, on a free port it names on its first line
const server = spawn(covoit, ['serve', '--graph', graph, '--db', db, '--listen', '127.0.0.1:0', '--threads', '2'],
  { stdio: ['ignore', 'pipe', 'inherit'] });
const base = await new Promise((resolve, reject) => {
  let out = '';
  const timer = setTimeout(() => reject(new Error(`covoit serve said: ${out}`)), 60000);
  server.stdout.on('data', (d) => {
    out += d;
    const m = out.match(/on (http:\/\/127\.0\.0\.1:\d+)\//);
    if (m) { clearTimeout(timer); resolve(m[1]); }
  });
  server.on('exit', (code) => reject(new Error(`covoit serve exited (${code}): ${out}`)));
});
server.stdout.resume();
let browser;
try {
  const get = async (path) => (await fetch(base + path)).json();
  const aliados = (await get('/v1/places?q=aliados&limit=1')).places[0];
  const campo = (await get('/v1/places?q=campo%20alegre&limit=1')).places[0];
  check(aliados && /Aliados/.test(aliados.name) && campo && /Campo Alegre/.test(campo.name),
    `the server's place index knows ${aliados && aliados.name} and ${campo && campo.name}`);
  // a driver's offer along the passenger's trip, tomorrow at 08:00 (the server's zone and the page's are both this
  // machine's), published once the page has the points
  const d = new Date(Date.now() + 86400000);
  const pad = (n) => String(n).padStart(2, '0');
  const depart = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T08:00`;
  let offered = false;

  browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox'] });
  for (const view of [{ name: 'desktop', width: 1280, height: 800 }, { name: 'mobile', width: 390, height: 844 }]) {
    const page = await browser.newPage({ viewport: { width: view.width, height: view.height } });
    const errors = [], outside = [], tiles = [];
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('request', (r) => { if (!r.url().startsWith(base)) outside.push(r.url()); });
    page.on('response', (r) => { if (r.url().includes('/tiles/')) tiles.push(r.status()); });
    await page.goto(base + '/');
    await page.waitForFunction(() => /Graph/.test(document.getElementById('status').textContent), null, { timeout: 20000 });
    // the basemap: this server's vector tiles, drawn on canvas
    // (until a tile with something on it is drawn: the empty ones at the edges of the extract come first at times)
    await page.waitForFunction(() => [...document.querySelectorAll('.leaflet-tile-pane canvas.leaflet-tile-loaded')]
      .some((t) => {
        const d = t.getContext('2d').getImageData(0, 0, t.width, t.height).data;
        for (let i = 4; i < d.length; i += 4 * 97) if (d[i] !== d[0] || d[i + 1] !== d[1] || d[i + 2] !== d[2]) return true;
        return false;
      }), null, { timeout: 30000, polling: 250 }).catch(() => {});
    const drawn = await page.evaluate(() => {
      const c = [...document.querySelectorAll('.leaflet-tile-pane canvas.leaflet-tile-loaded')];
      // a tile with something on it: pixels of more than one colour
      const varied = c.filter((t) => {
        const d = t.getContext('2d').getImageData(0, 0, t.width, t.height).data;
        for (let i = 4; i < d.length; i += 4 * 97) if (d[i] !== d[0] || d[i + 1] !== d[1] || d[i + 2] !== d[2]) return true;
        return false;
      });
      return { tiles: c.length, varied: varied.length, status: document.getElementById('status').textContent };
    });
    check(drawn.tiles > 0 && drawn.varied > 0 && tiles.includes(200) && tiles.every((s) => s === 200 || s === 204),
      `[${view.name}] the basemap is this server's tiles: ${drawn.tiles} drawn (${drawn.varied} with roads or land), ` +
      `${tiles.length} fetched from /tiles/ (${[...new Set(tiles)].join(', ')}); "${drawn.status}"`);

    // the start: typed, picked with the mouse
    await page.fill('#from-place', 'aliados');
    await page.waitForSelector('#from-list li[role="option"]', { timeout: 10000 });
    const options = await page.$$eval('#from-list li', (l) => l.map((x) => x.textContent));
    check(options.length > 0 && /Aliados/.test(options[0]), `[${view.name}] typing "aliados" suggests ${options[0]}`);
    check(await page.getAttribute('#from-place', 'aria-expanded') === 'true', `[${view.name}] the field says its list is open`);
    await page.click('#from-list li >> nth=0');
    check(/Aliados/.test(await page.inputValue('#from-place')), `[${view.name}] the start field shows the place picked`);
    // the destination: typed, picked with the keyboard
    await page.fill('#to-place', 'campo alegre');
    await page.waitForSelector('#to-list li[role="option"]', { timeout: 10000 });
    await page.press('#to-place', 'ArrowDown');
    check(await page.getAttribute('#to-list li >> nth=0', 'aria-selected') === 'true', `[${view.name}] ArrowDown highlights the first suggestion`);
    await page.press('#to-place', 'Enter');
    check(/Campo Alegre/.test(await page.inputValue('#to-place')), `[${view.name}] Enter picks it for the destination`);
    await page.waitForFunction(() => / min| s /.test(document.getElementById('route-info').textContent), null, { timeout: 15000 });
    check(true, `[${view.name}] the route is drawn: ${await page.textContent('#route-info')}`);

    if (!offered) {
      const [from, to] = await page.evaluate(() => window.covoit.points());
      const offer = await (await fetch(base + '/v1/offers', { method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ from, to, depart, seats: 3, owner: 'driver-test' }) })).json();
      check(offer.code === 'Ok', `a driver's offer along that trip, tomorrow 08:00 (${offer.code})`);
      offered = true;
    }
    // a search finds the driver's offer; its pickup and drop-off are named
    await page.click('#search-form button[type="submit"]');
    await page.waitForFunction(() => document.querySelector('#matches li') || !document.getElementById('error').hidden ||
      /No ride/.test(document.getElementById('search-info').textContent), null, { timeout: 15000 });
    const said = `${await page.textContent('#search-info')} ${await page.textContent('#error')}`;
    check(await page.$('#matches li') !== null, `[${view.name}] the search finds the driver's offer (${said.trim()})`);
    await page.waitForFunction(() => /pickup .+ · drop-off /.test((document.querySelector('#matches .match-places') || {}).textContent || ''),
      null, { timeout: 15000 });
    const named = await page.textContent('#matches .match-places');
    check(/Aliados/.test(named) && /Campo Alegre/.test(named), `[${view.name}] the match says where: "${named}"`);
    await page.screenshot({ path: join(work, `page-${view.name}-search.png`) }); /* the README's picture */
    if (view.name === 'desktop') {
      // the passenger books the ride; the driver, in a browser of their own, accepts; the passenger sees it
      await page.fill('#me', 'passenger-test');
      await page.dispatchEvent('#me', 'change');
      await page.click('#matches li >> nth=0 >> button.book');
      const pending = await page.waitForSelector('#my-trips li[data-booking] .status-pending', { timeout: 15000 })
        .then(() => true, () => false);
      check(pending, `[${view.name}] the passenger books: "${(await page.textContent('#my-trips')).trim().slice(0, 160)}"`);
      const ctx2 = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      const drv = await ctx2.newPage();
      const drvErrors = [];
      drv.on('pageerror', (e) => drvErrors.push(String(e)));
      drv.on('console', (m) => { if (m.type() === 'error') drvErrors.push(m.text()); });
      await drv.goto(base + '/');
      await drv.fill('#me', 'driver-test');
      await drv.dispatchEvent('#me', 'change');
      const accept = await drv.waitForSelector('#my-trips li[data-booking] button:has-text("Accept")', { timeout: 15000 })
        .then((b) => b, () => null);
      check(accept !== null, `[${view.name}] the driver sees the passenger's booking to accept: "${(await drv.textContent('#my-trips')).trim().slice(0, 160)}"`);
      if (accept) await accept.click();
      const accepted = await drv.waitForSelector('#my-trips .status-accepted', { timeout: 15000 }).then(() => true, () => false);
      check(accepted && drvErrors.length === 0, `[${view.name}] the driver accepts it${drvErrors.length ? ': ' + drvErrors.join(' | ') : ''}`);
      await page.click('#refresh-trips');
      const seen = await page.waitForSelector('#my-trips .status-accepted', { timeout: 15000 }).then(() => true, () => false);
      check(seen, `[${view.name}] the passenger sees it accepted`);
      await ctx2.close();
      // and cancels it: the seat comes back
      await page.click('#my-trips li[data-booking] button:has-text("Cancel")');
      const cancelled = await page.waitForSelector('#my-trips .status-cancelled', { timeout: 15000 }).then(() => true, () => false);
      check(cancelled, `[${view.name}] the passenger cancels it`);
      // a click on the map moves the destination, and its field names the new point
      const before = await page.inputValue('#to-place');
      const box = await page.locator('#map').boundingBox();
      await page.mouse.click(box.x + box.width * 0.75, box.y + box.height * 0.5);
      await page.waitForFunction((old) => document.getElementById('to-place').value !== old, before, { timeout: 10000 });
      check((await page.inputValue('#to-place')).length > 2, `[${view.name}] a click on the map names its point: "${await page.inputValue('#to-place')}"`);
      // no ride at 03:00: what to relax, and the search kept as a request
      await page.fill('#s-depart', (await page.inputValue('#s-depart')).slice(0, 11) + '03:00');
      await page.click('#search-form button[type="submit"]');
      const none = await page.waitForSelector('#search-info .save-request', { timeout: 15000 }).then(() => true, () => false);
      const relax = await page.$$eval('#search-info .relax button', (b) => b.map((x) => x.textContent));
      check(none && relax.length === 3, `[${view.name}] no ride at 03:00: "${(await page.textContent('#search-info')).trim().slice(0, 120)}"`);
      if (none) await page.click('#search-info .save-request');
      const saved = await page.waitForSelector('#search-info .ok', { timeout: 15000 }).then(() => true, () => false);
      check(saved, `[${view.name}] the search is saved as a request: "${saved ? await page.textContent('#search-info .ok') : await page.textContent('#error')}"`);
      // a driver publishes a weekly commute from the page
      await page.click('#offer > summary');
      await page.fill('#o-owner', 'commuter-test');
      await page.check('#o-regular');
      await page.uncheck('#o-weekly input[value="fri"]');
      await page.click('#offer-form button[type="submit"]');
      const weekly = await page.waitForSelector('#offer-info .ok', { timeout: 15000 }).then(() => true, () => false);
      const said = weekly ? await page.textContent('#offer-info .ok') : await page.textContent('#error');
      check(weekly && /every mon,tue,wed,thu at 08:00/.test(said), `[${view.name}] a weekly offer is published: "${said}"`);
    }
    await page.screenshot({ path: join(work, `page-${view.name}.png`) });
    check(errors.length === 0, `[${view.name}] no console or page error${errors.length ? ': ' + errors.join(' | ') : ''}`);
    check(outside.length === 0, `[${view.name}] no request to another host${outside.length ? ': ' + outside.join(' ') : ''}`);
    await page.close();
  }
} catch (e) {
  check(false, `the test ran to its end: ${e.stack || e}`);
} finally {
  if (browser) await browser.close();
  server.kill('SIGTERM');
}
if (failures.length) {
  console.error(`${failures.length} check(s) failed`);
  process.exit(1);
}
console.log('all checks passed');
