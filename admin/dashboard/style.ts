// The dashboard's style sheet: plain CSS, light and dark by the system's preference.
export const DASHBOARD_CSS = `:root { --bg: #fafafa; --fg: #1d1d1f; --muted: #6e6e73; --card: #fff; --line: #e0e0e5;
  --up: #1a7f37; --down: #cf222e; --accent: #0969da; font: 14px/1.4 system-ui, sans-serif; }
@media (prefers-color-scheme: dark) { :root { --bg: #111; --fg: #eee; --muted: #999; --card: #1c1c1e;
  --line: #333; --up: #3fb950; --down: #f85149; --accent: #58a6ff; } }
body { margin: 0; background: var(--bg); color: var(--fg); }
header { display: flex; gap: 1em; align-items: baseline; flex-wrap: wrap; padding: .8em 1.2em;
  border-bottom: 1px solid var(--line); background: var(--card); }
h1 { font-size: 1.3em; margin: 0; } h2 { font-size: 1.05em; margin: 0 0 .5em; }
main { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 1em; padding: 1em; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: .8em 1em; }
table { border-collapse: collapse; width: 100%; margin-bottom: .6em; }
th, td { text-align: left; padding: .2em .5em; border-bottom: 1px solid var(--line);
  font-variant-numeric: tabular-nums; }
th { color: var(--muted); font-weight: 500; }
.muted { color: var(--muted); }
.pill { padding: .1em .6em; border-radius: 999px; border: 1px solid var(--line); }
.state-up, .pill[data-ready="ready"] { color: var(--up); font-weight: 600; }
.state-down, .state-stopping, .pill[data-ready="failing"] { color: var(--down); font-weight: 600; }
.group { border-top: 1px solid var(--line); padding-top: .5em; margin-top: .5em; }
.group:first-child { border-top: 0; margin-top: 0; padding-top: 0; }
.chart svg { width: 100%; height: 90px; display: block; }
.chart .axis { stroke: var(--line); } .chart text { fill: var(--muted); font-size: 10px; }
.legend { display: flex; gap: 1em; flex-wrap: wrap; font-size: .85em; color: var(--muted); }
.swatch { display: inline-block; width: .8em; height: .8em; border-radius: 2px; margin-right: .3em;
  vertical-align: -1px; }
ol#events { margin: 0; padding-left: 1.5em; max-height: 16em; overflow: auto; }
footer { padding: 0 1.2em 1em; } a { color: var(--accent); }
`;
