// The dashboard's files, served by the admin server at / (index.html), /dashboard.js and
// /dashboard.css. They are TypeScript string modules rather than .html/.js files so that tsc
// puts them in dist/ with everything else: no copy step, no path to find at run time.
import { DASHBOARD_CSS } from './style.js';
import { DASHBOARD_HTML } from './page.js';
import { DASHBOARD_JS } from './script.js';

export interface Asset {
  readonly type: string;
  readonly body: string;
}

export const DASHBOARD_ASSETS: Readonly<Record<string, Asset>> = Object.freeze({
  '/index.html': { type: 'text/html; charset=utf-8', body: DASHBOARD_HTML },
  '/dashboard.js': { type: 'text/javascript; charset=utf-8', body: DASHBOARD_JS },
  '/dashboard.css': { type: 'text/css; charset=utf-8', body: DASHBOARD_CSS },
});
