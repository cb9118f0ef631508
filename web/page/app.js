// SPDX-License-Identifier: AGPL-3.0-or-later
/* app.js — the covoit map page: a route between two points, a carpool search, booking, my trips and my offers,
   publishing an offer, all against this server's own API (docs/API.md). Plain browser JavaScript, no build step;
   Leaflet (L), protomaps-leaflet and the page's words (i18n.js: t() and the local formats) are loaded before it.
   The page asks nothing of any other host: its basemap is this server's vector tiles, or the tile server the
   operator named (covoit serve --tile-url, given by /health); without either it outlines the area the graph
   covers. */
(function () {
  'use strict';

  var $ = function (id) { return document.getElementById(id); };
  var I = window.covoitI18n, t = I.t, fmt = I.fmt;
  var map = L.map('map', { zoomControl: true });
  var ATTRIBUTION = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors';
  map.attributionControl.addAttribution(ATTRIBUTION); /* the routes are OpenStreetMap data, tiles or not */
  /* no view and no tiles until /health gives the graph's box and the operator's tile server (below) */
  window.covoit = { map: map }; /* for the browser's console (and the browser test) */

  /* --- talking to the server --- */

  var keyInput = $('key');
  try { keyInput.value = window.sessionStorage.getItem('covoit-key') || ''; } catch (e) { /* storage off */ }
  $('key-form').addEventListener('submit', function (ev) { ev.preventDefault(); });
  keyInput.addEventListener('change', function () {
    try { window.sessionStorage.setItem('covoit-key', keyInput.value.trim()); } catch (e) { /* storage off */ }
  });

  /* A JSON request to this server; resolves with the answer's document, rejects with an Error whose message is
     the answer's `message` (every covoit error has one). */
  function api(method, path, body) {
    var headers = { Accept: 'application/json' };
    var key = keyInput.value.trim();
    if (key) headers['X-API-Key'] = key;
    var init = { method: method, headers: headers };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    return fetch(path, init).then(function (res) {
      return res.text().then(function (text) {
        var doc = null;
        try { doc = JSON.parse(text); } catch (e) { /* not JSON */ }
        if (!res.ok || !doc || doc.code !== 'Ok') {
          var msg = doc && doc.message ? doc.message : 'HTTP ' + res.status + (text ? ': ' + text.slice(0, 200) : '');
          var err = new Error(msg);
          err.status = res.status;
          err.code = doc && doc.code;
          throw err;
        }
        return doc;
      });
    });
  }

  function showError(e) {
    var box = $('error');
    box.textContent = e ? (e.code ? e.code + ': ' : '') + e.message : '';
    box.hidden = !e;
  }

  /* --- the page's language: chosen here (kept in this browser), else the browser's --- */

  var rerenders = []; /* what to draw again in another language */
  I.langs.forEach(function (l) {
    var o = el('option', '', I.name(l));
    o.value = l;
    o.lang = l;
    $('lang').appendChild(o);
  });
  $('lang').value = I.lang;
  $('lang').addEventListener('change', function () {
    I.set($('lang').value);
    rerenders.forEach(function (f) { f(); });
  });
  I.apply();

  /* on a phone the panel is a sheet at the bottom: its handle pulls it up to most of the screen and back */
  $('sheet').addEventListener('click', function () {
    var open = $('panel').classList.toggle('open');
    $('sheet').setAttribute('aria-expanded', open ? 'true' : 'false');
  });

  /* --- formatting --- */

  var minutes = fmt.minutes, km = fmt.km;
  function signed(text) { return text.charAt(0) === '-' ? '\u2212' + text.slice(1) : '+' + text; }
  /* fits the map to bounds, leaving room for the panel where it floats over the map's left side */
  function fit(bounds) {
    var panel = $('panel').getBoundingClientRect();
    var wide = panel.width < window.innerWidth * 0.6;
    map.fitBounds(bounds, { paddingTopLeft: [wide ? panel.right + 10 : 20, 20],
      paddingBottomRight: [20, wide ? 20 : window.innerHeight - panel.top + 10] });
  }
  function clock(iso) { return typeof iso === 'string' && iso.length >= 16 ? fmt.time(iso) : String(iso); }
  function lonlat(ll) { return [Number(ll.lng.toFixed(6)), Number(ll.lat.toFixed(6))]; }
  function latlng(p) { return [p[1], p[0]]; }
  function coords(points) { return points.map(function (p) { return p[0] + ',' + p[1]; }).join(';'); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function pinIcon(letter, cls) {
    return L.divIcon({ className: 'pin-icon', html: '<span class="pin ' + cls + '">' + letter + '</span>',
      iconSize: [28, 28], iconAnchor: [14, 14] });
  }
  /* datetime-local value for tomorrow at hh:mm (the browser's calendar; the server reads it in its own zone) */
  function tomorrowAt(hhmm) {
    var d = new Date(Date.now() + 86400000);
    var pad = function (n) { return String(n).padStart(2, '0'); };
    return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + 'T' + hhmm;
  }

  /* --- start, destination and the route between them --- */

  var origin = null, destination = null, routeLine = null, routeSeq = 0;
  var matchLayer = L.layerGroup().addTo(map);
  var linkLayer = L.layerGroup().addTo(map); /* a passenger's points from a journey link (below) */

  /* Sets the start (a) or the destination (b) at ll; its field shows label, or what the point is called
     (GET /v1/places/reverse) when none is given. */
  function setPoint(which, ll, label) {
    var m = which === 'a' ? origin : destination;
    if (!m) {
      m = L.marker(ll, { draggable: true, icon: pinIcon(which === 'a' ? 'A' : 'B', which),
        title: t(which === 'a' ? 'legend.a' : 'legend.b'), autoPan: true, keyboard: true }).addTo(map);
      m.on('dragend', function () { nameField(which, m.getLatLng()); pointsChanged(); });
      if (which === 'a') origin = m; else destination = m;
    } else {
      m.setLatLng(ll);
    }
    if (label !== undefined) fieldOf(which).value = label;
    else nameField(which, ll);
    pointsChanged();
  }

  /* --- place search: the start and destination fields (GET /v1/places, the server's own index) --- */

  var placesOn = true; /* false once the server says it has no place index */
  function fieldOf(which) { return $(which === 'a' ? 'from-place' : 'to-place'); }

  /* What the point is called, into its field (unless someone is typing there). */
  function nameField(which, ll) {
    if (!placesOn) return;
    var input = fieldOf(which);
    var p = lonlat(ll);
    placeName(p).then(function (label) {
      if (document.activeElement !== input) input.value = label || p[1].toFixed(5) + ', ' + p[0].toFixed(5);
    });
  }

  /* The label of a point (GET /v1/places/reverse), or '' when nothing is named near it. */
  var names = {};
  function placeName(p) {
    var key = p[0].toFixed(5) + ',' + p[1].toFixed(5);
    if (!names[key]) {
      names[key] = api('GET', '/v1/places/reverse?at=' + key).then(function (doc) { return doc.label; },
        function (e) {
          if (e.status === 503) placesOn = false;
          return '';
        });
    }
    return names[key];
  }

  function placeField(which) {
    var input = fieldOf(which), list = $(which === 'a' ? 'from-list' : 'to-list');
    var found = [], active = -1, seq = 0, timer = null;
    function close() {
      list.hidden = true;
      list.textContent = '';
      input.setAttribute('aria-expanded', 'false');
      input.removeAttribute('aria-activedescendant');
      active = -1;
    }
    function highlight(i) {
      active = i;
      Array.prototype.forEach.call(list.children, function (li, k) {
        li.setAttribute('aria-selected', k === i ? 'true' : 'false');
      });
      if (i >= 0) {
        input.setAttribute('aria-activedescendant', list.children[i].id);
        list.children[i].scrollIntoView({ block: 'nearest' });
      }
    }
    function pick(i) {
      var p = found[i];
      close();
      if (!p) return;
      var ll = L.latLng(p.location[1], p.location[0]);
      setPoint(which, ll, p.label);
      if (!(origin && destination)) map.setView(ll, Math.max(map.getZoom(), 15));
    }
    function suggest() {
      var q = input.value.trim();
      var mine = ++seq;
      if (q.length < 2 || !placesOn) { close(); return; }
      var other = which === 'a' ? destination : origin;
      var near = lonlat(other ? other.getLatLng() : map.getCenter());
      api('GET', '/v1/places?limit=8&q=' + encodeURIComponent(q) + '&near=' + near[0] + ',' + near[1])
        .then(function (doc) {
          if (mine !== seq) return;
          found = doc.places;
          list.textContent = '';
          found.forEach(function (p, k) {
            var li = el('li');
            li.id = list.id + '-' + k;
            li.setAttribute('role', 'option');
            li.setAttribute('aria-selected', 'false');
            li.appendChild(document.createTextNode(p.name));
            if (p.detail) li.appendChild(el('small', '', p.detail));
            li.addEventListener('mousedown', function (ev) { ev.preventDefault(); pick(k); });
            list.appendChild(li);
          });
          if (!found.length) {
            var none = el('li', '', t('place.none'));
            none.setAttribute('role', 'option');
            none.setAttribute('aria-disabled', 'true');
            list.appendChild(none);
          }
          list.hidden = false;
          input.setAttribute('aria-expanded', 'true');
          active = -1;
        }).catch(function (e) {
          if (mine !== seq) return;
          close();
          if (e.status === 503) {
            placesOn = false;
            input.removeAttribute('data-i18n-placeholder');
            input.placeholder = t('place.noindex');
          } else {
            showError(e);
          }
        });
    }
    input.addEventListener('input', function () {
      clearTimeout(timer);
      timer = setTimeout(suggest, 120);
    });
    input.addEventListener('keydown', function (ev) {
      if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
        if (list.hidden || !found.length) return;
        ev.preventDefault();
        var n = found.length;
        highlight(ev.key === 'ArrowDown' ? (active + 1) % n : (active - 1 + n) % n);
      } else if (ev.key === 'Enter') {
        ev.preventDefault();
        if (!list.hidden && found.length) pick(active >= 0 ? active : 0);
      } else if (ev.key === 'Escape') {
        close();
      }
    });
    input.addEventListener('blur', function () { setTimeout(close, 150); });
  }
  placeField('a');
  placeField('b');
  /* the start and the destination as [lon, lat] (null when not set) */
  window.covoit.points = function () {
    return [origin ? lonlat(origin.getLatLng()) : null, destination ? lonlat(destination.getLatLng()) : null];
  };
  $('places-form').addEventListener('submit', function (ev) { ev.preventDefault(); });

  map.on('click', function (ev) {
    if (!origin) setPoint('a', ev.latlng);
    else setPoint('b', ev.latlng); /* later clicks move the destination */
  });

  $('clear').addEventListener('click', function () {
    [origin, destination, routeLine].forEach(function (l) { if (l) map.removeLayer(l); });
    origin = destination = routeLine = null;
    fieldOf('a').value = fieldOf('b').value = '';
    clearMatches();
    clearLink();
    $('route-info').textContent = t('route.none');
    showError(null);
  });

  function pointsChanged() {
    clearMatches();
    if (!origin || !destination) {
      $('route-info').textContent = t('route.next');
      return;
    }
    var seq = ++routeSeq;
    var pts = [lonlat(origin.getLatLng()), lonlat(destination.getLatLng())];
    $('route-info').textContent = t('route.busy');
    api('GET', '/route/v1/driving/' + coords(pts) + '?overview=full&geometries=geojson').then(function (doc) {
      if (seq !== routeSeq) return; /* a newer drag has started its own request */
      var r = doc.routes[0];
      if (routeLine) map.removeLayer(routeLine);
      routeLine = L.geoJSON(r.geometry, { style: { color: '#2563eb', weight: 5, opacity: 0.8 } }).addTo(map);
      $('route-info').textContent = minutes(r.duration) + ' · ' + km(r.distance);
      showError(null);
    }).catch(function (e) {
      if (seq !== routeSeq) return;
      if (routeLine) map.removeLayer(routeLine);
      routeLine = null;
      $('route-info').textContent = t('route.failed');
      showError(e);
    });
  }

  function needPoints() {
    if (origin && destination) return true;
    showError({ message: t('need.points') });
    return false;
  }

  function optionalNumber(input) {
    var v = input.value.trim();
    return v === '' ? undefined : Number(v);
  }

  /* --- find a ride: POST /v1/search --- */

  var matches = [];      /* the last search's matches, in the server's order (best first) */
  var selected = null;   /* the offer id of the match drawn */

  function clearMatches() {
    matches = [];
    selected = null;
    matchLayer.clearLayers();
    $('matches').textContent = '';
    $('search-info').textContent = '';
    $('sort-label').hidden = true;
  }

  $('s-depart').value = tomorrowAt('08:00');
  $('o-depart').value = tomorrowAt('08:00');

  $('search-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    runSearch($('s-depart').value);
  });

  var searchSeq = 0, lastDepart = null;

  /* POST /v1/search from A to B leaving at depart (the form's departure, or an exact ISO time), with the form's
     seats and margin, each match with the driver's route as the matcher plans it (geometry=true); lists the
     matches and draws offer `prefer`'s when it is among them, else the best. Resolves with the matches, or null
     when there was no search or it failed (the error is shown). */
  function runSearch(depart, prefer) {
    if (!needPoints()) return Promise.resolve(null);
    clearMatches();
    var seq = ++searchSeq;
    lastDepart = depart;
    var body = {
      from: lonlat(origin.getLatLng()), to: lonlat(destination.getLatLng()),
      depart: depart, seats: Number($('s-seats').value)
    };
    var margin = optionalNumber($('s-margin'));
    if (margin !== undefined) body.margin_min = margin;
    $('search-info').textContent = t('searching');
    return api('POST', '/v1/search?limit=20&geometry=true', body).then(function (doc) {
      if (seq !== searchSeq) return null; /* a newer search has started */
      showError(null);
      matches = (doc.matches || []).map(function (m) { m.seats = body.seats; return m; });
      var chosen = offerIndex(matches, prefer);
      selected = matches.length ? matches[chosen >= 0 ? chosen : 0].offer_id : null;
      renderMatches();
      if (selected !== null) selectMatch(selected);
      if (window.matchMedia('(max-width: 600px)').matches) /* the results above the fold on a phone */
        $('results').scrollIntoView({ block: 'start' });
      return matches;
    }).catch(function (e) {
      if (seq !== searchSeq) return null;
      $('search-info').textContent = '';
      showError(e);
      return null;
    });
  }

  /* The matches in the order chosen: best first (the server's), by pickup time, by price or by detour. */
  function sorted() {
    var by = $('sort').value;
    var key = {
      time: function (m) { return Date.parse(m.pickup.time); },
      price: function (m) { return m.contribution.amount; },
      detour: function (m) { return m.detour.duration; }
    }[by];
    var list = matches.map(function (m, i) { return { m: m, i: i }; });
    if (key) list.sort(function (a, b) { return key(a.m) - key(b.m) || a.i - b.i; });
    return list.map(function (x) { return x.m; });
  }

  function renderMatches() {
    var list = $('matches'), info = $('search-info');
    list.textContent = '';
    info.textContent = '';
    if (lastDepart === null) return;
    info.textContent = matches.length === 1 ? t('found.one') : matches.length ? t('found.many', { n: matches.length })
      : t('found.none');
    $('sort-label').hidden = matches.length < 2;
    sorted().forEach(function (m) { list.appendChild(matchItem(m)); });
    if (!matches.length) noRide(lastDepart);
    markSelected();
  }
  $('sort').addEventListener('change', renderMatches);
  rerenders.push(function () {
    if (matches.length || lastDepart !== null && $('search-info').textContent) renderMatches();
    if (selected !== null) selectMatch(selected);
  });

  /* No ride: what to relax (an earlier or later time, a wider margin), each a search again; or keep the search as a
     request, which drivers' offers are matched against as they come (its matches: GET /v1/requests/ID/matches). */
  function noRide(depart) {
    var box = $('search-info');
    var shift = function (min) {
      var d = new Date(depart.length > 16 ? depart.slice(0, 16) : depart);
      d = new Date(d.getTime() + min * 60000);
      var p2 = function (n) { return String(n).padStart(2, '0'); };
      return d.getFullYear() + '-' + p2(d.getMonth() + 1) + '-' + p2(d.getDate()) + 'T' + p2(d.getHours()) + ':' +
        p2(d.getMinutes());
    };
    var row = el('div', 'relax');
    row.appendChild(el('span', '', t('relax.try') + ' '));
    [['relax.earlier', function () { $('s-depart').value = shift(-30); runSearch($('s-depart').value); }],
      ['relax.later', function () { $('s-depart').value = shift(30); runSearch($('s-depart').value); }],
      ['relax.margin', function () { $('s-margin').value = 45; runSearch($('s-depart').value); }]]
      .forEach(function (x) {
        var b = el('button', '', t(x[0]));
        b.type = 'button';
        b.addEventListener('click', x[1]);
        row.appendChild(b);
      });
    box.appendChild(row);
    var save = el('button', 'save-request', t('save.request'));
    save.type = 'button';
    save.addEventListener('click', function () {
      var owner = me();
      if (!owner || !needPoints()) return;
      var body = { from: lonlat(origin.getLatLng()), to: lonlat(destination.getLatLng()), depart: depart,
        seats: Number($('s-seats').value), owner: owner };
      var margin = optionalNumber($('s-margin'));
      if (margin !== undefined) body.margin_min = margin;
      save.disabled = true;
      api('POST', '/v1/requests', body).then(function (doc) {
        showError(null);
        save.replaceWith(el('div', 'ok', t('saved.request', { id: doc.request.id, who: owner })));
      }).catch(function (e) { save.disabled = false; showError(e); });
    });
    box.appendChild(save);
  }

  function offerIndex(list, offerId) {
    for (var i = 0; i < list.length; i++)
      if (list[i].offer_id === offerId) return i;
    return -1;
  }

  /* The crow-flies metres from the passenger's own point (A or B) to where the driver takes them (P or D). */
  function walk(marker, p) {
    return marker ? Math.round(map.distance(marker.getLatLng(), latlng(p))) : 0;
  }

  /* What a result says: when, where (by name, filled in as the names come), the detour, the ride, the price per
     seat and for the booking (a booking pays the contribution once, whatever its seats: docs/API.md), the seats
     left, how far from the passenger's wish, and the walk to the pickup and from the drop-off when there is one. */
  function matchItem(m) {
    var li = el('li');
    li.dataset.offer = m.offer_id;
    var b = el('button', 'match');
    b.type = 'button';
    b.appendChild(el('div', 'match-head', t('match.head', { id: m.offer_id, date: fmt.when(m.pickup.time) })));
    var places = el('div', 'match-line match-places', t('match.times', { pt: clock(m.pickup.time),
      dt: clock(m.dropoff.time) }));
    b.appendChild(places);
    Promise.all([placeName(m.pickup.location), placeName(m.dropoff.location)]).then(function (n) {
      if (n[0] || n[1])
        places.textContent = t('match.places', { pickup: n[0] || t('on.road'), pt: clock(m.pickup.time),
          dropoff: n[1] || t('on.road'), dt: clock(m.dropoff.time) });
    });
    b.appendChild(el('div', 'match-line', t('match.detour', { dur: signed(minutes(m.detour.duration)),
      dist: signed(km(m.detour.distance)), pct: m.detour.percent.toFixed(0), rdur: minutes(m.shared.duration),
      rdist: km(m.shared.distance) })));
    var c = m.contribution, seats = m.seats || 1;
    b.appendChild(el('div', 'match-line match-price', c.amount > 0
      ? t('match.price', { seat: fmt.money(c.amount / seats, c.currency), total: fmt.money(c.amount, c.currency),
        n: seats, left: m.seats_left })
      : t('match.free', { left: m.seats_left })));
    var when = m.time_mismatch ? t('match.when', { mis: minutes(m.time_mismatch) }) : t('match.ontime');
    var wa = walk(origin, m.pickup.location), wb = walk(destination, m.dropoff.location);
    /* on foot at 80 m a minute, straight: a rough figure, said as one */
    var foot = function (m) { return minutes(Math.max(60, Math.ceil(m / 80) * 60)) + ' (' + m + ' m)'; };
    if (wa > 25 || wb > 25) when += ' · ' + t('match.walk', { a: foot(wa), b: foot(wb) });
    b.appendChild(el('div', 'match-line', when));
    b.addEventListener('click', function () { selectMatch(m.offer_id); });
    li.appendChild(b);
    var book = el('button', 'book', t('book'));
    book.type = 'button';
    book.addEventListener('click', function () { bookMatch(m, book); });
    li.appendChild(book);
    return li;
  }

  function markSelected() {
    Array.prototype.forEach.call($('matches').children, function (li) {
      var on = Number(li.dataset.offer) === selected;
      li.classList.toggle('selected', on);
      var b = li.querySelector('button.match');
      if (b) b.setAttribute('aria-pressed', on ? 'true' : 'false');
    });
  }

  /* Draws the match of offer id: the driver's route with this passenger as the matcher plans it (the search's
     geometry: from the driver's start area through the stops of that date, pickup P, drop-off D, to their end
     area; its length and duration are the match's driver_total), the pickup and drop-off, and the areas where the
     driver starts and ends (their places themselves never reach the page). */
  function selectMatch(id) {
    var m = matches[offerIndex(matches, id)];
    if (!m) return;
    selected = id;
    markSelected();
    matchLayer.clearLayers();
    var pick = m.pickup.location, drop = m.dropoff.location;
    L.marker(latlng(pick), { icon: pinIcon('P', 'p'), title: t('pickup.at', { t: clock(m.pickup.time) }) })
      .addTo(matchLayer).bindTooltip(t('pickup.at', { t: fmt.when(m.pickup.time) }));
    L.marker(latlng(drop), { icon: pinIcon('D', 'd'), title: t('dropoff.at', { t: clock(m.dropoff.time) }) })
      .addTo(matchLayer).bindTooltip(t('dropoff.at', { t: fmt.when(m.dropoff.time) }));
    var g = m.route && m.route.geometry;
    if (!g || !g.coordinates || g.coordinates.length < 2) {
      fit(L.latLngBounds([latlng(pick), latlng(drop)]).pad(0.3));
      $('search-info').textContent = t('route.only', { id: m.offer_id, why: 'no route' });
      return;
    }
    var line = L.geoJSON(g, { style: { color: '#b36b00', weight: 5, opacity: 0.9, dashArray: '10 6' } })
      .addTo(matchLayer);
    /* the driver's start and end are theirs: shown as the public areas they lie in, never the places */
    [[m.route.origin_area, 'driver.start'], [m.route.destination_area, 'driver.end']].forEach(function (a) {
      if (a[0] && a[0].location)
        L.circle(latlng(a[0].location), { radius: a[0].radius, color: '#9a5b00', weight: 2, fillOpacity: 0.12,
          className: 'driver-area' }).addTo(matchLayer).bindTooltip(t(a[1]));
    });
    fit(line.getBounds());
    $('search-info').textContent = t('route.drawn', { id: m.offer_id, dur: minutes(m.driver_total.duration),
      dist: km(m.driver_total.distance), detour: minutes(m.detour.duration) });
  }

  /* --- the legend of what the map shows --- */

  var legend = L.control({ position: 'bottomright' });
  legend.onAdd = function () {
    var box = L.DomUtil.create('div', 'legend');
    box.setAttribute('role', 'group');
    return box;
  };
  legend.addTo(map);
  function drawLegend() {
    var box = legend.getContainer();
    box.setAttribute('aria-label', t('legend.title'));
    box.textContent = '';
    var row = function (html, key) {
      var r = el('div');
      var k = el('span', 'key');
      k.innerHTML = html; /* the page's own markup, no data */
      k.setAttribute('aria-hidden', 'true');
      r.appendChild(k);
      r.appendChild(el('span', '', t(key)));
      box.appendChild(r);
    };
    row('<b class="pin a">A</b>', 'legend.a');
    row('<b class="pin b">B</b>', 'legend.b');
    row('<b class="pin p">P</b>', 'legend.p');
    row('<b class="pin d">D</b>', 'legend.d');
    row('<i class="area"></i>', 'legend.driver');
    row('<i class="line yours"></i>', 'legend.yours');
    row('<i class="line theirs"></i>', 'legend.theirs');
  }
  drawLegend();
  rerenders.push(drawLegend);

  /* --- booking, my trips and my offers: a request for this trip, then its booking on the offer (POST
     /v1/requests, /v1/bookings); the bookings of the reference kept in this browser as a passenger (GET
     /v1/bookings?owner=&as=passenger), its open offers with their passengers and seats (GET /v1/offers?owner=,
     GET /v1/offers/ID) --- */

  var meInput = $('me');
  try { meInput.value = window.localStorage.getItem('covoit-owner') || ''; } catch (e) { /* storage off */ }
  meInput.addEventListener('change', function () {
    try { window.localStorage.setItem('covoit-owner', meInput.value.trim()); } catch (e) { /* storage off */ }
    if (!$('o-owner').value) $('o-owner').value = meInput.value.trim();
    loadMine();
  });
  if (meInput.value && !$('o-owner').value) $('o-owner').value = meInput.value;
  function me() {
    var v = meInput.value.trim();
    if (!v) {
      $('mine').open = true;
      meInput.focus();
      showError({ message: t('need.me') });
    }
    return v;
  }

  function bookMatch(m, button) {
    var owner = me();
    if (!owner || !needPoints()) return;
    button.disabled = true;
    var body = { from: lonlat(origin.getLatLng()), to: lonlat(destination.getLatLng()), depart: lastDepart || $('s-depart').value,
      seats: m.seats || Number($('s-seats').value), owner: owner };
    var margin = optionalNumber($('s-margin'));
    if (margin !== undefined) body.margin_min = margin;
    api('POST', '/v1/requests', body).then(function (doc) {
      return api('POST', '/v1/bookings', { offer_id: m.offer_id, request_id: doc.request.id });
    }).then(function (doc) {
      showError(null);
      button.textContent = t('booked');
      $('mine').open = true;
      loadTrips();
      return doc;
    }).catch(function (e) {
      button.disabled = false;
      showError(e);
    });
  }

  function statusWord(status) {
    var s = el('span', 'status-' + status, t('status.' + status));
    s.dataset.status = status;
    return s;
  }

  /* One booking, on the passenger's side or the driver's (under an offer): status, places, times, seats, price,
     and what this side may do (the driver accepts or refuses a pending one; either cancels). */
  function tripItem(b, side) {
    var li = el('li');
    li.dataset.booking = b.id;
    var head = el('div');
    head.appendChild(el('span', '', (side === 'driver' ? t('trip.passenger') : t('trip.ride')) + ' · ' +
      t('trip.booking', { id: b.id }) + ' · '));
    head.appendChild(statusWord(b.status));
    li.appendChild(head);
    var price = b.contribution ? fmt.money(b.contribution.amount, b.contribution.currency) : '';
    var text = function (n) {
      return t('trip.line', { pickup: n[0] || t('on.road'), pt: fmt.when(b.pickup.time), dropoff: n[1] || t('on.road'),
        dt: clock(b.dropoff.time), n: b.seats, price: price });
    };
    var line = el('div', 'match-line', text(['…', '…']));
    li.appendChild(line);
    Promise.all([placeName(b.pickup.location), placeName(b.dropoff.location)]).then(function (n) {
      line.textContent = text(n);
    });
    var actions = [];
    if (side === 'driver' && b.status === 'pending') actions.push(['accept', 'accept'], ['refuse', 'refuse']);
    if (b.status === 'pending' || b.status === 'accepted') actions.push(['cancel', 'cancel']);
    actions.forEach(function (a) {
      var btn = el('button', '', t(a[1]));
      btn.type = 'button';
      btn.dataset.action = a[0];
      btn.addEventListener('click', function () {
        btn.disabled = true;
        api('POST', '/v1/bookings/' + b.id + '/' + a[0]).then(function () { showError(null); loadMine(); },
          function (e) { btn.disabled = false; showError(e); });
      });
      li.appendChild(btn);
    });
    var day = b.status === 'accepted' ? rideDate(b) : null;
    if (day) li.appendChild(completion(b, side, day));
    return li;
  }

  /* The last date an accepted booking's ride has started by now, or null: a single trip once its pickup time is
     past; a weekly one, its last riding day before today (the server's dates; today's ride is completed tomorrow
     at the latest). */
  var WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
  function rideDate(b) {
    var d = b.dates;
    if (!d) return null;
    if (d.first_date === d.last_date)
      return /T/.test(b.pickup.time) && Date.parse(b.pickup.time) <= Date.now() ? d.first_date : null;
    var days = String(d.weekdays).split(',');
    var at = new Date(Date.now() - 86400000).toISOString().slice(0, 10);
    if (at > d.last_date) at = d.last_date;
    for (var i = 0; i < 8 && at >= d.first_date; i++) {
      if (days.indexOf(WEEKDAYS[new Date(at + 'T12:00:00Z').getUTCDay()]) >= 0) return at;
      at = new Date(Date.parse(at + 'T12:00:00Z') - 86400000).toISOString().slice(0, 10);
    }
    return null;
  }

  /* Saying a ride took place (docs/proofs.md): each side once; when both have, the carpool proof is written. */
  function completion(b, side, day) {
    var box = el('div', 'completion');
    box.dataset.date = day;
    var me = side === 'driver' ? 'driver' : 'passenger', other = me === 'driver' ? 'passenger' : 'driver';
    var draw = function (c) {
      box.textContent = '';
      box.dataset.state = c.proof ? c.proof.status : c[me] ? 'mine' : 'open';
      if (c.proof) {
        box.appendChild(el('span', 'ok', t('ride.proof', { date: fmt.day(day), status: t('proof.' + c.proof.status) })));
      } else if (c[me]) {
        box.appendChild(el('span', '', t('ride.waiting', { date: fmt.day(day), other: t('ride.' + other) })));
      } else {
        var btn = el('button', '', t('ride.took', { date: fmt.day(day) }));
        btn.type = 'button';
        btn.dataset.action = 'complete';
        btn.addEventListener('click', function () {
          btn.disabled = true;
          api('POST', '/v1/bookings/' + b.id + '/complete', { as: me, date: day }).then(function (doc) {
            showError(null);
            draw(doc.completion);
          }, function (e) { btn.disabled = false; showError(e); });
        });
        box.appendChild(btn);
      }
    };
    api('GET', '/v1/bookings/' + b.id + '/complete?date=' + day).then(function (doc) { draw(doc.completion); },
      function () { box.remove(); });
    return box;
  }

  var tripsSeq = 0;
  function loadTrips() {
    var owner = meInput.value.trim(), list = $('my-trips'), seq = ++tripsSeq;
    if (!owner) { list.textContent = ''; return; }
    api('GET', '/v1/bookings?as=passenger&owner=' + encodeURIComponent(owner)).then(function (doc) {
      if (seq !== tripsSeq) return;
      list.textContent = '';
      doc.bookings.forEach(function (b) { list.appendChild(tripItem(b, 'passenger')); });
      if (!doc.bookings.length) list.appendChild(el('li', '', t('mine.none', { who: owner })));
    }).catch(function (e) {
      if (seq === tripsSeq) showError(e);
    });
  }

  /* When an offer goes: once, or every week on its days between two dates. */
  function offerWhen(s) {
    return s.type === 'regular'
      ? t('offer.every', { days: fmt.weekdays(s.weekdays), time: s.time, first: fmt.day(s.first_date),
        last: fmt.day(s.last_date) })
      : fmt.when(s.depart);
  }

  /* One of my offers: when, seats, the seats left on the dates where some are taken, its passengers (bookings)
     with what the driver may do, and cancelling it. */
  function offerItem(o) {
    var li = el('li');
    li.dataset.offer = o.id;
    var head = el('div', 'match-head', t('offer.head', { id: o.id, when: offerWhen(o.schedule) }) + ' · ');
    head.appendChild(statusWord(o.status));
    li.appendChild(head);
    li.appendChild(el('div', 'match-line', t('offer.seats', { n: o.seats, dur: minutes(o.direct.duration),
      dist: km(o.direct.distance) })));
    var left = o.seats_left || [];
    var seatsLine = el('div', 'match-line seats-left', left.length
      ? t('offer.left', { n: o.seats, list: left.map(function (d) { return fmt.day(d.date) + ': ' + d.seats_left; })
        .join(', ') })
      : t('offer.allfree', { n: o.seats }));
    li.appendChild(seatsLine);
    var bookings = (o.bookings || []).filter(function (b) { return b.status !== 'superseded'; });
    if (bookings.length) {
      li.appendChild(el('div', 'match-line', t('offer.passengers')));
      var ul = el('ul', 'passengers');
      bookings.forEach(function (b) { ul.appendChild(tripItem(b, 'driver')); });
      li.appendChild(ul);
    }
    if (o.status === 'open') {
      var cancel = el('button', 'cancel-offer', t('cancel.offer'));
      cancel.type = 'button';
      cancel.addEventListener('click', function () {
        cancel.disabled = true;
        api('POST', '/v1/offers/' + o.id + '/cancel').then(function () { showError(null); loadMine(); },
          function (e) { cancel.disabled = false; showError(e); });
      });
      li.appendChild(cancel);
    }
    return li;
  }

  var offersSeq = 0;
  function loadOffers() {
    var owner = meInput.value.trim(), list = $('my-offers'), seq = ++offersSeq;
    if (!owner) { list.textContent = ''; return; }
    api('GET', '/v1/offers?owner=' + encodeURIComponent(owner)).then(function (doc) {
      return Promise.all(doc.offers.map(function (o) {
        return api('GET', '/v1/offers/' + o.id).then(function (d) { return d.offer; });
      }));
    }).then(function (offers) {
      if (seq !== offersSeq) return;
      list.textContent = '';
      offers.forEach(function (o) { list.appendChild(offerItem(o)); });
      if (!offers.length) list.appendChild(el('li', '', t('offers.none', { who: owner })));
      else $('my-offers-box').open = true;
    }).catch(function (e) {
      if (seq === offersSeq) showError(e);
    });
  }

  function loadMine() {
    loadTrips();
    loadOffers();
  }
  $('refresh-trips').addEventListener('click', loadTrips);
  $('refresh-offers').addEventListener('click', function () {
    if (me()) loadOffers();
  });
  if (meInput.value) loadMine();
  rerenders.push(function () { if (meInput.value.trim()) loadMine(); });

  /* --- offer a ride: POST /v1/offers --- */

  /* the days of the week, in the page's language (Monday first) */
  function drawDays() {
    var box = $('o-days'), was = {};
    Array.prototype.forEach.call(box.querySelectorAll('input'), function (c) { was[c.value] = c.checked; });
    box.textContent = '';
    ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].forEach(function (d, i) {
      var label = el('label', 'day');
      var c = el('input');
      c.type = 'checkbox';
      c.value = d;
      c.checked = d in was ? was[d] : i < 5;
      label.appendChild(c);
      label.appendChild(document.createTextNode(' ' + fmt.weekdays(d)));
      box.appendChild(label);
    });
  }
  drawDays();
  rerenders.push(drawDays);

  /* punctual, or every week on some days between two dates (a commute) */
  $('o-regular').addEventListener('change', function () {
    var weekly = $('o-regular').checked;
    $('o-weekly').hidden = !weekly;
    $('o-once').hidden = weekly;
    $('o-depart').required = !weekly;
    if (weekly && !$('o-first').value) {
      $('o-first').value = tomorrowAt('00:00').slice(0, 10);
      var end = new Date(Date.now() + 90 * 86400000);
      $('o-last').value = end.getFullYear() + '-' + String(end.getMonth() + 1).padStart(2, '0') + '-' +
        String(end.getDate()).padStart(2, '0');
    }
  });

  $('offer-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    if (!needPoints()) return;
    var body = {
      from: lonlat(origin.getLatLng()), to: lonlat(destination.getLatLng()),
      seats: Number($('o-seats').value), owner: $('o-owner').value.trim()
    };
    if ($('o-regular').checked) {
      var days = Array.prototype.filter.call($('o-weekly').querySelectorAll('input[type="checkbox"]'),
        function (c) { return c.checked; }).map(function (c) { return c.value; });
      if (!days.length) { showError({ message: t('need.day') }); return; }
      body.depart = { weekdays: days.join(','), time: $('o-time').value }; /* docs/API.md, trip fields */
      if ($('o-first').value) body.depart.first_date = $('o-first').value;
      if ($('o-last').value) body.depart.last_date = $('o-last').value;
    } else {
      body.depart = $('o-depart').value;
    }
    var margin = optionalNumber($('o-margin'));
    if (margin !== undefined) body.margin_min = margin;
    $('offer-info').textContent = t('publishing');
    api('POST', '/v1/offers', body).then(function (doc) {
      showError(null);
      var o = doc.offer;
      var info = $('offer-info');
      info.textContent = '';
      var s = o.schedule;
      var when = s.type === 'regular'
        ? t('published.every', { days: fmt.weekdays(s.weekdays), time: s.time, first: fmt.day(s.first_date),
          last: fmt.day(s.last_date) })
        : t('published.once', { date: fmt.when(s.depart) });
      var done = el('div', 'ok', t('published', { id: o.id, who: o.owner, n: o.seats, when: when,
        dur: minutes(o.direct.duration), dist: km(o.direct.distance) }));
      done.dataset.schedule = s.type === 'regular' ? s.weekdays + ' ' + s.time : s.depart;
      info.appendChild(done);
      var mine = meInput.value.trim(); /* with API keys the owner is stored as CLIENT:REF */
      if (mine && (o.owner === mine || o.owner.slice(-mine.length - 1) === ':' + mine)) loadOffers();
    }).catch(function (e) {
      $('offer-info').textContent = '';
      showError(e);
    });
  });

  /* --- a journey's link: /?journey=ID&from=LON,LAT&to=LON,LAT[&at=UNIX] ---
     The webUrl that /stdcov/v1 gives partners (docs/API.md, The map page). ID is offer-N-YYYY-MM-DD (offer N's
     journey on that date), offer-N (its weekly trip), request-N-YYYY-MM-DD or request-N (a passenger's); from and
     to are the passenger's pickup and drop-off, at the pickup time in UNIX seconds (absent for a weekly trip).
     An offer's link puts A and B on the pickup and drop-off, runs the page's own search and draws offer N's match
     as a click on it would (nothing more of the driver's trip); a request's link shows the passenger's points and
     time. What cannot be read is left out with a note in the panel; nothing here throws. */

  var JOURNEY_ID = /^(offer|request)-([1-9][0-9]{0,14})(?:-([0-9]{4})-([0-9]{2})-([0-9]{2}))?$/;
  var DAY_MS = 86400000;
  var pad2 = function (n) { return String(n).padStart(2, '0'); };

  function linkNote(text, warn) {
    $('journey').appendChild(el('div', warn ? 'warn' : '', text));
    $('journey').hidden = false;
  }
  function clearLink() {
    linkLayer.clearLayers();
    $('journey').textContent = '';
    $('journey').hidden = true;
  }
  function quoted(text) { return "'" + (text.length > 60 ? text.slice(0, 60) + '…' : text) + "'"; }

  /* "LON,LAT" as [lon, lat], or null */
  function readPoint(text) {
    var m = /^(-?[0-9]{1,3}(?:\.[0-9]{1,12})?),(-?[0-9]{1,2}(?:\.[0-9]{1,12})?)$/.exec(text || '');
    if (!m) return null;
    var p = [Number(m[1]), Number(m[2])];
    return Math.abs(p[0]) <= 180 && Math.abs(p[1]) <= 90 ? p : null;
  }
  /* "YYYY-MM-DDTHH:MM" of the instant ms seen at offsetMin minutes from UTC (the datetime-local field's form) */
  function fieldValue(ms, offsetMin) {
    var d = new Date(ms + offsetMin * 60000);
    return d.getUTCFullYear() + '-' + pad2(d.getUTCMonth() + 1) + '-' + pad2(d.getUTCDate()) + 'T' +
      pad2(d.getUTCHours()) + ':' + pad2(d.getUTCMinutes());
  }
  /* the server's offset from UTC in minutes, read from a time it wrote ("…+01:00"); null when there is none */
  function serverOffset(iso) {
    var m = /(?:([+-])([0-9]{2}):([0-9]{2})|Z)$/.exec(typeof iso === 'string' ? iso : '');
    return !m ? null : m[1] ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
  }

  /* The link's parameters, or null when there is no link or nothing of it can be used (with notes saying why). */
  function readLink(query) {
    var p = new URLSearchParams(query);
    var raw = p.get('journey');
    if (raw === null) {
      if (p.has('from') || p.has('to') || p.has('at'))
        linkNote(t('link.nojourney'), true);
      return null;
    }
    var m = JOURNEY_ID.exec(raw), day = null;
    if (m && m[3]) {
      var ts = Date.UTC(Number(m[3]), Number(m[4]) - 1, Number(m[5]));
      day = m[3] + '-' + m[4] + '-' + m[5];
      if (isNaN(ts) || new Date(ts).toISOString().slice(0, 10) !== day) m = null; /* 2030-02-31 and the like */
    }
    if (!m) {
      linkNote(t('link.unknown', { id: quoted(raw) }), true);
      return null;
    }
    var link = { kind: m[1], id: Number(m[2]), day: day, from: readPoint(p.get('from')), to: readPoint(p.get('to')),
      at: null };
    var what = link.kind === 'offer' ? t('link.offer', { id: link.id }) : '#' + link.id;
    var at = p.get('at');
    if (at !== null) {
      if (/^[0-9]{1,11}$/.test(at) && Number(at) > 0) link.at = Number(at);
      else linkNote(t('link.badtime', { at: quoted(at) }), true);
    }
    if (link.at !== null && day && Math.abs(link.at * 1000 - (Date.parse(day) + DAY_MS / 2)) > DAY_MS) {
      linkNote(t('link.offday', { day: fmt.day(day) }), true);
      link.at = null;
    }
    var bad = [];
    if (!link.from) bad.push(t('link.pickup', { v: quoted(p.get('from') || '') }));
    if (!link.to) bad.push(t('link.dropoff', { v: quoted(p.get('to') || '') }));
    if (!bad.length && link.from[0] === link.to[0] && link.from[1] === link.to[1]) bad.push(t('link.same'));
    if (bad.length) {
      linkNote(t('link.badpoints', { what: what, bad: bad.join(t('link.or')) }), true);
      return null;
    }
    return link;
  }

  /* Opens the link in the page's address, if any, once the map is fitted to the graph (box, or null). */
  function openLink(box) {
    var link;
    try {
      link = readLink(window.location.search);
      if (!link) return;
      var area = box ? L.latLngBounds(box).pad(0.05) : null;
      if (area && !(area.contains(latlng(link.from)) && area.contains(latlng(link.to)))) {
        linkNote(t('link.outside'), true);
        return;
      }
      if (link.kind === 'request') openRequest(link);
      else openOffer(link).catch(showError);
    } catch (e) { /* never leave the page half-opened on an exception */
      linkNote(t('link.failed', { why: e.message }), true);
    }
  }

  /* A passenger looking for a driver: their pickup and drop-off and the time; none of it is a ride. */
  function openRequest(link) {
    var when = link.at === null ? null : new Date(link.at * 1000);
    var text = when ? fmt.when(when.toISOString()) : null;
    L.marker(latlng(link.from), { icon: pinIcon('P', 'p'), title: t('pin.pickup') }).addTo(linkLayer)
      .bindTooltip(t('pin.pickup') + (text ? ', ' + text : ''));
    L.marker(latlng(link.to), { icon: pinIcon('D', 'd'), title: t('pin.dropoff') }).addTo(linkLayer)
      .bindTooltip(t('pin.dropoff'));
    fit(L.latLngBounds([latlng(link.from), latlng(link.to)]).pad(0.3));
    linkNote(t('link.request', { id: link.id, when: text ? t('link.request.on', { t: text })
      : link.day ? t('link.request.weeklyday', { day: fmt.day(link.day) }) : t('link.request.weekly') }));
    if (when && when.getTime() < Date.now()) linkNote(t('link.passed'), true);
    $('offer').open = true;
  }

  /* A driver's journey: the page's own search from its pickup to its drop-off, offer N's match drawn. */
  function openOffer(link) {
    setPoint('a', latlng(link.from));
    setPoint('b', latlng(link.to));
    var what = link.day ? t('link.offerday', { id: link.id, day: fmt.day(link.day) })
      : t('link.offerweekly', { id: link.id });
    if (link.at !== null) {
      /* the field shows the browser's clock until the server's answer tells its own zone; the search itself asks
         for the exact instant */
      $('s-depart').value = fieldValue(link.at * 1000, -new Date(link.at * 1000).getTimezoneOffset());
      if (link.at * 1000 < Date.now() - 15 * 60000) {
        linkNote(t('link.passedoffer', { what: what }), true);
        return Promise.resolve();
      }
      return searchLink(link, what, new Date(link.at * 1000).toISOString().replace(/\.[0-9]+Z$/, 'Z'));
    }
    return weeklyDeparture(link).then(function (depart) {
      $('s-depart').value = depart;
      return searchLink(link, what, depart);
    });
  }

  function searchLink(link, what, depart) {
    linkNote(t('link.searching', { what: what }));
    return runSearch(depart, link.id).then(function (found) {
      if (!found) {
        linkNote(t('link.searchfailed'), true);
        return;
      }
      if (link.at !== null && found.length) {
        var off = serverOffset(found[0].pickup.time); /* the field is in the server's zone */
        if (off !== null) $('s-depart').value = fieldValue(link.at * 1000, off);
      }
      if (offerIndex(found, link.id) >= 0)
        linkNote(t('link.found', { id: link.id }));
      else /* the journey is no longer offered */
        linkNote(t('link.gone', { id: link.id }) + ' ' + t(found.length ? 'link.others' : 'link.noothers'), true);
    });
  }

  /* The link gives no time (a weekly trip, or a dated journey without at): offer N's next date from tomorrow on (or
     the link's date) at its departure time plus the drive to the pickup; when the offer cannot be read (another
     client's in auth mode), the link's date or tomorrow at 08:00, the page's default. Resolves with the field's
     value, in the server's zone as the offer's own times are. */
  function weeklyDeparture(link) {
    var fallback = (link.day || tomorrowAt('08:00').slice(0, 10)) + 'T08:00';
    return api('GET', '/v1/offers/' + link.id).then(function (doc) {
      var o = doc.offer, s = o.schedule || {}, start = null;
      var day = s.type === 'regular' ? link.day || nextRunDay(s) : null;
      if (day && typeof s.time === 'string')
        start = day + 'T' + s.time;
      else if (s.type === 'punctual' && typeof s.depart === 'string')
        start = s.depart.slice(0, 16);
      if (!start || isNaN(Date.parse(start + ':00Z'))) throw new Error('no date ahead');
      return api('GET', '/route/v1/driving/' + coords([o.from, link.from]) + '?overview=false').then(function (r) {
        return fieldValue(Date.parse(start + ':00Z') + Math.round(r.routes[0].duration / 60) * 60000, 0);
      }, function () { return start; });
    }).catch(function (e) {
      linkNote(t('link.notime', { id: link.id, why: e.message, when: fallback.replace('T', ' ') }), true);
      return fallback;
    });
  }

  /* The first date from tomorrow on (browser's calendar) that a regular schedule runs, or null. */
  function nextRunDay(s) {
    var names = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
    var days = String(s.weekdays || '').toLowerCase();
    var t = Math.max(Date.parse(tomorrowAt('00:00').slice(0, 10)), Date.parse(s.first_date) || 0);
    var last = Date.parse(s.last_date);
    for (var k = 0; k < 7 && !isNaN(t) && !(t > last); k++, t += DAY_MS)
      if (days.indexOf(names[new Date(t).getUTCDay()]) >= 0) return new Date(t).toISOString().slice(0, 10);
    return null;
  }

  /* --- start: fit the map to the graph (GET /health carries its bounding box), then open a journey's link --- */

  /* The basemap from this server's own vector tiles (OpenMapTiles layers, as tilemaker writes them), drawn by
     protomaps-leaflet on canvas: land, water, parks, buildings, and the roads by their class. */
  function vectorBasemap(vt) {
    var P = window.protomapsL;
    var fill = function (layer, color, filter) {
      return { dataLayer: layer, symbolizer: new P.PolygonSymbolizer({ fill: color }), filter: filter };
    };
    var cls = function (names) {
      return function (z, f) { return names.indexOf(f.props['class']) >= 0; };
    };
    var road = function (names, color, width) {
      return { dataLayer: 'transportation', symbolizer: new P.LineSymbolizer({ color: color, width: width }),
        filter: cls(names) };
    };
    var w = function (z0, w0, z1, w1) { return P.exp(1.6, [[z0, w0], [z1, w1]]); };
    var layer = P.leafletLayer({
      url: vt.url, maxDataZoom: vt.maxzoom, backgroundColor: '#f2efe9', attribution: ATTRIBUTION,
      paintRules: [
        fill('landuse', '#e8e4dc'),
        fill('landcover', '#d8e8c8', cls(['wood', 'forest'])),
        fill('landcover', '#e4efd8', cls(['grass', 'farmland', 'wetland'])),
        fill('park', '#d2e8c4'),
        fill('water', '#aad3df'),
        { dataLayer: 'waterway', symbolizer: new P.LineSymbolizer({ color: '#aad3df', width: 1.5 }) },
        fill('building', '#d9d0c9'),
        road(['path', 'track'], '#c9b9a8', 0.7),
        road(['service', 'minor'], '#ffffff', w(12, 0.5, 18, 9)),
        road(['tertiary', 'secondary'], '#fdf6c6', w(9, 0.6, 18, 12)),
        road(['primary', 'trunk'], '#fbd5a0', w(7, 0.8, 18, 14)),
        road(['motorway'], '#f2a285', w(5, 1, 18, 16)),
        { dataLayer: 'boundary', symbolizer: new P.LineSymbolizer({ color: '#a08db0', width: 1, dash: [3, 2] }) }
      ],
      labelRules: []
    });
    layer.addTo(map);
    return layer;
  }

  api('GET', '/health').then(function (doc) {
    var g = doc.graph || {}, page = doc.page || {}, tiles = page.tiles, vt = page.vector_tiles;
    if (doc.time_zone) I.setZone(doc.time_zone); /* every date and time on the page is the server's */
    var box = g.bbox && g.bbox.length === 4 ? [[g.bbox[1], g.bbox[0]], [g.bbox[3], g.bbox[2]]] : null;
    if (vt && window.protomapsL)
      window.covoit.basemap = vectorBasemap(vt);
    else if (tiles)
      L.tileLayer(tiles, { maxZoom: 19 }).addTo(map);
    if (!vt && !tiles && box) /* no basemap: the covered area, not a grey void */
      L.rectangle(box, { color: '#555', weight: 1, fill: false, dashArray: '4 4' }).addTo(map);
    if (box)
      fit(box);
    var status = function () {
      $('status').textContent = t('status.graph', { src: g.source || '?', n: fmt.integer(g.nodes || 0),
        date: g.osm_timestamp ? t('status.osm', { d: fmt.day(g.osm_timestamp.slice(0, 10)) }) : '' }) +
        (vt ? t('status.tiles') : tiles ? '' : t('status.notiles'));
    };
    status();
    rerenders.push(status);
    /* the licence, and where the source of this covoit is (AGPL-3.0 section 13: the operator's --source-url) */
    var lic = doc.licence || {};
    var licence = function () {
      var p = $('licence');
      p.textContent = '';
      if (!lic.spdx) return;
      p.appendChild(document.createTextNode(t('licence.text', { spdx: lic.spdx })));
      if (lic.source) {
        p.appendChild(document.createTextNode(' · '));
        var a = el('a', '', t('licence.source'));
        a.href = lic.source;
        a.rel = 'noopener';
        p.appendChild(a);
      }
      p.hidden = false;
    };
    licence();
    rerenders.push(licence);
    $('status').dataset.ready = 'true';
    return box;
  }).catch(function (e) {
    map.setView([0, 0], 2);
    $('status').textContent = t('status.nohealth');
    showError(e);
    return null;
  }).then(openLink);
})();
