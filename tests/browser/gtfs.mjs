// SPDX-License-Identifier: AGPL-3.0-or-later
// gtfs.mjs — covoit's GTFS feed read by a real consumer, the npm package `gtfs` (node-gtfs, which imports feeds
// into SQLite the way trip planners' tooling does): drivers' offers on Monaco (a single trip, a weekly commute, a
// trip made full by an accepted booking on one of its dates) are exported with `covoit export gtfs`, and again
// fetched from a running `covoit serve` at /feeds/gtfs.zip (with its ETag and a 304 for If-None-Match); node-gtfs
// imports both without error, and its queries return our routes (type 1551), trips, stop times by arrangement, the
// weekly calendar with the full date taken out, the single trip's date, the shapes and the GTFS-Flex booking rules.
// No stop is a driver's exact origin or destination: two drivers living in one grid cell share its meeting area.
//
// node gtfs.mjs COVOIT_BIN MONACO_PBF WORK_DIR
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { closeDb, getBookingRules, getCalendarDates, getCalendars, getRoutes, getShapes, getStops, getStoptimes,
  getTrips, importGtfs, openDb } from 'gtfs';

const [covoit, pbf, work] = process.argv.slice(2);
if (!work) {
  console.error('usage: node gtfs.mjs COVOIT_BIN MONACO_PBF WORK_DIR');
  process.exit(2);
}
const failures = [];
function check(ok, what) {
  if (!ok) failures.push(what);
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
}
const run = (args) => JSON.parse(execFileSync(covoit, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }));

mkdirSync(work, { recursive: true });
const graph = join(work, 'gtfs_monaco.cvg');
if (!existsSync(graph) || !existsSync(graph + '.places'))
  execFileSync(covoit, ['import', pbf, '-o', graph, '--quiet']);
const db = join(work, 'gtfs_trips.db');
for (const f of [db, db + '-wal', db + '-shm']) rmSync(f, { force: true });
const g = ['--graph', graph, '--db', db, '--tz', 'Europe/Monaco'];

// the dates ahead, in Monaco's calendar
const day = (k) => new Date(Date.now() + k * 86400000).toLocaleDateString('sv-SE', { timeZone: 'Europe/Monaco' });
const ymd = (d) => d.replaceAll('-', '');
const weekday = (d) => ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'][new Date(d + 'T12:00:00Z').getUTCDay()];
const d2 = day(2), d3 = day(3);
// two drivers 60 m apart near the Casino (one grid cell), both to Fontvieille
const homeA = [7.4275, 43.7396], homeB = [7.42785, 43.73935], work1 = [7.4160, 43.7290];
const single = run(['offer', 'add', ...g, '--from', homeA.join(','), '--to', work1.join(','), '--depart', `${d2}T08:00`,
  '--seats', '2', '--owner', 'driver-a']).offer;
const weekly = run(['offer', 'add', ...g, '--from', homeB.join(','), '--to', work1.join(','), '--weekdays',
  `${weekday(d2)},${weekday(d3)}`, '--time', '07:30', '--first-date', d2, '--last-date', day(20), '--seats', '1',
  '--owner', 'driver-b']).offer;
// the weekly one is full on d3: a passenger booked and accepted for that date
const req = run(['request', 'add', ...g, '--from', homeB.join(','), '--to', work1.join(','), '--depart', `${d3}T07:30`,
  '--margin', '30', '--owner', 'rider']).request;
const booking = run(['book', String(weekly.id), String(req.id), ...g]).booking;
run(['booking', 'accept', String(booking.id), ...g]);
check(single.id > 0 && weekly.id > 0 && booking.id > 0, `offers ${single.id} (single, ${d2}) and ${weekly.id} (weekly), full on ${d3}`);

const zip = join(work, 'gtfs_feed.zip');
rmSync(zip, { force: true });
execFileSync(covoit, ['export', 'gtfs', ...g, '-o', zip, '--days', '30', '--public-url', 'https://carpool.example.org/',
  '--operator', 'monaco-coop.example.org']);

