/* The Reminders page's notification switch (issue 17): turn push reminders on or off in this browser.
 *
 * The section #tend-push carries the server's public key, the two addresses and SHA-256 digests of the
 * browsers the server keeps (never the endpoints). "Turn on" asks for permission, registers /sw.js,
 * subscribes with the public key and posts the subscription as JSON with the CSRF header; "Turn off"
 * tells the server, then unsubscribes. No inline script: everything is here.
 */
(function () {
  "use strict";

  const section = document.getElementById("tend-push");
  if (!section) {
    return;
  }
  const status = section.querySelector("[data-push-status]");
  const onButton = section.querySelector("[data-push-on]");
  const offButton = section.querySelector("[data-push-off]");
  const csrf = section.querySelector("input[name=csrfmiddlewaretoken]").value;
  const kept = (section.dataset.digests || "").split(" ").filter(Boolean);

  function say(key) {
    status.textContent = section.dataset[key];
  }

  function show(on) {
    onButton.hidden = on;
    offButton.hidden = !on;
    say(on ? "sayOn" : "sayOff");
  }

  function keyBytes(base64url) {
    const base64 = (base64url + "=".repeat((4 - (base64url.length % 4)) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  }

  function sameKey(buffer, key) {
    const bytes = new Uint8Array(buffer || []);
    return bytes.length === key.length && bytes.every((b, i) => b === key[i]);
  }

  async function digest(text) {
    const hash = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
    return Array.from(new Uint8Array(hash), (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body),
    });
  }

  async function registration() {
    await navigator.serviceWorker.register(section.dataset.worker, { scope: "/" });
    return navigator.serviceWorker.ready;
  }

  async function turnOn() {
    onButton.disabled = true;
    try {
      const permission = await Notification.requestPermission();
      if (permission !== "granted") {
        say("sayBlocked");
        return;
      }
      const reg = await registration();
      const key = keyBytes(section.dataset.key);
      let subscription = await reg.pushManager.getSubscription();
      if (subscription && !sameKey(subscription.options.applicationServerKey, key)) {
        // Made with an earlier key pair of the practice: no longer usable.
        await subscription.unsubscribe();
        subscription = null;
      }
      subscription = subscription || (await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key }));
      const response = await post(section.dataset.subscribe, subscription.toJSON());
      if (!response.ok) {
        await subscription.unsubscribe();
        say("sayFailed");
        return;
      }
      show(true);
    } catch (error) {
      say("sayFailed");
    } finally {
      onButton.disabled = false;
    }
  }

  async function turnOff() {
    offButton.disabled = true;
    try {
      const reg = await navigator.serviceWorker.getRegistration("/");
      const subscription = reg && (await reg.pushManager.getSubscription());
      if (subscription) {
        const response = await post(section.dataset.unsubscribe, { endpoint: subscription.endpoint });
        if (!response.ok) {
          say("sayFailed");
          return;
        }
        await subscription.unsubscribe();
      }
      show(false);
    } catch (error) {
      say("sayFailed");
    } finally {
      offButton.disabled = false;
    }
  }

  async function start() {
    if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) {
      say("sayUnsupported");
      onButton.hidden = true;
      return;
    }
    onButton.addEventListener("click", turnOn);
    offButton.addEventListener("click", turnOff);
    let on = false;
    try {
      // Only looked up here: the worker is registered when someone turns notifications on.
      const reg = await navigator.serviceWorker.getRegistration("/");
      const subscription = reg && (await reg.pushManager.getSubscription());
      // Kept by the server too? Not after "Sign out everywhere": then this browser is off.
      on = Boolean(subscription) && Notification.permission === "granted" && kept.includes(await digest(subscription.endpoint));
      if (subscription && !on) {
        await subscription.unsubscribe();
      }
    } catch (error) {
      on = false;
    }
    if (Notification.permission === "denied") {
      say("sayBlocked");
      onButton.hidden = false;
      offButton.hidden = true;
      return;
    }
    show(on);
  }

  start();
})();
