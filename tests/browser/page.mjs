// SPDX-License-Identifier: AGPL-3.0-or-later
// page.mjs — the map page in a real browser (Debian's Chromium, headless, driven by playwright-core) against a real
// `covoit serve` on 127.0.0.1 with the bundled Porto extract, its place index and a trip database: a passenger types
// the start and the destination and picks them from the suggestions (by mouse and by keyboard), the route is drawn,
// a click on the map names the point it sets, a search finds a driver's offer and shows where the pickup and the
// drop-off are by name. No console error, no request to another host. Screenshots (desktop and mobile) are left in
// the build directory.
//
// Then both sides of a ride: two drivers' offers, sorted by time and by price, the passenger books one, the
// driver accepts it under My offers in a browser of their own (seats left per date), the passenger sees it accepted
// and cancels; the route drawn is the matcher's plan with its legend; a weekly offer; the no-ride path; the page in
// Portuguese from the browser's language and in French when switched; on a phone the results come above the fold
// and every control is a finger's size; axe-core finds no serious accessibility fault.
//
// node page.mjs COVOIT_BIN PORTO_PBF WORK_DIR
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { chromium } from 'playwright-core';
import { chromiumPath } from './chromium.mjs';

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

const [covoit, pbf, work] = process.argv.slice(2);
if (!work) {
  console.error('usage: node page.mjs COVOIT_BIN PORTO_PBF WORK_DIR');
  process.exit(2);
}
const chromePath = chromiumPath('browser_page');
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

