// The dashboard's script: polls the /v1 views and /readyz once a second, renders them with DOM
// calls (text only, never HTML from data), and keeps a bounded history for the charts, which are
// drawn by hand as SVG polylines. Plain ES2020 for any current browser; no build step, no CDN.
export const DASHBOARD_JS = String.raw`'use strict';
(function () {
  var INTERVAL_MS = 1000;
  var MAX_POINTS = 120;
  var COLORS = ['#0969da', '#cf222e', '#1a7f37', '#9a6700', '#8250df', '#bf3989', '#0a7d8c', '#6e7781'];
  var SVG = 'http://www.w3.org/2000/svg';
  /** Time series by chart id, then by series name: arrays of numbers, at most MAX_POINTS long. */
  var history = {};

  function $(id) { return document.getElementById(id); }
  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }
  function row(cells, attrs) {
    var tr = document.createElement('tr');
    cells.forEach(function (c) {
      var td = el('td');
      if (c instanceof Node) td.appendChild(c);
      else td.textContent = String(c);
      tr.appendChild(td);
    });
    Object.keys(attrs || {}).forEach(function (k) { tr.setAttribute(k, attrs[k]); });
    return tr;
  }
  function fill(tbody, rows) {
    tbody.replaceChildren.apply(tbody, rows);
  }
  function record(chart, name, value) {
    var c = history[chart] || (history[chart] = {});
    var s = c[name] || (c[name] = []);
    s.push(value);
    if (s.length > MAX_POINTS) s.shift();
  }
  /** Keeps only the named series of a chart (a peer that left stops being drawn). */
  function keep(chart, names) {
    var c = history[chart] || {};
    Object.keys(c).forEach(function (n) { if (names.indexOf(n) < 0) delete c[n]; });
  }

  /** A line chart of every series of one history entry, scaled to the largest value seen. */
  function drawChart(container, chart, label) {
    var series = history[chart] || {};
    var names = Object.keys(series);
    var w = 400, h = 80, pad = 18;
    var max = 1;
    names.forEach(function (n) { series[n].forEach(function (v) { if (v > max) max = v; }); });
    var svg = document.createElementNS(SVG, 'svg');
    svg.setAttribute('viewBox', '0 0 ' + w + ' ' + (h + 10));
    svg.setAttribute('preserveAspectRatio', 'none');
    svg.setAttribute('role', 'img');
    svg.setAttribute('aria-label', label);
    var axis = document.createElementNS(SVG, 'line');
    axis.setAttribute('x1', pad); axis.setAttribute('x2', w); axis.setAttribute('y1', h); axis.setAttribute('y2', h);
    axis.setAttribute('class', 'axis');
    svg.appendChild(axis);
    var top = document.createElementNS(SVG, 'text');
    top.setAttribute('x', 0); top.setAttribute('y', 10); top.textContent = String(max);
    svg.appendChild(top);
    var zero = document.createElementNS(SVG, 'text');
    zero.setAttribute('x', 0); zero.setAttribute('y', h); zero.textContent = '0';
    svg.appendChild(zero);
    var legend = el('div', null, 'legend');
    names.forEach(function (n, i) {
      var pts = series[n];
      var step = (w - pad) / (MAX_POINTS - 1);
      var x0 = w - step * (pts.length - 1);
      var line = document.createElementNS(SVG, 'polyline');
      line.setAttribute('fill', 'none');
      line.setAttribute('stroke', COLORS[i % COLORS.length]);
      line.setAttribute('stroke-width', '1.5');
      line.setAttribute('points', pts.map(function (v, j) {
        return (x0 + j * step).toFixed(1) + ',' + (h - (v / max) * (h - 12)).toFixed(1);
      }).join(' '));
      line.setAttribute('data-series', n);
      svg.appendChild(line);
      var item = el('span', n + ' ' + pts[pts.length - 1]);
      var sw = el('span', null, 'swatch');
      sw.style.background = COLORS[i % COLORS.length];
      item.prepend(sw);
      legend.appendChild(item);
    });
    var title = el('div', label, 'muted');
    container.replaceChildren(title, svg, legend);
  }

  function renderStatus(s) {
    $('node-name').textContent = s.node;
    document.title = 'troupe ' + s.node;
    $('cluster-line').textContent = 'cluster ' + s.cluster + ' · troupe ' + s.version + ' · up ' +
      Math.round(s.uptimeSeconds) + ' s · ' + s.processes + ' processes';
    fill($('members').tBodies[0], s.members.map(function (m) {
      return row([
        m.node + (m.self ? ' (this node)' : ''),
        el('span', m.state, 'state-' + m.state),
        m.incarnation,
        m.address || '-'
      ], { 'data-node': m.node, 'data-state': m.state });
    }));
    var events = $('events');
    events.replaceChildren.apply(events, s.events.slice().reverse().map(function (e) {
      var li = el('li', new Date(e.at).toLocaleTimeString() + ' ' + e.node + ' ' + e.type +
        ' (incarnation ' + e.incarnation + ')' + (e.reason ? ': ' + e.reason : ''));
      li.setAttribute('data-event', e.type);
      li.setAttribute('data-node', e.node);
      return li;
    }));
  }

  function renderRaft(r) {
    var box = $('raft');
    if (!r.enabled || r.groups.length === 0) return;
    var cards = r.groups.map(function (g) {
      var card = el('div', null, 'group');
      card.setAttribute('data-group', g.id);
      var head = el('div');
      head.appendChild(el('strong', g.id));
      head.appendChild(document.createTextNode(' · leader '));
      var leader = el('span', g.leader || 'none', 'leader');
      leader.id = 'raft-leader-' + g.id;
      head.appendChild(leader);
      head.appendChild(document.createTextNode(' · this node: ' + g.role + ' · term ' + g.term +
        ' · commit ' + g.commit + ' · applied ' + g.applied));
      card.appendChild(head);
      card.appendChild(el('div', 'voters ' + g.voters.join(', ') +
        (g.learners.length ? ' · learners ' + g.learners.join(', ') : '') +
        ' · snapshot at ' + g.snapshot.index, 'muted'));
      var chart = 'raft:' + g.id;
      record(chart, r.node + ' (commit − applied)', g.applyLag);
      var names = [r.node + ' (commit − applied)'];
      g.peers.forEach(function (p) {
        record(chart, p.id + ' (behind leader)', p.lag);
        names.push(p.id + ' (behind leader)');
      });
      keep(chart, names);
      var c = el('div', null, 'chart');
      drawChart(c, chart, 'entries behind, last ' + MAX_POINTS + ' s');
      card.appendChild(c);
      return card;
    });
    box.replaceChildren.apply(box, cards);
  }

  function renderPg(p) {
    var rows = [];
    p.scopes.forEach(function (s) {
      s.groups.forEach(function (g) {
        rows.push(row([s.scope, g.group, g.members, g.local], { 'data-scope': s.scope, 'data-group': g.group,
          'data-members': String(g.members) }));
      });
      if (s.groups.length === 0) rows.push(row([s.scope, '(no groups)', '', ''], { 'data-scope': s.scope }));
    });
    fill($('pg').tBodies[0], rows);
  }

  function renderNames(n) {
    fill($('names').tBodies[0], Object.keys(n.tiers).map(function (t) {
      return row([t, n.tiers[t] === null ? 'off' : n.tiers[t]], { 'data-tier': t });
    }));
  }

  function renderQueues(q) {
    var table = $('queues');
    if (!q.enabled) { fill(table.tBodies[0], [row(['this node runs alone'])]); return; }
    var headRow = row(['peer'].concat(q.classes));
    headRow.querySelectorAll('td').forEach(function (td) {
      var th = el('th', td.textContent); td.replaceWith(th);
    });
    table.tHead.replaceChildren(headRow);
    var names = [];
    fill(table.tBodies[0], q.peers.map(function (p) {
      var total = 0;
      q.classes.forEach(function (c) { total += p.depth[c]; });
      record('queues', p.node, total);
      names.push(p.node);
      return row([p.node].concat(q.classes.map(function (c) { return p.depth[c]; })), { 'data-peer': p.node });
    }));
    keep('queues', names);
    drawChart($('queue-chart'), 'queues', 'frames queued per peer');
    fill($('drops').tBodies[0], q.classes.map(function (c) {
      var d = q.drops[c];
      return row([c, d.overflow, d.discarded, d.rejected]);
    }));
  }

  function get(path) {
    return fetch(path, { cache: 'no-store' }).then(function (r) { return r.json(); });
  }

  function poll() {
    Promise.all(['/v1/status', '/v1/raft', '/v1/pg', '/v1/names', '/v1/queues', '/readyz'].map(get)).then(function (v) {
      renderStatus(v[0]); renderRaft(v[1]); renderPg(v[2]); renderNames(v[3]); renderQueues(v[4]);
      var ready = $('ready');
      var ok = v[5].status === 'ok';
      ready.setAttribute('data-ready', ok ? 'ready' : 'failing');
      ready.textContent = ok ? 'ready' : 'not ready: ' + Object.keys(v[5].checks).filter(function (k) {
        return !v[5].checks[k].ok;
      }).map(function (k) { return k + ' (' + v[5].checks[k].detail + ')'; }).join('; ');
      $('updated').textContent = 'updated ' + new Date().toLocaleTimeString();
      $('updated').setAttribute('data-polls', String(Number($('updated').getAttribute('data-polls') || 0) + 1));
    }).catch(function (e) {
      var ready = $('ready');
      ready.setAttribute('data-ready', 'failing');
      ready.textContent = 'admin server unreachable (' + e.message + ')';
    }).finally(function () { setTimeout(poll, INTERVAL_MS); });
  }
  poll();
})();
`;
