// The account page: who is signed in, their passkeys (register, rename,
// remove), the authenticator app (TOTP) with its recovery codes, and signing
// out. Changing passkeys needs a recent strong sign-in; when the server asks
// for one (REAUTH_REQUIRED) the page asks for the password or a code, gets a
// fresh session from /auth/step-up and retries.
import {
  APIError, GraphQLError, busy, graphql, passkeysSupported, postJSON, showError, showNotice,
} from "/assets/api.js";

const $ = (id) => document.getElementById(id);

const els = {
  who: $("who"),
  userName: $("user-name"),
  userEmail: $("user-email"),
  logout: $("logout"),
  error: $("error"),
  notice: $("notice"),
  stepupForm: $("stepup-form"),
  stepupPassword: $("stepup-password"),
  stepupCode: $("stepup-code"),
  stepupSubmit: $("stepup-submit"),
  stepupCancel: $("stepup-cancel"),
  passkeysSection: $("passkeys-section"),
  passkeys: $("passkeys"),
  passkeysEmpty: $("passkeys-empty"),
  passkeyForm: $("passkey-form"),
  passkeyName: $("passkey-name"),
  passkeyRegister: $("passkey-register"),
  totpStatus: $("totp-status"),
  totpEnrol: $("totp-enrol"),
  totpSetup: $("totp-setup"),
  totpSecret: $("totp-secret"),
  totpURI: $("totp-uri"),
  totpConfirmForm: $("totp-confirm-form"),
  totpCode: $("totp-code"),
  totpConfirm: $("totp-confirm"),
  recovery: $("recovery"),
  recoveryCodes: $("recovery-codes"),
  recoveryDone: $("recovery-done"),
};

const accountQuery = `{
  viewer { user { name email totpEnabledAt } }
  myPasskeys { id name createdAt lastUsedAt }
}`;

// restricted is true while the session may only enrol a second factor.
let restricted = false;
// reload is set when an answer brought a new, unrestricted session.
let reloadAfterRecovery = false;
// pending is the action to retry after a step-up.
let pending = null;

function toLogin() {
  window.location.replace("/login");
}

// signedOut reports whether err means there is no valid session. A 401
// can also be REAUTH_REQUIRED, which needs a step-up, not a new sign-in.
function signedOut(err) {
  if (err instanceof APIError) {
    return err.code === "UNAUTHENTICATED" || (err.status === 401 && !err.code);
  }
  return err instanceof GraphQLError && err.code === "UNAUTHENTICATED";
}

function needsStepUp(err) {
  return (err instanceof APIError || err instanceof GraphQLError) && err.code === "REAUTH_REQUIRED";
}

// fail shows err, or acts on it: no session goes to the login page, and a
// stale strong sign-in asks for a step-up and retries retry.
function fail(err, retry) {
  if (needsStepUp(err) && retry) {
    pending = retry;
    showError(els.error, err);
    els.stepupForm.hidden = false;
    els.stepupPassword.focus();
    return;
  }
  if (signedOut(err)) {
    toLogin();
    return;
  }
  showError(els.error, err);
}

function formatTime(value) {
  if (!value) {
    return "";
  }
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? String(value) : d.toLocaleString();
}

async function load() {
  let data;
  try {
    data = await graphql(accountQuery);
  } catch (err) {
    if (err instanceof APIError && err.status === 403) {
      // A session restricted to enrolling a second factor (or changing the
      // password) cannot read GraphQL; it can enrol.
      enterSetup(err.message);
      return;
    }
    fail(err);
    return;
  }
  restricted = false;
  const user = (data.viewer && data.viewer.user) || {};
  els.userName.textContent = user.name || "";
  els.userEmail.textContent = user.email ? `(${user.email})` : "";
  els.who.hidden = false;
  els.passkeysSection.hidden = false;
  els.passkeys.hidden = false;
  renderPasskeys(data.myPasskeys || []);
  els.totpStatus.textContent = user.totpEnabledAt
    ? `On since ${formatTime(user.totpEnabledAt)} (已启用). Setting it up again replaces the current one (重新设置将替换当前验证器).`
    : "Off (未启用).";
  document.body.dataset.ready = "true";
}

