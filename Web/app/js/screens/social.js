// Every social screen's routes, in one list for main.js.
import { routes as authRoutes } from "./auth.js";
import { routes as feedRoutes } from "./feed.js";
import { routes as profileRoutes } from "./profile.js";
import { routes as libraryRoutes } from "./library.js";
import { routes as searchRoutes } from "./search.js";
import { routes as notificationRoutes } from "./notifications.js";

export const routes = [
  ...authRoutes, ...feedRoutes, ...profileRoutes, ...libraryRoutes, ...searchRoutes, ...notificationRoutes,
];
