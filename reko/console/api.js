// The console's calls to its server: the session, and each operation through /console/api/<Operation>, whose
// answer is exactly the operation's JSON (its time comes in the Server-Timing header).

let csrfToken = null;

export class ApiError extends Error {
  constructor(status, type, message) {
    super(message);
    this.status = status;
    this.type = type;
  }
}

async function decoded(response) {
  const text = await response.text();
  let body = {};
  try { body = text ? JSON.parse(text) : {}; } catch { body = { Message: text }; }
  if (!response.ok) {
    const type = String(body.__type || `HTTP ${response.status}`).split("#").pop();
    throw new ApiError(response.status, type, body.Message || body.message || response.statusText);
  }
  return body;
}

function remember(state) {
  csrfToken = state.signedIn ? state.csrfToken : null;
  return state;
}

export async function currentSession() {
  return remember(await decoded(await fetch("api/session", { credentials: "same-origin" })));
}

export async function signIn(accessKeyId, secretAccessKey, region) {
  const response = await fetch("api/session", {
    method: "POST",
    credentials: "same-origin",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ AccessKeyId: accessKeyId, SecretAccessKey: secretAccessKey, Region: region }),
  });
  return remember(await decoded(response));
}

export async function signOut() {
  const response = await fetch("api/session/sign-out", {
    method: "POST", credentials: "same-origin", headers: { "x-reko-csrf": csrfToken || "" },
  });
  return remember(await decoded(response));
}

export async function implementedOperations() {
  return decoded(await fetch("api/operations", { credentials: "same-origin" }));
}

function serverMs(response) {
  const match = /dur=([\d.]+)/.exec(response.headers.get("server-timing") || "");
  return match ? Number(match[1]) : null;
}

// A GET of the console's own (bucket listings); a session that ended elsewhere signs the page out.
export async function getJson(path) {
  try {
    return await decoded(await fetch(path, { credentials: "same-origin" }));
  } catch (error) {
    if (error.type === "MissingAuthenticationTokenException") window.dispatchEvent(new CustomEvent("reko:signed-out"));
    throw error;
  }
}

// One operation: {answer, serverMs, roundTripMs}; a Rekognition error is thrown as ApiError.
export async function call(operation, params) {
  const started = performance.now();
  const response = await fetch(`api/${operation}`, {
    method: "POST",
    credentials: "same-origin",
    headers: { "content-type": "application/json", "x-reko-csrf": csrfToken || "" },
    body: JSON.stringify(params),
  });
  try {
    const answer = await decoded(response);
    return { answer, serverMs: serverMs(response), roundTripMs: performance.now() - started };
  } catch (error) {
    // The session ended elsewhere (expired, signed out in another tab, server restarted): the page signs out.
    if (error.type === "MissingAuthenticationTokenException") window.dispatchEvent(new CustomEvent("reko:signed-out"));
    throw error;
  }
}

// A picked or dropped file as {bytes: base64 string, url: object URL to show it}.
export function readImage(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve({ bytes: String(reader.result).split(",", 2)[1], url: URL.createObjectURL(file) });
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}
