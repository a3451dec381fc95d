export { registerAdminRoutes, type AdminState } from './admin-api.js';
