// Passkeys: allauth's scripts (mfa/js/webauthn.js) report a cancelled or failed passkey as an
// "allauth.error" event, and log it to the console unless someone handles it. Tend handles it: the
// calm sentence of templates/mfa/webauthn/snippets/scripts.html shows, and takes the focus so a
// screen reader says it.
(function () {
  'use strict'
  document.addEventListener('allauth.error', function (event) {
    const tags = (event.detail && event.detail.tags) || []
    if (tags.indexOf('webauthn') === -1) return
    event.preventDefault()
    const box = document.getElementById('tend-passkey-problem')
    if (box) {
      box.hidden = false
      box.focus()
    }
  })
})()
