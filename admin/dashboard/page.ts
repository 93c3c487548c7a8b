export const DASHBOARD_HTML = '';
