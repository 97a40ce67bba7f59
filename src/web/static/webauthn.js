// Security keys and passkeys: each form[data-webauthn] is shown only where the
// browser supports WebAuthn; submitting it fetches the ceremony's options,
// runs the ceremony, and posts the browser's answer in the "credential" field.
(function () {
  'use strict';
  var lib = window.SimpleWebAuthnBrowser;
  if (!lib || !lib.browserSupportsWebAuthn()) return;

  function options(form) {
    var body = new URLSearchParams({ ceremony: form.dataset.webauthn });
    if (form.elements.token) body.set('token', form.elements.token.value);
    return fetch('/cas/webauthn/options', { method: 'POST', body: body, credentials: 'same-origin' }).then(function (response) {
      return response.json().then(function (json) {
        if (!response.ok) throw { serverMessage: json.error };
        return json;
      });
    });
  }

  function run(form, optionsJSON) {
    var creates = form.dataset.webauthn === 'register' || form.dataset.webauthn === 'add';
    return creates ? lib.startRegistration({ optionsJSON: optionsJSON }) : lib.startAuthentication({ optionsJSON: optionsJSON });
  }

  document.querySelectorAll('form[data-webauthn]').forEach(function (form) {
    var status = form.querySelector('[data-webauthn-status]');
    form.hidden = false;
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      status.textContent = '';
      options(form)
        .then(function (optionsJSON) { return run(form, optionsJSON); })
        .then(function (credential) {
          form.elements.credential.value = JSON.stringify(credential);
          form.submit();
        })
        .catch(function (error) {
          status.textContent = (error && error.serverMessage) || form.dataset.webauthnFailed;
        });
    });
  });
})();
