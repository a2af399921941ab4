/* Tend's service worker (issue 17): push reminders only.
 *
 * It shows the notification a reminder sends and opens Tend when it is tapped. It caches nothing and
 * handles no fetch: every page still comes from the server, as without it. What a push carries is
 * the same for everyone ("Tend", "There is something new for you in Tend", a path on this site).
 * Served at /sw.js (accounts/views.py, service_worker) so its scope is the whole site.
 */
"use strict";

const FALLBACK = { title: "Tend", body: "There is something new for you in Tend", url: "/" };

/* Only a path on this site: a push can never send a tap elsewhere. */
function samePath(url) {
  try {
    const target = new URL(url || "/", self.location.origin);
    return target.origin === self.location.origin ? target.pathname : "/";
  } catch (error) {
    return "/";
  }
}

self.addEventListener("push", (event) => {
  let message = FALLBACK;
  try {
    message = Object.assign({}, FALLBACK, event.data ? event.data.json() : {});
  } catch (error) {
    message = FALLBACK;
  }
  event.waitUntil(
    self.registration.showNotification(String(message.title), {
      body: String(message.body),
      tag: "tend-reminder",
      icon: "__TEND_ICON__", // the icon's static URL, filled in by the view
      data: { url: samePath(message.url) },
    }),
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = new URL(samePath(event.notification.data && event.notification.data.url), self.location.origin).href;
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((windows) => {
      const open = windows.find((client) => client.url === url && "focus" in client);
      return open ? open.focus() : self.clients.openWindow(url);
    }),
  );
});
