// Colours: light, dark, or whatever the device asks for ("system"). Loaded in <head>, not deferred, so
// it runs before the first paint: a stored "light" or "dark" is already in <html data-bs-theme> from the
// server (accounts/theme.py); for "system" this sets it from prefers-color-scheme, so a dark room never
// sees a light page flash. No inline script anywhere: the Content-Security-Policy forbids it.
// Charts (charts.js) redraw on "tend:themechange", sent whenever the colours change after the first paint.
(function () {
  "use strict";
  const root = document.documentElement;
  // "Scripts run here": set before the first paint, so what CSS shows only without a script (the phone's
  // menu, open) never flashes on a page that has one.
  root.classList.add("js");
  const darkDevice = window.matchMedia("(prefers-color-scheme: dark)");

  function choice() {
    return root.getAttribute("data-tend-theme") || "system";
  }

  function wanted() {
    const c = choice();
    if (c === "light" || c === "dark") return c;
    return darkDevice.matches ? "dark" : "light";
  }

  function show(theme) {
    if (root.getAttribute("data-bs-theme") === theme) return;
    root.setAttribute("data-bs-theme", theme);
    document.dispatchEvent(new CustomEvent("tend:themechange", { detail: { theme: theme } }));
  }

  // Before the first paint (no event yet: nothing is drawn).
  root.setAttribute("data-bs-theme", wanted());

  darkDevice.addEventListener("change", () => {
    if (choice() === "system") show(wanted());
  });

  // Paper is white: print in the light colours, charts included, then back.
  window.addEventListener("beforeprint", () => show("light"));
  window.addEventListener("afterprint", () => show(wanted()));

  // Stored in the background; without "next" the server answers 204 (accounts/views.py, theme_set).
  // One request at a time, the latest choice last (arrow keys on the select send a change per press),
  // so the server can't end up with an earlier one; keepalive lets it finish if the page is left.
  let saving = false;
  let again = null;
  function save(form) {
    if (saving) {
      again = form;
      return;
    }
    saving = true;
    const data = new FormData(form);
    data.delete("next");
    fetch(form.action, { method: "POST", body: data, credentials: "same-origin", keepalive: true })
      .catch(() => {
        // Offline: this page keeps the new colours; the next page shows the stored ones.
      })
      .finally(() => {
        saving = false;
        const next = again;
        again = null;
        if (next) save(next);
      });
  }

  function pick(form, value) {
    root.setAttribute("data-tend-theme", value);
    const meta = document.querySelector('meta[name="color-scheme"]');
    if (meta) meta.content = value === "system" ? "light dark" : value;
    show(wanted());
    save(form);
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("form[data-theme-form]").forEach((form) => {
      form.querySelectorAll("[data-theme-save]").forEach((button) => { button.hidden = true; });
      form.addEventListener("change", (event) => {
        if (event.target.name === "theme") pick(form, event.target.value);
      });
    });
  });
})();
