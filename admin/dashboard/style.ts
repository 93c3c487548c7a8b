export const DASHBOARD_CSS = '';
