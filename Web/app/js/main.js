// Boot: restore the session, wire the header and the live stream, then route.
import { startHeader } from "./header.js";
import { live } from "./events.js";
import { addRoutes, navigate, startRouter } from "./router.js";
import { session } from "./session.js";
import { routes as socialRoutes } from "./screens/social.js";
import { routes as walletRoutes } from "./screens/wallet.js";
import { routes as subscriptionRoutes } from "./screens/subscriptions.js";
import { routes as effectRoutes } from "./screens/effects.js";
import { routes as adminRoutes } from "./screens/admin.js";

addRoutes([...socialRoutes, ...walletRoutes, ...subscriptionRoutes, ...effectRoutes, ...adminRoutes]);

async function boot() {
  // A reload of this tab keeps the refresh token (sessionStorage): trade it for a new access token first, so the
  // first screen already renders signed in.
  await session.restore();
  startHeader();

  let signedInAs = session.user?.id ?? null;
  if (signedInAs) live.start();
  session.onChange((user) => {
    const id = user?.id ?? null;
    if (id === signedInAs) return;
    const wasSignedIn = signedInAs !== null;
    signedInAs = id;
    live.stop();
    if (id) {
      live.start();
    } else if (wasSignedIn) {
      // Signed out (or the session was revoked): nothing of the old account stays on screen, open dialogs included.
      for (const dialog of document.querySelectorAll("dialog[open]")) dialog.close();
      navigate("#/login");
    }
  });

  startRouter(document.getElementById("main"));
}

boot();
