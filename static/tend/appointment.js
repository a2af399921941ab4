// The appointment view stays open on a shared screen for the length of an appointment: tell the
// server every few minutes that it is in use, so an idle sign-out does not end it mid-session.
// (The absolute session limit still applies; the server decides that, not this script.)
(function () {
  "use strict";
  const marker = document.querySelector("[data-keepalive]");
  const token = document.querySelector('input[name="csrfmiddlewaretoken"]');
  if (marker && token) {
    const ping = () => {
      if (document.visibilityState !== "visible") return;
      fetch(marker.dataset.keepalive, {
        method: "POST",
        headers: { "X-CSRFToken": token.value },
        credentials: "same-origin",
      }).then((response) => {
        // Signed out after all (absolute limit): go to the sign-in page rather than show stale data.
        if (response.redirected || response.status === 403) window.location.reload();
      }).catch(() => {});
    };
    setInterval(ping, 4 * 60 * 1000);
  }

  const button = document.querySelector("[data-fullscreen]");
  if (button && document.documentElement.requestFullscreen) {
    button.hidden = false;
    button.addEventListener("click", () => {
      if (document.fullscreenElement) document.exitFullscreen();
      else document.documentElement.requestFullscreen().catch(() => {});
    });
  }
})();