function enterSetup(message) {
  restricted = true;
  els.who.hidden = true;
  els.passkeys.hidden = true;
  els.passkeysEmpty.hidden = true;
  showNotice(els.notice, message ||
    "Set up a second factor (an authenticator app or a passkey) to continue (请先设置第二重验证).");
  els.totpStatus.textContent = "";
  document.body.dataset.ready = "true";
}

function renderPasskeys(list) {
  els.passkeys.replaceChildren();
  for (const pk of list) {
    els.passkeys.append(passkeyItem(pk));
  }
  els.passkeysEmpty.hidden = list.length > 0;
}

function passkeyItem(pk) {
  const li = document.createElement("li");
  li.dataset.id = pk.id;
  const name = document.createElement("span");
  name.className = "passkey-name";
  name.textContent = pk.name;
  const meta = document.createElement("span");
  meta.className = "muted";
  const used = pk.lastUsedAt ? ` · last used (最近使用) ${formatTime(pk.lastUsedAt)}` : " · never used (从未使用)";
  meta.textContent = `added (添加于) ${formatTime(pk.createdAt)}${used}`;
  const rename = document.createElement("button");
  rename.type = "button";
  rename.className = "link";
  rename.textContent = "Rename (重命名)";
  rename.addEventListener("click", () => startRename(li, pk));
  const remove = document.createElement("button");
  remove.type = "button";
  remove.className = "link danger";
  remove.textContent = "Remove (删除)";
  remove.addEventListener("click", () => removePasskey(pk));
  li.append(name, meta, rename, remove);
  return li;
}

function startRename(li, pk) {
  const form = document.createElement("form");
  form.className = "inline";
  const input = document.createElement("input");
  input.value = pk.name;
  input.maxLength = 64;
  input.setAttribute("aria-label", "New name (新名称)");
  const save = document.createElement("button");
  save.type = "submit";
  save.textContent = "Save (保存)";
  const cancel = document.createElement("button");
  cancel.type = "button";
  cancel.className = "link";
  cancel.textContent = "Cancel (取消)";
  cancel.addEventListener("click", () => li.replaceWith(passkeyItem(pk)));
  form.append(input, save, cancel);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    renamePasskey(pk, input.value.trim());
  });
  li.replaceChildren(form);
  input.focus();
}

async function renamePasskey(pk, name) {
  showError(els.error, null);
  if (!name) {
    return;
  }
  const run = async () => {
    try {
      await graphql(`mutation($id: ID!, $name: String!) { updatePasskey(id: $id, input: {name: $name}) { id name } }`,
        { id: pk.id, name });
      await load();
    } catch (err) {
      fail(err, run);
    }
  };
  await run();
}

async function removePasskey(pk) {
  showError(els.error, null);
  if (!window.confirm(`Remove the passkey "${pk.name}"? (删除通行密钥“${pk.name}”？)`)) {
    return;
  }
  const run = async () => {
    try {
      await graphql(`mutation($id: ID!) { deletePasskey(id: $id) }`, { id: pk.id });
      await load();
    } catch (err) {
      fail(err, run);
    }
  };
  await run();
}

