// passkeys.js: WebAuthn ceremonies for Gatehouse pages. No inline code (the
// CSP forbids it); the script binds to elements by data attributes:
//
//   <button type="button" data-passkey-register
//           data-begin="/account/passkeys/register/begin"
//           data-finish="/account/passkeys/register/finish"
//           [data-name-input="#passkey-name"]
//           [data-include="#link-token"]>Add passkey</button>
//   <button type="button" data-passkey-login
//           data-begin="/login/passkey/begin" data-finish="/login/passkey/finish">Use passkey</button>
//   <input name="username" autocomplete="username webauthn"
//          data-passkey-autofill data-begin="…" data-finish="…">
//
// The CSRF token is read from <meta name="csrf-token"> or the nearest form's
// hidden input csrf_token. Requests are application/x-www-form-urlencoded
// with csrf_token; begin answers {"options": {"publicKey": …}, "handle"};
// finish receives handle, credential (the credential's JSON, as a string)
// and, for registration, name, and answers {"redirect": "…"}; errors are
// problem+json ({"detail"}) and are shown in the element named by
// data-error (a selector) or the page's [data-passkey-error] element.
// data-include names inputs (a selector) whose name and value go with both
// posts (the invitation page's token). Elements marked data-passkey-offer
// are hidden in the page and shown only where WebAuthn runs, so a browser
// without script or passkeys sees the form that works without them.
(function () {
  "use strict";

  function b64urlToBuf(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) s += "=";
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }

  function bufToB64url(buf) {
    var bytes = new Uint8Array(buf), bin = "";
    for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function mapIDs(list) {
    return (list || []).map(function (c) {
      var o = Object.assign({}, c);
      o.id = b64urlToBuf(c.id);
      return o;
    });
  }

  // Options from JSON, with the native parser where the browser has it.
  function creationOptions(json) {
    if (window.PublicKeyCredential && PublicKeyCredential.parseCreationOptionsFromJSON) {
      return PublicKeyCredential.parseCreationOptionsFromJSON(json);
    }
    var o = Object.assign({}, json);
    o.challenge = b64urlToBuf(json.challenge);
    o.user = Object.assign({}, json.user, { id: b64urlToBuf(json.user.id) });
    o.excludeCredentials = mapIDs(json.excludeCredentials);
    return o;
  }

  function requestOptions(json) {
    if (window.PublicKeyCredential && PublicKeyCredential.parseRequestOptionsFromJSON) {
      return PublicKeyCredential.parseRequestOptionsFromJSON(json);
    }
    var o = Object.assign({}, json);
    o.challenge = b64urlToBuf(json.challenge);
    o.allowCredentials = mapIDs(json.allowCredentials);
    return o;
  }

  // The credential as JSON (WebAuthn L3 §5.1.8), with a fallback.
  function credentialJSON(cred) {
    if (typeof cred.toJSON === "function") {
      try { return cred.toJSON(); } catch (e) { /* fall through */ }
    }
    var r = cred.response, resp = { clientDataJSON: bufToB64url(r.clientDataJSON) };
    if (r.attestationObject) {
      resp.attestationObject = bufToB64url(r.attestationObject);
      if (r.getTransports) resp.transports = r.getTransports();
    } else {
      resp.authenticatorData = bufToB64url(r.authenticatorData);
      resp.signature = bufToB64url(r.signature);
      if (r.userHandle) resp.userHandle = bufToB64url(r.userHandle);
    }
    return {
      id: cred.id, rawId: bufToB64url(cred.rawId), type: cred.type, response: resp,
      authenticatorAttachment: cred.authenticatorAttachment || undefined,
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {}
    };
  }

  function csrfToken(el) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) return meta.getAttribute("content");
    var form = el.closest("form") || document;
    var input = form.querySelector('input[name="csrf_token"]');
    return input ? input.value : "";
  }

  // The problem type of a sensitive action asked without a recent sign-in.
  var REAUTH = "https://gatehouse.dev/problems/reauthentication-required";

  // The fields of the inputs named by the element's data-include.
  function included(el, fields) {
    var out = Object.assign({}, fields || {}), sel = el.getAttribute("data-include");
    if (sel) {
      document.querySelectorAll(sel).forEach(function (input) {
        if (input.name) out[input.name] = input.value;
      });
    }
    return out;
  }

  function post(url, el, fields) {
    var body = new URLSearchParams(included(el, fields));
    body.set("csrf_token", csrfToken(el));
    return fetch(url, {
      method: "POST", credentials: "same-origin", body: body,
      headers: { "Accept": "application/json" }
    }).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (data) {
        if (res.status === 401 && data.type === REAUTH) {
          // A sensitive action needs a recent sign-in: confirm it, then come back.
          window.location.assign("/account/confirm?return_to=" + encodeURIComponent(window.location.pathname));
          return new Promise(function () {});
        }
        if (!res.ok) throw new Error(data.detail || data.message || "The request failed (" + res.status + ").");
        return data;
      });
    });
  }

  function showError(el, err) {
    if (err && err.name === "AbortError") return;
    var sel = el.getAttribute("data-error");
    var box = (sel && document.querySelector(sel)) || document.querySelector("[data-passkey-error]");
    var msg = err && err.name === "NotAllowedError"
      ? "The passkey request was cancelled or timed out."
      : (err && err.message) || "Something went wrong with the passkey.";
    if (box) { box.textContent = msg; box.hidden = false; } else { window.alert(msg); }
  }

  function follow(data) {
    if (data && typeof data.redirect === "string" && data.redirect.charAt(0) === "/" && data.redirect.charAt(1) !== "/") {
      window.location.assign(data.redirect);
    } else {
      window.location.reload();
    }
  }

  var pending = null; // the AbortController of a conditional request

  function register(el) {
    var nameSel = el.getAttribute("data-name-input"), handle;
    return post(el.getAttribute("data-begin"), el).then(function (begin) {
      handle = begin.handle;
      return navigator.credentials.create({ publicKey: creationOptions(begin.options.publicKey) });
    }).then(function (cred) {
      var nameInput = nameSel && document.querySelector(nameSel);
      return post(el.getAttribute("data-finish"), el, {
        handle: handle, name: nameInput ? nameInput.value : "",
        credential: JSON.stringify(credentialJSON(cred))
      });
    });
  }

  function login(el, conditional) {
    var handle;
    return post(el.getAttribute("data-begin"), el).then(function (begin) {
      handle = begin.handle;
      var req = { publicKey: requestOptions(begin.options.publicKey) };
      if (conditional) {
        pending = new AbortController();
        req.mediation = "conditional";
        req.signal = pending.signal;
      }
      return navigator.credentials.get(req);
    }).then(function (cred) {
      return post(el.getAttribute("data-finish"), el, {
        handle: handle, credential: JSON.stringify(credentialJSON(cred))
      });
    });
  }

  function bind(selector, run) {
    document.querySelectorAll(selector).forEach(function (el) {
      el.addEventListener("click", function (ev) {
        ev.preventDefault();
        if (pending) { pending.abort(); pending = null; }
        el.disabled = true;
        run(el).then(follow, function (err) { el.disabled = false; showError(el, err); });
      });
    });
  }

  function init() {
    if (!window.PublicKeyCredential || !navigator.credentials) {
      document.querySelectorAll("[data-passkey-register],[data-passkey-login],[data-passkey-confirm]").forEach(function (el) {
        el.hidden = true;
      });
      return;
    }
    document.querySelectorAll("[data-passkey-offer]").forEach(function (el) { el.hidden = false; });
    bind("[data-passkey-register]", register);
    bind("[data-passkey-login]", function (el) { return login(el, false); });
    // "Confirm it's you": prove the passkey, then post the original form.
    document.querySelectorAll("[data-passkey-confirm]").forEach(function (el) {
      el.addEventListener("click", function (ev) {
        ev.preventDefault();
        el.disabled = true;
        login(el, false).then(function () {
          document.querySelector(el.getAttribute("data-submit")).submit();
        }, function (err) { el.disabled = false; showError(el, err); });
      });
    });
    var auto = document.querySelector('input[data-passkey-autofill][autocomplete~="webauthn"]');
    if (auto && PublicKeyCredential.isConditionalMediationAvailable) {
      PublicKeyCredential.isConditionalMediationAvailable().then(function (ok) {
        if (ok) login(auto, true).then(follow, function (err) { showError(auto, err); });
      });
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