async function consume(path, label) {
  const sqlitePath = join(work, `gtfs_${label}.sqlite`);
  rmSync(sqlitePath, { force: true });
  let imported = true;
  try {
    await importGtfs({ agencies: [{ path }], sqlitePath, verbose: false, ignoreErrors: false });
  } catch (e) {
    imported = false;
    check(false, `[${label}] node-gtfs imports the feed: ${e.message}`);
  }
  if (!imported) return;
  const dbh = openDb({ sqlitePath });
  const routes = getRoutes({}, [], [], { db: dbh });
  const trips = getTrips({}, [], [], { db: dbh });
  const stops = getStops({}, [], [], { db: dbh });
  const times = getStoptimes({}, [], [['trip_id', 'ASC'], ['stop_sequence', 'ASC']], { db: dbh });
  const cals = getCalendars({}, [], [], { db: dbh });
  const dates = getCalendarDates({}, [], [], { db: dbh });
  const shapes = getShapes({}, [], [], { db: dbh });
  const rules = getBookingRules({}, [], [], { db: dbh });
  check(routes.length === 2 && routes.every((r) => r.route_type === 1551 && /journey=offer-\d+$/.test(r.route_url)),
    `[${label}] node-gtfs imports it: ${routes.length} routes of type ${[...new Set(routes.map((r) => r.route_type))]}, ` +
    `linking to the map page (${routes[0] && routes[0].route_url})`);
  check(trips.length === 2 && trips.every((t) => t.shape_id), `[${label}] ${trips.length} trips, each with its shape`);
  const mine = (id) => times.filter((t) => t.trip_id === `offer-${id}`);
  const s1 = mine(single.id);
  check(s1.length >= 2 && s1[0].departure_time === '08:00:00' && s1[0].pickup_type === 2 &&
    s1[s1.length - 1].drop_off_type === 2 && s1[0].pickup_booking_rule_id === `offer-${single.id}`,
    `[${label}] the single trip leaves at ${s1[0] && s1[0].departure_time} and arrives at ${s1.length && s1[s1.length - 1].arrival_time}, ` +
    'pickup and drop-off by arrangement, booked through its rule');
  const wk = cals.find((c) => c.service_id === `offer-${weekly.id}`);
  check(wk && wk.start_date === Number(ymd(d2)) && wk.end_date <= Number(ymd(day(20))) &&
    wk.end_date > Number(ymd(day(13))) && wk[{ mon: 'monday',
    tue: 'tuesday', wed: 'wednesday', thu: 'thursday', fri: 'friday', sat: 'saturday', sun: 'sunday' }[weekday(d2)]] === 1,
  `[${label}] the weekly offer runs on its days from ${wk && wk.start_date} to ${wk && wk.end_date}`);
  check(dates.some((d) => d.service_id === `offer-${weekly.id}` && d.date === Number(ymd(d3)) && d.exception_type === 2),
    `[${label}] and not on ${d3}, when it is full (exception_type 2)`);
  check(dates.some((d) => d.service_id === `offer-${single.id}` && d.date === Number(ymd(d2)) && d.exception_type === 1),
    `[${label}] the single trip runs on ${d2}`);
  check(shapes.length > 10 && rules.length === 2 && rules.every((r) => /^https:\/\/carpool\.example\.org\/\?journey=/.test(r.booking_url)),
    `[${label}] ${shapes.length} shape points, ${rules.length} booking rules to the map page`);
  // privacy: no stop is a driver's exact place, and the two drivers of one cell share its meeting area
  const near = (s, p) => Math.hypot((s.stop_lon - p[0]) * Math.cos(p[1] * Math.PI / 180), s.stop_lat - p[1]) * 111320;
  const exact = stops.filter((s) => [homeA, homeB, work1].some((p) => near(s, p) < 1));
  const firstA = s1[0] && s1[0].stop_id, firstB = mine(weekly.id)[0] && mine(weekly.id)[0].stop_id;
  check(exact.length === 0 && firstA && firstA === firstB,
    `[${label}] no stop is a driver's home or work; both drivers start from the meeting area ${firstA} ` +
    `(${stops.find((s) => s.stop_id === firstA)?.stop_name}), ${Math.round(near(stops.find((s) => s.stop_id === firstA), homeA))} m from one home`);
  closeDb(dbh);
}

await consume(zip, 'export');

// the open statistics from the command line: too few trips in each week and cell, so none is shown (k = 5)
const stats = JSON.parse(execFileSync(covoit, ['stats', ...g, '--from', d2, '--to', day(20), '--cell-km', '5'],
  { encoding: 'utf8' }));