async function registerPasskey(event) {
  event.preventDefault();
  showError(els.error, null);
  showNotice(els.notice, "");
  if (!passkeysSupported()) {
    showError(els.error, new Error("This browser does not support passkeys (此浏览器不支持通行密钥)"));
    return;
  }
  const name = els.passkeyName.value.trim();
  const run = async () => {
    try {
      const out = await busy([els.passkeyRegister], async () => {
        const start = await postJSON("/auth/webauthn/register/begin", {});
        const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(start.options);
        const cred = await navigator.credentials.create({ publicKey });
        if (!cred) {
          throw new Error("No passkey was created (未创建通行密钥)");
        }
        return postJSON("/auth/webauthn/register/finish", {
          ceremony: start.ceremony, credential: cred.toJSON(), name,
        });
      });
      els.passkeyName.value = "";
      showNotice(els.notice, `Passkey "${(out && out.name) || name}" registered (通行密钥已注册).`);
      if (restricted || (out && out.session)) {
        // The enrolment lifted the restriction and brought a new session.
        window.location.replace("/account");
        return;
      }
      await load();
    } catch (err) {
      fail(err, run);
    }
  };
  await run();
}

async function enrolTOTP() {
  showError(els.error, null);
  const run = async () => {
    try {
      const out = await busy([els.totpEnrol], () => postJSON("/auth/totp/enrol", {}));
      els.totpSecret.textContent = out.secret;
      els.totpURI.href = out.uri.startsWith("otpauth://") ? out.uri : "#";
      els.totpSetup.hidden = false;
      els.recovery.hidden = true;
      els.totpCode.value = "";
      els.totpCode.focus();
    } catch (err) {
      fail(err, run);
    }
  };
  await run();
}

async function confirmTOTP(event) {
  event.preventDefault();
  showError(els.error, null);
  try {
    const out = await busy([els.totpConfirm], () => postJSON("/auth/totp/confirm", {
      code: els.totpCode.value.replace(/\s+/g, ""),
    }));
    els.totpSetup.hidden = true;
    els.totpSecret.textContent = "";
    els.recoveryCodes.replaceChildren();
    for (const code of (out && out.recoveryCodes) || []) {
      const li = document.createElement("li");
      li.textContent = code;
      els.recoveryCodes.append(li);
    }
    els.recovery.hidden = false;
    reloadAfterRecovery = restricted || !!(out && out.session);
    showNotice(els.notice, "The authenticator app is on (验证器应用已启用).");
  } catch (err) {
    fail(err);
  }
}

function recoveryDone() {
  els.recoveryCodes.replaceChildren();
  els.recovery.hidden = true;
  if (reloadAfterRecovery) {
    window.location.replace("/account");
    return;
  }
  load();
}

async function stepUp(event) {
  event.preventDefault();
  showError(els.error, null);
  const body = {};
  if (els.stepupPassword.value) {
    body.password = els.stepupPassword.value;
  }
  if (els.stepupCode.value.trim()) {
    body.code = els.stepupCode.value.replace(/\s+/g, "");
  }
  try {
    await busy([els.stepupSubmit], () => postJSON("/auth/step-up", body));
    els.stepupPassword.value = "";
    els.stepupCode.value = "";
    els.stepupForm.hidden = true;
    const retry = pending;
    pending = null;
    if (retry) {
      await retry();
    }
  } catch (err) {
    if (signedOut(err)) {
      toLogin();
      return;
    }
    showError(els.error, err);
  }
}

async function logout() {
  showError(els.error, null);
  try {
    await busy([els.logout], () => postJSON("/auth/logout", {}));
  } catch (err) {
    if (!signedOut(err)) {
      showError(els.error, err);
      return;
    }
  }
  window.location.replace("/login");
}

function start() {
  els.logout.addEventListener("click", logout);
  els.passkeyForm.addEventListener("submit", registerPasskey);
  els.totpEnrol.addEventListener("click", enrolTOTP);
  els.totpConfirmForm.addEventListener("submit", confirmTOTP);
  els.recoveryDone.addEventListener("click", recoveryDone);
  els.stepupForm.addEventListener("submit", stepUp);
  els.stepupCancel.addEventListener("click", () => {
    pending = null;
    els.stepupForm.hidden = true;
  });
  if (!passkeysSupported()) {
    els.passkeyRegister.disabled = true;
    els.passkeyName.disabled = true;
  }
  load();
}

start();