// a server on the trip database dbPath, on a free port it names on its first line
const servers = [];
async function startServer(dbPath) {
  const proc = spawn(covoit, ['serve', '--graph', graph, '--db', dbPath, '--listen', '127.0.0.1:0', '--threads', '2',
    '--source-url', 'https://git.example.org/coop/covoit'], { stdio: ['ignore', 'pipe', 'inherit'] });
  servers.push(proc);
  const url = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`covoit serve said: ${out}`)), 60000);
    proc.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/on (http:\/\/127\.0\.0\.1:\d+)\//);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    proc.on('exit', (code) => reject(new Error(`covoit serve exited (${code}): ${out}`)));
  });
  proc.stdout.resume();
  return url;
}
const base = await startServer(db);
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
  const later = `${depart.slice(0, 11)}08:15`;
  let offered = false, first = 0, cheap = 0;

  // axe-core's serious and critical findings (WCAG 2 A and AA) on the page as it is now
  const audit = async (page) => {
    await page.evaluate(axeSource); /* from the test, not the page: the page's policy allows only its own scripts */
    const res = await page.evaluate(() => window.axe.run(document, { runOnly: ['wcag2a', 'wcag2aa'] }));
    return res.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id}: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
  };

  browser = await chromium.launch({ executablePath: chromePath, args: ['--no-sandbox'] });
  for (const view of [{ name: 'desktop', width: 1280, height: 800 }, { name: 'mobile', width: 390, height: 844 }]) {
    const page = await browser.newPage({ viewport: { width: view.width, height: view.height }, locale: 'en-GB' });
    const errors = [], outside = [], tiles = [];
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('request', (r) => { if (!r.url().startsWith(base)) outside.push(r.url()); });
    page.on('response', (r) => { if (r.url().includes('/tiles/')) tiles.push(r.status()); });
    await page.goto(base + '/');
    await page.waitForFunction(() => document.getElementById('status').dataset.ready, null, { timeout: 20000 });
    // the licence and the operator's source link (AGPL-3.0 section 13)
    const lic = await page.evaluate(() => {
      const p = document.getElementById('licence'), a = p.querySelector('a');
      return { hidden: p.hidden, text: p.textContent, href: a && a.getAttribute('href') };
    });
    check(!lic.hidden && /AGPL-3\.0-or-later/.test(lic.text) && lic.href === 'https://git.example.org/coop/covoit',
      `[${view.name}] the page names its licence and links to the source (${JSON.stringify(lic)})`);
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
    await page.waitForSelector('#from-list li[role="option"]', { timeout: 30000 });
    const options = await page.$$eval('#from-list li', (l) => l.map((x) => x.textContent));
    check(options.length > 0 && /Aliados/.test(options[0]), `[${view.name}] typing "aliados" suggests ${options[0]}`);
    check(await page.getAttribute('#from-place', 'aria-expanded') === 'true', `[${view.name}] the field says its list is open`);
    await page.click('#from-list li >> nth=0');
    check(/Aliados/.test(await page.inputValue('#from-place')), `[${view.name}] the start field shows the place picked`);
    // the destination: typed, picked with the keyboard
    await page.fill('#to-place', 'campo alegre');
    await page.waitForSelector('#to-list li[role="option"]', { timeout: 30000 });
    await page.press('#to-place', 'ArrowDown');
    check(await page.getAttribute('#to-list li >> nth=0', 'aria-selected') === 'true', `[${view.name}] ArrowDown highlights the first suggestion`);
    await page.press('#to-place', 'Enter');
    check(/Campo Alegre/.test(await page.inputValue('#to-place')), `[${view.name}] Enter picks it for the destination`);
    await page.waitForFunction(() => / min| s /.test(document.getElementById('route-info').textContent), null, { timeout: 30000 });
    check(true, `[${view.name}] the route is drawn: ${await page.textContent('#route-info')}`);

    if (!offered) {
      const [from, to] = await page.evaluate(() => window.covoit.points());
      const post = async (body) => (await fetch(base + '/v1/offers', { method: 'POST',
        headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) })).json();
      const offer = await post({ from, to, depart, seats: 3, owner: 'driver-test' });
      const other = await post({ from, to, depart: later, seats: 2, owner: 'driver-other', price_per_km: 0.02 });
      check(offer.code === 'Ok' && other.code === 'Ok',
        `two drivers' offers along that trip, tomorrow 08:00 and 08:15 (cheaper) (${offer.code}, ${other.code})`);
      first = offer.offer.id;
      cheap = other.offer.id;
      offered = true;
    }
    // a search finds the driver's offer; its pickup and drop-off are named
    await page.click('#search-form button[type="submit"]');
    await page.waitForFunction(() => document.querySelector('#matches li') || !document.getElementById('error').hidden ||
      /No ride/.test(document.getElementById('search-info').textContent), null, { timeout: 30000 });
    const said = `${await page.textContent('#search-info')} ${await page.textContent('#error')}`;
    check(await page.$('#matches li') !== null, `[${view.name}] the search finds the driver's offer (${said.trim()})`);
    // (the times come at once, the names when the place index answers: "pickup 08:00" first, then "pickup NAME, 08:00")
    await page.waitForFunction(() => /pickup [^·]+, [0-9:]+ · drop-off [^·]+, /.test((document.querySelector('#matches .match-places') || {}).textContent || ''),
      null, { timeout: 30000 }).catch(() => {});
    const named = await page.textContent('#matches .match-places');
    check(/Aliados/.test(named) && /Campo Alegre/.test(named), `[${view.name}] the match says where: "${named}"`);
    // the result drawn is the matcher's plan: its length is the match's, with a legend of the pins and lines
    await page.waitForFunction(() => /route with you/.test(document.getElementById('search-info').textContent), null,
      { timeout: 30000 }).catch(() => {});
    const drawnRoute = await page.evaluate(async (id) => {
      const info = document.getElementById('search-info').textContent;
      const dashed = document.querySelectorAll('.leaflet-overlay-pane path[stroke-dasharray]').length;
      return { info, dashed, areas: document.querySelectorAll('.leaflet-overlay-pane path.driver-area').length,
        legend: document.querySelectorAll('.legend > div').length,
        pins: ['p', 'd', 'a', 'b'].map((c) => document.querySelectorAll('.leaflet-marker-pane .pin.' + c).length) };
    }, first);
    const shown = /, ([0-9.]+) km, of which/.exec(drawnRoute.info);
    check(shown && drawnRoute.dashed === 1 && drawnRoute.areas === 2 && drawnRoute.legend === 7 &&
      drawnRoute.pins.every((n) => n === 1),
      `[${view.name}] the best result is drawn as the matcher plans it, with a legend: "${drawnRoute.info}" ` +
      `(${drawnRoute.dashed} dashed route, ${drawnRoute.areas} areas for the driver's start and end, ` +
      `${drawnRoute.legend} legend rows, pins P D A B ${drawnRoute.pins.join(' ')})`);
    const api = await page.evaluate(async () => {
      const [from, to] = window.covoit.points();
      const res = await fetch('/v1/search?limit=20&geometry=true', { method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ from, to, depart: document.getElementById('s-depart').value, seats: 1 }) });
      return (await res.json()).matches;
    });
    const best = api && api[0];
    check(best && shown && Math.abs(Number(shown[1]) - best.driver_total.distance / 1000) < 0.01 &&
      best.route && Math.abs(best.route.distance - best.driver_total.distance) < 0.2,
      `[${view.name}] the length shown is the match's (${best && best.driver_total.distance} m, its route ${best && best.route && best.route.distance} m)`);
    // the price per seat and for the booking; sorting by price and by time
    const price = await page.textContent('#matches li >> nth=0 >> .match-price');
    check(/€/.test(price) && /per seat/.test(price) && /for 1 seat · \d seats left/.test(price), `[${view.name}] the price is said per seat and per booking: "${price}"`);
    const order = async (by) => {
      await page.selectOption('#sort', by);
      return page.$$eval('#matches > li', (l) => l.map((x) => Number(x.dataset.offer)));
    };
    const byPrice = await order('price'), byTime = await order('time');
    check(byPrice[0] === cheap && byTime[0] === first && byPrice.length >= 2,
      `[${view.name}] sorted by price the cheaper offer comes first (${byPrice.join(', ')}), by time the earlier (${byTime.join(', ')})`);
    await page.selectOption('#sort', 'best');
    if (view.name === 'mobile') {
      // on a phone: the results above the fold, every control in the panel a finger's size
      const fold = await page.evaluate(() => {
        const r = document.querySelector('#matches > li').getBoundingClientRect();
        const small = [...document.querySelectorAll('#panel button, #panel select, #panel input:not([type=checkbox])')]
          .filter((e) => e.offsetParent !== null && e.getBoundingClientRect().height < 44)
          .map((e) => e.id || e.className || e.textContent.trim().slice(0, 20));
        return { top: r.top, bottom: r.bottom, small };
      });
      check(fold.top >= 0 && fold.top < view.height - 60 && fold.small.length === 0,
        `[mobile] the first result is above the fold (top ${Math.round(fold.top)} px of ${view.height}); ` +
        `controls under 44 px: ${fold.small.length ? fold.small.join(', ') : 'none'}`);
    }
    // keyboard: a result is chosen with Enter
    await page.focus('#matches li >> nth=1 >> button.match');
    await page.keyboard.press('Enter');
    check(await page.getAttribute('#matches li >> nth=1 >> button.match', 'aria-pressed') === 'true',
      `[${view.name}] Enter on a result draws it`);
    await page.click('#matches li >> nth=0 >> button.match');
    await page.screenshot({ path: join(work, `page-${view.name}-search.png`) }); /* the README's picture */
    const faults = await audit(page);
    check(faults.length === 0, `[${view.name}] axe-core: no serious accessibility fault${faults.length ? ': ' + faults.join(' | ') : ''}`);
    if (view.name === 'desktop') {
      // the passenger books the ride; the driver, in a browser of their own, accepts; the passenger sees it
      await page.fill('#me', 'passenger-test');
      await page.dispatchEvent('#me', 'change');
      await page.click(`#matches li[data-offer="${first}"] >> button.book`);
      const pending = await page.waitForSelector('#my-trips li[data-booking] .status-pending', { timeout: 30000 })
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
      const accept = await drv.waitForSelector('#my-offers li[data-booking] button[data-action="accept"]', { timeout: 30000 })
        .then((b) => b, () => null);
      check(accept !== null, `[${view.name}] the driver sees the passenger's booking under My offers: "${(await drv.textContent('#my-offers')).trim().slice(0, 200)}"`);
      if (accept) await accept.click();
      const accepted = await drv.waitForSelector('#my-offers .status-accepted', { timeout: 30000 }).then(() => true, () => false);
      check(accepted && drvErrors.length === 0, `[${view.name}] the driver accepts it${drvErrors.length ? ': ' + drvErrors.join(' | ') : ''}`);
      const left = accepted ? await drv.textContent(`#my-offers li[data-offer="${first}"] .seats-left`) : '';
      check(/Seats left: .+: 2/.test(left), `[${view.name}] the driver sees the seats left on that date: "${left}"`);
      await page.click('#refresh-trips');
      const seen = await page.waitForSelector('#my-trips .status-accepted', { timeout: 30000 }).then(() => true, () => false);
      check(seen, `[${view.name}] the passenger sees it accepted`);
      await ctx2.close();
      // and cancels it: the seat comes back
      await page.click('#my-trips li[data-booking] button[data-action="cancel"]');
      const cancelled = await page.waitForSelector('#my-trips .status-cancelled', { timeout: 30000 }).then(() => true, () => false);
      check(cancelled, `[${view.name}] the passenger cancels it`);
      // a click on the map moves the destination, and its field names the new point
      const before = await page.inputValue('#to-place');
      const box = await page.locator('#map').boundingBox();
      await page.mouse.click(box.x + box.width * 0.75, box.y + box.height * 0.5);
      await page.waitForFunction((old) => document.getElementById('to-place').value !== old, before, { timeout: 30000 });
      check((await page.inputValue('#to-place')).length > 2, `[${view.name}] a click on the map names its point: "${await page.inputValue('#to-place')}"`);
      // no ride at 03:00: what to relax, and the search kept as a request
      await page.fill('#s-depart', (await page.inputValue('#s-depart')).slice(0, 11) + '03:00');
      await page.click('#search-form button[type="submit"]');
      const none = await page.waitForSelector('#search-info .save-request', { timeout: 30000 }).then(() => true, () => false);
      const relax = await page.$$eval('#search-info .relax button', (b) => b.map((x) => x.textContent));
      check(none && relax.length === 3, `[${view.name}] no ride at 03:00: "${(await page.textContent('#search-info')).trim().slice(0, 120)}"`);
      if (none) await page.click('#search-info .save-request');
      const saved = await page.waitForSelector('#search-info .ok', { timeout: 30000 }).then(() => true, () => false);
      check(saved, `[${view.name}] the search is saved as a request: "${saved ? await page.textContent('#search-info .ok') : await page.textContent('#error')}"`);
      // a driver publishes a weekly commute from the page
      await page.click('#offer > summary');
      await page.fill('#o-owner', 'commuter-test');
      await page.check('#o-regular');
      await page.uncheck('#o-weekly input[value="fri"]');
      await page.click('#offer-form button[type="submit"]');
      const weekly = await page.waitForSelector('#offer-info .ok', { timeout: 30000 }).then(() => true, () => false);
      const said = weekly ? await page.textContent('#offer-info .ok') : await page.textContent('#error');
      const sched = weekly ? await page.getAttribute('#offer-info .ok', 'data-schedule') : '';
      check(weekly && sched === 'mon,tue,wed,thu 08:00' && /every Mon, Tue, Wed, Thu at 08:00/.test(said),
        `[${view.name}] a weekly offer is published: "${said}"`);
    }
    await page.screenshot({ path: join(work, `page-${view.name}.png`) });
    check(errors.length === 0, `[${view.name}] no console or page error${errors.length ? ': ' + errors.join(' | ') : ''}`);
    check(outside.length === 0, `[${view.name}] no request to another host${outside.length ? ': ' + outside.join(' ') : ''}`);
    await page.close();
  }

  // yesterday's ride (published, booked and accepted with the CLI's clock set back a day): each side says from the
  // page that it took place; the second writes the carpool proof (docs/proofs.md)
  {
    const y = new Date(Date.now() - 86400000);
    const ydate = `${y.getFullYear()}-${pad(y.getMonth() + 1)}-${pad(y.getDate())}`;
    const cli = (...args) => JSON.parse(execFileSync(covoit, [...args, '--graph', graph, '--db', db, '--now',
      `${ydate}T06:00`], { encoding: 'utf8' }));
    const at = (p) => `${p.location[0]},${p.location[1]}`;
    const po = cli('offer', 'add', '--from', at(aliados), '--to', at(campo), '--depart', `${ydate}T08:00`,
      '--owner', 'past-driver').offer.id;
    const pr = cli('request', 'add', '--from', at(aliados), '--to', at(campo), '--depart', `${ydate}T08:00`,
      '--owner', 'past-rider').request.id;
    const pb = cli('book', String(po), String(pr)).booking.id;
    cli('booking', 'accept', String(pb));
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-GB' });
    const side = async (who, list) => {
      const p = await ctx.newPage();
      await p.goto(base + '/');
      await p.waitForFunction(() => document.getElementById('status').dataset.ready, null, { timeout: 20000 });
      await p.fill('#me', who);
      await p.dispatchEvent('#me', 'change');
      if (list === '#my-offers' && !await p.evaluate(() => document.getElementById('my-offers-box').open))
        await p.click('#my-offers-box > summary');
      const sel = `${list} li[data-booking="${pb}"] .completion button[data-action="complete"]`;
      // the lists are drawn at load and again for the name typed: a click while the second drawing has just
      // replaced the button (its new one comes with its completion state, a request later) lands on an empty box;
      // so the page is let settle, and the click is made again, on the button as drawn then, until it posts
      await p.waitForLoadState('networkidle').catch(() => null);
      const btn = await p.waitForSelector(sel, { timeout: 30000 }).then((b) => b, () => null);
      const label = btn ? await btn.textContent() : await p.textContent(list);
      let posted = null;
      for (let attempt = 0; btn && !posted && attempt < 3; attempt++) {
        const b = await p.waitForSelector(sel, { timeout: 30000 }).catch(() => null);
        if (!b)
          break;
        const answer = p.waitForResponse((r) => r.url().endsWith(`/v1/bookings/${pb}/complete`) &&
          r.request().method() === 'POST', { timeout: 10000 }).catch(() => null);
        await b.click().catch(() => null);
        posted = await answer;
      }
      if (btn)
        await p.click(list === '#my-offers' ? '#refresh-offers' : '#refresh-trips');
      // its state and words read together (a list drawn again has an empty box until its state comes)
      const seen = await p.waitForFunction((sel) => {
        const c = document.querySelector(sel);
        return c && c.dataset.state && c.dataset.state !== 'open' && { state: c.dataset.state, text: c.textContent };
      }, `${list} li[data-booking="${pb}"] .completion`, { timeout: 30000 }).then((h) => h.jsonValue(), () => null);
      const error = seen ? '' : `${await p.textContent('#error')} list: ${(await p.textContent(list)).slice(0, 300)}`;
      await p.close();
      return { label, state: seen && seen.state, text: seen ? seen.text : `(nothing: ${error})` };
    };
    const rider = await side('past-rider', '#my-trips');
    check(/^The ride of .+ took place$/.test(rider.label) && rider.state === 'mine' && /waiting for the driver/.test(rider.text),
      `the passenger says yesterday's ride took place: "${rider.label}" → "${rider.text}"`);
    const driver = await side('past-driver', '#my-offers');
    check(driver.state === 'waiting' && /confirmed by both: carpool proof recorded/.test(driver.text),
      `the driver says so too, and the proof is written: "${driver.label}" → "${driver.text}"`);
    const proof = (await (await fetch(`${base}/v1/bookings/${pb}/complete?date=${ydate}`)).json()).completion.proof;
    check(proof && proof.proof.operator_journey_id === `booking-${pb}-${ydate}` && proof.proof.distance > 500,
      `the proof is the register's journey of booking ${pb} that day: ${JSON.stringify(proof && proof.proof).slice(0, 160)}`);
    await ctx.close();
  }

  // the page in Portuguese from the browser's language, in French when switched: words, dates and prices
  const pt = await browser.newPage({ viewport: { width: 1280, height: 800 }, locale: 'pt-PT' });
  const ptErrors = [];
  pt.on('pageerror', (e) => ptErrors.push(String(e)));
  pt.on('console', (m) => { if (m.type() === 'error') ptErrors.push(m.text()); });
  await pt.goto(base + '/');
  await pt.waitForFunction(() => document.getElementById('status').dataset.ready, null, { timeout: 20000 });
  const ptWords = await pt.evaluate(() => ({ lang: document.documentElement.lang,
    find: document.querySelector('#find > summary').textContent, zone: document.querySelector('#find .hint').textContent }));
  check(ptWords.lang === 'pt' && ptWords.find === 'Encontrar boleia' && /fuso horário/.test(ptWords.zone),
    `a browser in Portuguese gets the page in Portuguese: "${ptWords.find}", "${ptWords.zone}"`);
  await pt.selectOption('#lang', 'fr');
  await pt.fill('#from-place', 'aliados');
  await pt.waitForSelector('#from-list li[role="option"]', { timeout: 30000 });
  await pt.click('#from-list li >> nth=0');
  await pt.fill('#to-place', 'campo alegre');
  await pt.waitForSelector('#to-list li[role="option"]', { timeout: 30000 });
  await pt.click('#to-list li >> nth=0');
  await pt.fill('#s-depart', depart);
  await pt.click('#search-form button[type="submit"]');
  const fr = await pt.waitForSelector('#matches li .match-price', { timeout: 30000 }).then(() => true, () => false);
  const frText = fr ? await pt.evaluate(() => ({ find: document.querySelector('#find > summary').textContent,
    head: document.querySelector('#matches .match-head').textContent,
    price: document.querySelector('#matches .match-price').textContent })) : {};
  check(fr && frText.find === 'Trouver un trajet' && /^Offre n° \d+ · [a-zé]+\.? \d+ [a-zéû]+\.?,? 0?8:\d\d/.test(frText.head) &&
    /\d,\d\d\s€ par place · .+ pour 1 place · \d places libres/.test(frText.price),
    `switched to French: "${frText.find}", "${frText.head}", "${frText.price}"`);
  check(ptErrors.length === 0, `[pt/fr] no console or page error${ptErrors.length ? ': ' + ptErrors.join(' | ') : ''}`);
  await pt.screenshot({ path: join(work, 'page-fr.png') });
  await pt.close();

  // the territory's statistics page: the charts drawn (Chart.js from this server) and the totals those of /v1/stats
  const sp = await browser.newPage({ viewport: { width: 1280, height: 900 }, locale: 'en-GB' });
  const spErrors = [], spOutside = [];
  sp.on('pageerror', (e) => spErrors.push(String(e)));
  sp.on('console', (m) => { if (m.type() === 'error') spErrors.push(m.text()); });
  sp.on('request', (q) => { if (!q.url().startsWith(base)) spOutside.push(q.url()); });
  await sp.goto(base + '/static/stats.html');
  await sp.fill('#from', depart.slice(0, 10));
  await sp.fill('#to', new Date(Date.now() + 30 * 86400000).toISOString().slice(0, 10));
  await sp.fill('#cell', '50');
  await sp.click('#period button[type="submit"]');
  await sp.waitForFunction(() => document.body.dataset.ready && /trips offered/.test(document.getElementById('info').textContent),
    null, { timeout: 30000 }).catch(() => {});
  const shownStats = await sp.evaluate(() => ({ info: document.getElementById('info').textContent,
    charts: ['trips', 'km'].filter((id) => window.Chart.getChart(document.getElementById(id))).length,
    rows: document.querySelectorAll('#rows tbody tr').length }));
  const apiStats = await (await fetch(`${base}/v1/stats?from=${depart.slice(0, 10)}&to=${new Date(Date.now() + 30 * 86400000).toISOString().slice(0, 10)}&cell_km=50`)).json();
  check(shownStats.charts === 2 && shownStats.rows === apiStats.rows.length &&
    shownStats.info.includes(`${apiStats.total.offered} trips offered`) && shownStats.info.includes(`${apiStats.suppressed} with fewer`) &&
    spErrors.length === 0 && spOutside.length === 0,
  `the statistics page draws its 2 charts and ${shownStats.rows} rows, as /v1/stats says: "${shownStats.info}"` +
    `${spErrors.length ? ' errors: ' + spErrors.join(' | ') : ''}${spOutside.length ? ' other hosts: ' + spOutside.join(' ') : ''}`);
  await sp.screenshot({ path: join(work, 'page-stats.png') });
  // in French: the words, the legend and the local number format, the same figures
  await sp.selectOption('#lang', 'fr');
  const frStats = await sp.evaluate(() => ({ info: document.getElementById('info').textContent,
    head: document.querySelector('#rows thead th').textContent, title: document.title, lang: document.documentElement.lang,
    legend: window.Chart.getChart(document.getElementById('trips')).data.datasets.map((d) => d.label).join(',') }));
  check(frStats.lang === 'fr' && frStats.head === 'Semaine' && /statistiques/.test(frStats.title) &&
    frStats.legend === 'proposés,demandés,appariés' && frStats.info.includes(`${apiStats.total.offered} trajets proposés`),
  `the statistics page in French: "${frStats.info}", legend ${frStats.legend}, title "${frStats.title}"`);
  await sp.selectOption('#lang', 'en');
  await sp.close();

  // with API keys on: each side types its key once; the driver publishes from the page, the passenger books, the
  // driver accepts; the basemap still draws (tiles need no key)
  const kdb = join(work, 'page_keys.db');
  rmSync(kdb, { force: true });
  const key = (client) => JSON.parse(execFileSync(covoit, ['key', 'add', '--db', kdb, '--client', client, '--scopes',
    'routing,search,trips'], { encoding: 'utf8' })).secret;
  const riderKey = key('riders'), driverKey = key('drivers');
  const kbase = await startServer(kdb);
  const side = async (secret, who) => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-GB' });
    const p = await ctx.newPage();
    p.errors = [];
    p.outside = [];
    p.on('pageerror', (e) => p.errors.push(String(e)));
    p.on('console', (m) => { if (m.type() === 'error') p.errors.push(m.text()); });
    p.on('request', (q) => { if (!q.url().startsWith(kbase)) p.outside.push(q.url()); });
    await p.goto(kbase + '/');
    await p.waitForFunction(() => document.getElementById('status').dataset.ready, null, { timeout: 20000 });
    await p.click('#key-form >> xpath=.. >> summary');
    await p.fill('#key', secret);
    await p.dispatchEvent('#key', 'change');
    await p.fill('#me', who);
    await p.dispatchEvent('#me', 'change');
    for (const [field, q] of [['#from-place', 'aliados'], ['#to-place', 'campo alegre']]) {
      await p.fill(field, q);
      await p.waitForSelector(field.replace('place', 'list') + ' li[role="option"]', { timeout: 30000 });
      await p.click(field.replace('place', 'list') + ' li >> nth=0');
    }
    await p.waitForFunction(() => / min| s /.test(document.getElementById('route-info').textContent), null, { timeout: 30000 });
    return { ctx, p };
  };
  const drvK = await side(driverKey, 'driver-k');
  await drvK.p.click('#offer > summary');
  await drvK.p.fill('#o-depart', depart);
  await drvK.p.click('#offer-form button[type="submit"]');
  const kOffer = await drvK.p.waitForSelector('#offer-info .ok', { timeout: 30000 }).then(() => true, () => false);
  const kSaid = kOffer ? await drvK.p.textContent('#offer-info .ok') : await drvK.p.textContent('#error');
  check(kOffer && /for drivers:driver-k/.test(kSaid), `[keys] the driver publishes with their key: "${kSaid}"`);
  const rideK = await side(riderKey, 'rider-k');
  await rideK.p.fill('#s-depart', depart);
  await rideK.p.click('#search-form button[type="submit"]');
  const kFound = await rideK.p.waitForSelector('#matches li button.book', { timeout: 30000 }).then(() => true, () => false);
  if (kFound) await rideK.p.click('#matches li >> nth=0 >> button.book');
  const kPending = kFound && await rideK.p.waitForSelector('#my-trips .status-pending', { timeout: 30000 }).then(() => true, () => false);
  check(kPending, `[keys] the passenger finds the ride and books it with their key: "${(await rideK.p.textContent('#my-trips')).trim().slice(0, 120)}"${kFound ? '' : ' ' + await rideK.p.textContent('#error')}`);
  if (!await drvK.p.evaluate(() => document.getElementById('my-offers-box').open)) await drvK.p.click('#my-offers-box > summary');
  await drvK.p.click('#refresh-offers');
  const kAccept = await drvK.p.waitForSelector('#my-offers button[data-action="accept"]', { timeout: 30000 }).then((b) => b, () => null);
  if (kAccept) await kAccept.click();
  const kDone = kAccept && await drvK.p.waitForSelector('#my-offers .status-accepted', { timeout: 30000 }).then(() => true, () => false);
  await rideK.p.click('#refresh-trips');
  const kSeen = kDone && await rideK.p.waitForSelector('#my-trips .status-accepted', { timeout: 30000 }).then(() => true, () => false);
  check(kDone && kSeen, '[keys] the driver accepts it, the passenger sees it accepted');
  const kTiles = await rideK.p.evaluate(() => document.querySelectorAll('.leaflet-tile-pane canvas.leaflet-tile-loaded').length);
  const kErr = [...drvK.p.errors, ...rideK.p.errors], kOut = [...drvK.p.outside, ...rideK.p.outside];
  check(kTiles > 0 && kErr.length === 0 && kOut.length === 0, `[keys] the basemap draws (${kTiles} tiles), no error` +
    `${kErr.length ? ': ' + kErr.join(' | ') : ''}, no other host${kOut.length ? ': ' + kOut.join(' ') : ''}`);
  await drvK.ctx.close();
  await rideK.ctx.close();
} catch (e) {
  check(false, `the test ran to its end: ${e.stack || e}`);
} finally {
  if (browser) await browser.close();
  servers.forEach((p) => p.kill('SIGTERM'));
}
if (failures.length) {
  // said again at the end, where a long log's tail shows it
  for (const f of failures) console.error(`FAIL ${f}`);
  console.error(`${failures.length} check(s) failed`);
  process.exit(1);
}
console.log('all checks passed');
