// The door kiosk: camera preview, one button, the answer shown large, then back to the camera.
"use strict";

(() => {
  const STAFF = ["admin", "hr"];
  const RESET_AFTER_MS = 6000;
  const HINTS = {
    no_face: "No face found. Look straight at the camera and try again.",
    multiple_faces: "One person at a time, please.",
    face_too_small: "Come a little closer to the camera.",
    challenge_failed: "Turn your head the way the screen says, then try again.",
    screenshot: "Use the camera, not a screenshot.",
  };
  const TURN_AFTER_MS = 2500;  // time to turn the head before the second frame
  const SIDE = {left: "LEFT", right: "RIGHT"};
  const $ = (id) => document.getElementById(id);
  let resetTimer = null;

  function showLogin() {
    Absen.show($("login"), true);
    Absen.show($("kiosk"), false);
    Absen.show($("logout"), false);
  }

  async function showKiosk() {
    Absen.show($("login"), false);
    Absen.show($("kiosk"), true);
    Absen.show($("logout"), true);
    try {
      await Absen.startCamera($("video"));
      $("capture").disabled = false;
    } catch (error) {
      $("camera-error").textContent = `Camera unavailable: ${error.message}`;
    }
  }

  function showResult(kind, title, detail) {
    $("result").className = `result ${kind}`;
    $("result-title").textContent = title;
    $("result-detail").textContent = detail;
    Absen.show($("result"), true);
    clearTimeout(resetTimer);
    resetTimer = setTimeout(() => {
      Absen.show($("result"), false);
      $("capture").disabled = false;
    }, RESET_AFTER_MS);
  }

  function describeMatch(answer) {
    const record = answer.attendance;
    const time = record.local_time.slice(11, 16);
    const action = record.kind === "check_in" ? "Checked in" : "Checked out";
    const already = record.duplicate ? " (already recorded)" : "";
    const late = record.late ? " · late" : "";
    return [`${answer.name}`, `${action} at ${time}${already}${late}`];
  }

  const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  // When the server requires the head-turn challenge: the selfie, then a second frame after the
  // person has turned their head to the side the server picked.
  async function addChallenge(form) {
    const challenge = await Absen.call("/predict/challenge", {method: "POST"});
    if (!challenge.required) return;
    showResult("busy", `Now turn your head to your ${SIDE[challenge.turn]}`, "Keep looking at the screen.");
    await pause(TURN_AFTER_MS);
    form.append("photo_turned", await Absen.captureFrame($("video")), "kiosk-turned.jpg");
    form.append("challenge", challenge.challenge);
  }

  async function capture() {
    $("capture").disabled = true;
    const form = new FormData();
    form.append("photo", await Absen.captureFrame($("video")), "kiosk.jpg");
    try {
      await addChallenge(form);
      showResult("busy", "Checking…", "");
      const answer = await Absen.call("/predict", {method: "POST", body: form});
      if (answer.match) {
        const [title, detail] = describeMatch(answer);
        showResult("ok", title, detail);
      } else {
        showResult("no", "Not recognised — try again",
                   "Still not recognised? Request a manual check-in from your phone; HR approves it.");
      }
    } catch (error) {
      showResult("no", HINTS[error.code] || "Could not check in", HINTS[error.code] ? "" : error.message);
    }
  }

  Absen.bindLoginForm(STAFF, showKiosk);
  $("capture").addEventListener("click", capture);
  $("logout").addEventListener("click", async () => { await Absen.logout(); showLogin(); });
  window.addEventListener("absen:logged-out", showLogin);

  if (Absen.session()) showKiosk(); else showLogin();
})();
