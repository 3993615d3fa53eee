// The sign-in page: password (then a TOTP or recovery code when the account
// has one), a forced password change, passkeys, and links to the tenant's
// single sign-on providers. After signing in the browser goes to /account:
// the application front end does not exist yet.
import {
  APIError, busy, getJSON, passkeysSupported, postJSON, showError, showNotice,
} from "/assets/api.js";

const $ = (id) => document.getElementById(id);
const tenantKey = "custos.tenant";

const els = {
  error: $("error"),
  notice: $("notice"),
  loginForm: $("login-form"),
  tenant: $("tenant"),
  email: $("email"),
  password: $("password"),
  loginSubmit: $("login-submit"),
  alternatives: $("alternatives"),
  passkeyLogin: $("passkey-login"),
  sso: $("sso"),
  ssoProviders: $("sso-providers"),
  mfaForm: $("mfa-form"),
  mfaCode: $("mfa-code"),
  mfaCodeLabel: $("mfa-code-label"),
  mfaRecovery: $("mfa-recovery"),
  mfaRecoveryLabel: $("mfa-recovery-label"),
  mfaSubmit: $("mfa-submit"),
  mfaUseRecovery: $("mfa-use-recovery"),
  mfaCancel: $("mfa-cancel"),
  passwordForm: $("password-form"),
  passwordUsername: $("password-username"),
  currentPassword: $("current-password"),
  newPassword: $("new-password"),
  newPasswordConfirm: $("new-password-confirm"),
  passwordSubmit: $("password-submit"),
};

let mfaChallenge = "";
let useRecovery = false;

// show makes one step of the page visible.
function show(step) {
  els.loginForm.hidden = step !== "login";
  els.alternatives.hidden = step !== "login";
  els.mfaForm.hidden = step !== "mfa";
  els.passwordForm.hidden = step !== "password";
}

function goToAccount(query) {
  window.location.assign("/account" + (query || ""));
}

// afterSession moves on from an answer that carries a session: a session
// restricted to changing the password stays here; one restricted to
// enrolling a second factor goes to the account page to enrol.
function afterSession(resp) {
  switch (resp.restriction) {
    case "password_change":
      els.passwordUsername.value = els.email.value.trim();
      els.currentPassword.value = els.password.value;
      show("password");
      showNotice(els.notice, "");
      (els.currentPassword.value ? els.newPassword : els.currentPassword).focus();
      return;
    case "mfa_enrolment":
      goToAccount("?setup=mfa");
      return;
  }
  goToAccount("");
}

async function login(event) {
  event.preventDefault();
  showError(els.error, null);
  const tenant = els.tenant.value.trim();
  try {
    const resp = await busy([els.loginSubmit, els.passkeyLogin], () => postJSON("/auth/login", {
      tenant, email: els.email.value.trim(), password: els.password.value,
    }));
    try {
      localStorage.setItem(tenantKey, tenant);
    } catch {
      // Storage may be off; remembering the tenant is a convenience.
    }
    if (resp && resp.mfaRequired) {
      mfaChallenge = resp.challenge;
      setRecovery(false);
      show("mfa");
      els.mfaCode.focus();
      return;
    }
    afterSession(resp || {});
  } catch (err) {
    showError(els.error, err);
    els.password.select();
  }
}

function setRecovery(on) {
  useRecovery = on;
  els.mfaCode.hidden = on;
  els.mfaCodeLabel.hidden = on;
  els.mfaRecovery.hidden = !on;
  els.mfaRecoveryLabel.hidden = !on;
  els.mfaUseRecovery.textContent = on
    ? "Use a code from the app instead (改用验证器应用中的验证码)"
    : "Use a recovery code instead (改用恢复码)";
  els.mfaCode.value = "";
  els.mfaRecovery.value = "";
}

async function verifyMFA(event) {
  event.preventDefault();
  showError(els.error, null);
  const body = { challenge: mfaChallenge };
  if (useRecovery) {
    body.recoveryCode = els.mfaRecovery.value.trim();
  } else {
    body.code = els.mfaCode.value.replace(/\s+/g, "");
  }
  try {
    const resp = await busy([els.mfaSubmit], () => postJSON("/auth/mfa", body));
    afterSession(resp || {});
  } catch (err) {
    // A challenge is single-use: after a wrong code, start again.
    mfaChallenge = "";
    showError(els.error, err);
    els.password.value = "";
    show("login");
    els.password.focus();
  }
}

