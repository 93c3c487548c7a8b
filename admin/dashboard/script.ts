export const DASHBOARD_JS = '';
