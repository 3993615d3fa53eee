// Helpers shared by the sign-in and account pages: JSON requests to the
// server's own origin, error presentation, and WebAuthn support checks.
// The session is an HttpOnly cookie: no script reads or stores it.

// APIError is a failed request, carrying the server's error body.
export class APIError extends Error {
  constructor(status, body) {
    super(errorText(body) || `Request failed (HTTP ${status}) (请求失败)`);
    this.name = "APIError";
    this.status = status;
    this.code = (body && body.code) || "";
    this.body = body;
  }
}

// errorText turns a server error body ({code, message, errors:[{pointer,
// message}]}) into one line of text.
export function errorText(body) {
  if (!body || typeof body !== "object") {
    return "";
  }
  const parts = [];
  if (body.message) {
    parts.push(body.message);
  }
  for (const item of body.errors || []) {
    if (!item || !item.message) {
      continue;
    }
    const field = (item.pointer || "").split("/").filter(Boolean).pop();
    parts.push(field ? `${field}: ${item.message}` : item.message);
  }
  let text = parts.join(" — ");
  if (text && body.requestId && body.code === "INTERNAL") {
    text += ` (${body.requestId})`;
  }
  return text;
}

// postJSON sends body as JSON to path on this origin and returns the decoded
// answer (null for 204). It throws an APIError for any answer that is not
// 2xx.
export async function postJSON(path, body) {
  const resp = await fetch(path, {
    method: "POST",
    credentials: "same-origin",
    cache: "no-store",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify(body === undefined ? {} : body),
  });
  const data = await readBody(resp);
  if (!resp.ok) {
    throw new APIError(resp.status, data);
  }
  return data;
}

// getJSON fetches path on this origin and returns the decoded answer.
export async function getJSON(path) {
  const resp = await fetch(path, {
    credentials: "same-origin",
    cache: "no-store",
    headers: { Accept: "application/json" },
  });
  const data = await readBody(resp);
  if (!resp.ok) {
    throw new APIError(resp.status, data);
  }
  return data;
}

async function readBody(resp) {
  if (resp.status === 204) {
    return null;
  }
  const text = await resp.text();
  if (!text) {
    return null;
  }
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

// GraphQLError is a GraphQL answer with errors; code is the first error's
// extensions.code.
export class GraphQLError extends Error {
  constructor(errors) {
    const first = errors[0] || {};
    const ext = first.extensions || {};
    super(errorText({ message: first.message, errors: ext.errors }) || "GraphQL request failed (请求失败)");
    this.name = "GraphQLError";
    this.code = ext.code || "";
    this.errors = errors;
  }
}

// graphql runs a query or mutation with the session cookie and returns its
// data; it throws APIError when the request is refused before GraphQL runs
// (no session, restricted session) and GraphQLError for GraphQL errors.
export async function graphql(query, variables) {
  const body = await postJSON("/graphql", { query, variables: variables || {} });
  if (body && Array.isArray(body.errors) && body.errors.length > 0) {
    throw new GraphQLError(body.errors);
  }
  return (body && body.data) || {};
}

// describeError returns the text to show for err: the server's message, or a
// readable account of a browser (WebAuthn) failure.
export function describeError(err) {
  if (err instanceof APIError || err instanceof GraphQLError) {
    return err.message;
  }
  if (err && err.name === "NotAllowedError") {
    return "The passkey request was cancelled, timed out or is not allowed (通行密钥请求被取消、超时或不被允许)" +
      (err.message ? `: ${err.message}` : "");
  }
  if (err && err.name === "InvalidStateError") {
    return "This authenticator already holds a passkey for this account (该验证器已存有此账户的通行密钥)";
  }
  if (err && err.name === "SecurityError") {
    return "Passkeys are not allowed on this address (此地址不允许使用通行密钥)" + (err.message ? `: ${err.message}` : "");
  }
  if (err instanceof TypeError) {
    return "The server cannot be reached (无法连接服务器): " + err.message;
  }
  return (err && err.message) || String(err);
}

// showError puts err's text into el and shows it; a falsy err hides it.
export function showError(el, err) {
  if (!err) {
    el.textContent = "";
    el.hidden = true;
    return;
  }
  el.textContent = describeError(err);
  el.hidden = false;
}

// showNotice shows text in el, or hides el for empty text.
export function showNotice(el, text) {
  el.textContent = text || "";
  el.hidden = !text;
}

// passkeysSupported reports whether the browser has WebAuthn with the JSON
// helpers the pages use.
export function passkeysSupported() {
  return typeof window.PublicKeyCredential === "function" &&
    typeof PublicKeyCredential.parseCreationOptionsFromJSON === "function" &&
    typeof PublicKeyCredential.parseRequestOptionsFromJSON === "function" &&
    !!navigator.credentials;
}

// busy disables the buttons while fn runs, so a double click sends one
// request.
export async function busy(buttons, fn) {
  for (const b of buttons) {
    b.disabled = true;
  }
  try {
    return await fn();
  } finally {
    for (const b of buttons) {
      b.disabled = false;
    }
  }
}
