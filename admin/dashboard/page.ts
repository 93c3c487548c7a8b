// The dashboard's one page. Sections are filled by dashboard.js from the /v1 views; ids and
// data-* attributes are what the browser test (and a curious operator) can rely on.
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>troupe</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/dashboard.css">
<script src="/dashboard.js" defer></script>
</head>
<body>
<header>
  <h1>troupe <span id="node-name">…</span></h1>
  <span id="cluster-line" class="muted"></span>
  <span id="ready" class="pill" data-ready="unknown">readiness …</span>
  <span id="updated" class="muted"></span>
</header>
<main>
  <section id="members-section">
    <h2>Members</h2>
    <table id="members"><thead><tr><th>node</th><th>state</th><th>incarnation</th><th>address</th></tr></thead>
    <tbody></tbody></table>
  </section>
  <section id="raft-section">
    <h2>Raft groups</h2>
    <div id="raft"><p class="muted">no Raft host on this node</p></div>
  </section>
  <section id="pg-section">
    <h2>Process groups</h2>
    <table id="pg"><thead><tr><th>scope</th><th>group</th><th>members</th><th>local</th></tr></thead>
    <tbody></tbody></table>
  </section>
  <section id="names-section">
    <h2>Names</h2>
    <table id="names"><thead><tr><th>tier</th><th>count</th></tr></thead><tbody></tbody></table>
  </section>
  <section id="queues-section">
    <h2>Queues to peers</h2>
    <table id="queues"><thead></thead><tbody></tbody></table>
    <div id="queue-chart" class="chart"></div>
    <table id="drops"><thead><tr><th>class</th><th>overflow</th><th>discarded</th><th>rejected</th></tr></thead>
    <tbody></tbody></table>
  </section>
  <section id="events-section">
    <h2>Membership events</h2>
    <ol id="events" reversed></ol>
  </section>
</main>
<footer class="muted">Polls this node's admin server every second · <a href="/metrics">/metrics</a> ·
<a href="/v1/status">/v1/status</a> · <a href="/readyz">/readyz</a></footer>
</body>
</html>
`;