check(stats.code === 'Ok' && stats.k === 5 && stats.rows.length === 0 && stats.suppressed >= 2 && stats.total.offered === 0,
  `covoit stats: ${stats.rows.length} rows shown, ${stats.suppressed} suppressed (fewer than ${stats.k} trips each)`);
// by areas a local authority supplies: Porto's example areas hold none of Monaco's trips
const byArea = JSON.parse(execFileSync(covoit, ['stats', ...g, '--from', d2, '--to', day(20), '--areas',
  join(pbf, '../../../data/areas-porto.geojson')], { encoding: 'utf8' }));
check(byArea.area === 'areas' && byArea.rows.length === 0 && byArea.outside >= 3,
  `covoit stats --areas: ${byArea.outside} trips start outside the areas given`);
writeFileSync(join(work, 'gtfs_bad_areas.geojson'), '{"type":"FeatureCollection","features":[{"type":"Feature",' +
  '"properties":{"name":"x"},"geometry":{"type":"LineString","coordinates":[[7,43],[8,44]]}}]}');
let badAreas = '';
try {
  execFileSync(covoit, ['stats', ...g, '--areas', join(work, 'gtfs_bad_areas.geojson')], { encoding: 'utf8', stdio: 'pipe' });
} catch (e) { badAreas = `${e.status} ${e.stderr}`; }
check(/^2 .*feature 0 \(x\): its geometry is not a Polygon or a MultiPolygon/.test(badAreas),
  `a GeoJSON that is no set of areas is refused: ${badAreas.trim()}`);
const csvText = execFileSync(covoit, ['stats', ...g, '--csv'], { encoding: 'utf8' });
check(csvText.startsWith('week,cell_lon,cell_lat,offered,requested,matched,shared_km,vehicle_km_avoided,co2_kg_avoided\n'),
  'covoit stats --csv writes its header');

// the same feed from a running server, with its ETag
const server = spawn(covoit, ['serve', ...g, '--listen', '127.0.0.1:0', '--threads', '2', '--public-url',
  'https://carpool.example.org/', '--operator', 'monaco-coop.example.org'], { stdio: ['ignore', 'pipe', 'inherit'] });
try {
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
  const res = await fetch(base + '/feeds/gtfs.zip');
  const body = Buffer.from(await res.arrayBuffer());
  const etag = res.headers.get('etag');
  check(res.status === 200 && res.headers.get('content-type') === 'application/zip' && etag && body.length > 500,
    `GET /feeds/gtfs.zip: ${res.status} ${res.headers.get('content-type')}, ${body.length} bytes, ETag ${etag}`);
  const again = await fetch(base + '/feeds/gtfs.zip', { headers: { 'If-None-Match': etag } });
  check(again.status === 304, `the same ETag again: ${again.status}`);
  // a change of the trips makes a new feed
  run(['offer', 'cancel', String(single.id), ...g]);
  await new Promise((r) => setTimeout(r, 1500)); /* the server follows the database's changes */
  const changed = await fetch(base + '/feeds/gtfs.zip', { headers: { 'If-None-Match': etag } });
  const newer = Buffer.from(await changed.arrayBuffer());
  check(changed.status === 200 && changed.headers.get('etag') !== etag,
    `after a cancellation the feed is made again: ${changed.status}, ETag ${changed.headers.get('etag')}`);
  const served = join(work, 'gtfs_served.zip');
  writeFileSync(served, body);
  await consume(served, 'served');
  check(readFileSync(zip).equals(body), 'the served feed and the exported one are the same bytes');
  const later = join(work, 'gtfs_after_cancel.zip');
  writeFileSync(later, newer);
  const sqlitePath = join(work, 'gtfs_after.sqlite');
  rmSync(sqlitePath, { force: true });
  await importGtfs({ agencies: [{ path: later }], sqlitePath, verbose: false });
  const dbh = openDb({ sqlitePath });
  const left = getRoutes({}, [], [], { db: dbh });
  check(left.length === 1 && left[0].route_id === `offer-${weekly.id}`, `the cancelled offer is gone from it (${left.map((r) => r.route_id)})`);
  closeDb(dbh);
} catch (e) {
  check(false, `the test ran to its end: ${e.stack || e}`);
} finally {
  server.kill('SIGTERM');
}
if (failures.length) {
  console.error(`${failures.length} check(s) failed`);
  process.exit(1);
}
console.log('all checks passed');
