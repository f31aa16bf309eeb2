// Shared by the kiosk and enrolment pages: login, tokens, API calls, the camera.
"use strict";

const Absen = (() => {
  // The kiosk stays logged in across reloads (localStorage); the refresh token renews the
  // short-lived access token, so HR logs in once per refresh-token lifetime.
  const store = window.localStorage;
  const key = (name) => `absen.${document.body.dataset.page}.${name}`;

  function session() {
    const raw = store.getItem(key("session"));
    return raw ? JSON.parse(raw) : null;
  }

  function saveSession(tokens) {
    store.setItem(key("session"), JSON.stringify(tokens));
  }

  function forget() {
    store.removeItem(key("session"));
  }

  // Revoke both tokens on the server too, so a stolen copy of them stops working.
  async function logout() {
    const current = session();
    forget();
    if (!current) return;
    await fetch("/logout", {
      method: "POST",
      headers: {"Content-Type": "application/json", Authorization: `Bearer ${current.access}`},
      body: JSON.stringify({refresh_token: current.refresh}),
    }).catch(() => {});
  }

  async function login(username, password, allowedRoles) {
    const response = await fetch("/login", {
      method: "POST",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify({username, password}),
    });
    const body = await response.json();
    if (!response.ok) throw new ApiError(body);
    if (!allowedRoles.includes(body.user.role)) {
      throw new ApiError({error: "forbidden", message: `This page needs an account with the role ${allowedRoles.join(" or ")}.`});
    }
    saveSession({access: body.access_token, refresh: body.refresh_token, user: body.user});
    return body.user;
  }

  // The #login form both pages share: log in with one of `allowedRoles`, then `onLoggedIn()`.
  function bindLoginForm(allowedRoles, onLoggedIn) {
    const error = document.getElementById("login-error");
    document.getElementById("login").addEventListener("submit", async (event) => {
      event.preventDefault();
      const form = new FormData(event.target);
      try {
        await login(form.get("username"), form.get("password"), allowedRoles);
        error.textContent = "";
        event.target.reset();
        await onLoggedIn();
      } catch (failure) {
        error.textContent = failure.message;
      }
    });
  }

  class ApiError extends Error {
    constructor(body) {
      super(body.message || "Unexpected answer from the server.");
      this.code = body.error || "unexpected";
    }
  }

  async function refreshAccess() {
    const current = session();
    if (!current) return false;
    const response = await fetch("/refresh", {method: "POST", headers: {Authorization: `Bearer ${current.refresh}`}});
    if (!response.ok) return false;
    const body = await response.json();
    saveSession({...current, access: body.access_token});
    return true;
  }

  // fetch() with the access token; one refresh and retry on 401; JSON answers or ApiError.
  async function call(path, options = {}, retried = false) {
    const current = session();
    const headers = {...(options.headers || {}), Authorization: `Bearer ${current ? current.access : ""}`};
    const response = await fetch(path, {...options, headers});
    if (response.status === 401 && !retried && await refreshAccess()) return call(path, options, true);
    if (response.status === 401) {
      forget();
      window.dispatchEvent(new Event("absen:logged-out"));
    }
    let body;
    try {
      body = await response.json();
    } catch {
      body = {error: "unexpected", message: `The server answered ${response.status}.`};
    }
    if (!response.ok) throw new ApiError(body);
    return body;
  }

  async function startCamera(video) {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      throw new Error("This browser cannot use a camera here (it needs HTTPS, or localhost).");
    }
    const stream = await navigator.mediaDevices.getUserMedia({
      video: {facingMode: "user", width: {ideal: 1280}, height: {ideal: 720}}, audio: false,
    });
    video.srcObject = stream;
    await video.play();
    return stream;
  }

  // One frame of the video as a JPEG Blob, at the camera's own resolution.
  function captureFrame(video, quality = 0.92) {
    const canvas = document.createElement("canvas");
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    canvas.getContext("2d").drawImage(video, 0, 0);
    return new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", quality));
  }

  function show(element, visible) {
    element.hidden = !visible;
  }

  return {session, login, bindLoginForm, logout, call, startCamera, captureFrame, show, ApiError};
})();