async function changePassword(event) {
  event.preventDefault();
  showError(els.error, null);
  if (els.newPassword.value !== els.newPasswordConfirm.value) {
    showError(els.error, new Error("The new passwords do not match (两次输入的新密码不一致)"));
    return;
  }
  try {
    const resp = await busy([els.passwordSubmit], () => postJSON("/auth/password", {
      currentPassword: els.currentPassword.value, newPassword: els.newPassword.value,
    }));
    els.password.value = "";
    if (resp && resp.restriction === "mfa_enrolment") {
      goToAccount("?setup=mfa");
      return;
    }
    goToAccount("");
  } catch (err) {
    showError(els.error, err);
  }
}

async function passkeyLogin() {
  showError(els.error, null);
  if (!passkeysSupported()) {
    showError(els.error, new Error("This browser does not support passkeys (此浏览器不支持通行密钥)"));
    return;
  }
  try {
    const resp = await busy([els.passkeyLogin, els.loginSubmit], async () => {
      const start = await postJSON("/auth/webauthn/login/begin", {});
      const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(start.options);
      const cred = await navigator.credentials.get({ publicKey });
      if (!cred) {
        throw new Error("No passkey was chosen (未选择通行密钥)");
      }
      return postJSON("/auth/webauthn/login/finish", { ceremony: start.ceremony, credential: cred.toJSON() });
    });
    afterSession(resp || {});
  } catch (err) {
    if (err instanceof APIError && err.code === "UNAUTHENTICATED") {
      // The server answers every refused passkey like a wrong password.
      showError(els.error, new Error(`The passkey was not accepted (通行密钥未被接受): ${err.message}`));
      return;
    }
    showError(els.error, err);
  }
}

// safeURL returns url when it is an http(s) address, so a provider entry
// cannot turn into a script link.
function safeURL(url) {
  try {
    const u = new URL(url, window.location.origin);
    return u.protocol === "https:" || u.protocol === "http:" ? u.href : "";
  } catch {
    return "";
  }
}

let providersFor = null;

async function loadProviders() {
  const tenant = els.tenant.value.trim();
  if (tenant === providersFor) {
    return;
  }
  providersFor = tenant;
  els.ssoProviders.replaceChildren();
  els.sso.hidden = true;
  if (!tenant) {
    return;
  }
  try {
    const list = await getJSON("/auth/providers?tenant=" + encodeURIComponent(tenant));
    if (providersFor !== tenant || !Array.isArray(list)) {
      return;
    }
    for (const p of list) {
      const href = safeURL(p.loginURL);
      if (!href) {
        continue;
      }
      const a = document.createElement("a");
      a.href = href;
      a.className = "button secondary";
      a.textContent = `Sign in with ${p.name} (使用 ${p.name} 登录)`;
      const li = document.createElement("li");
      li.append(a);
      els.ssoProviders.append(li);
    }
    els.sso.hidden = els.ssoProviders.childElementCount === 0;
  } catch (err) {
    // The providers are optional; a failure leaves password and passkeys.
    if (err instanceof APIError && err.status >= 500) {
      showError(els.error, err);
    }
  }
}

function start() {
  const params = new URLSearchParams(window.location.search);
  let tenant = params.get("tenant") || "";
  if (!tenant) {
    try {
      tenant = localStorage.getItem(tenantKey) || "";
    } catch {
      tenant = "";
    }
  }
  els.tenant.value = tenant;
  els.loginForm.addEventListener("submit", login);
  els.mfaForm.addEventListener("submit", verifyMFA);
  els.passwordForm.addEventListener("submit", changePassword);
  els.passkeyLogin.addEventListener("click", passkeyLogin);
  els.mfaUseRecovery.addEventListener("click", () => setRecovery(!useRecovery));
  els.mfaCancel.addEventListener("click", () => {
    mfaChallenge = "";
    els.password.value = "";
    show("login");
  });
  els.tenant.addEventListener("change", loadProviders);
  els.passkeyLogin.hidden = !passkeysSupported();
  show("login");
  document.body.dataset.ready = "true";
  if (tenant) {
    loadProviders();
    els.email.focus();
  } else {
    els.tenant.focus();
  }
}

start();
