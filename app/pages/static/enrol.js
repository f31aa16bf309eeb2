// HR's enrolment form: each photo is checked on arrival (POST /register/check), then the accepted
// ones are enrolled together (POST /register).
"use strict";

(() => {
  const STAFF = ["admin", "hr"];
  const $ = (id) => document.getElementById(id);
  const photos = [];  // {file, item, accepted}
  let cameraCount = 0;

  function showForm(loggedIn) {
    Absen.show($("login"), !loggedIn);
    Absen.show($("enrol"), loggedIn);
    Absen.show($("logout"), loggedIn);
  }

  function updateSubmit() {
    $("submit").disabled = !photos.some((p) => p.accepted);
  }

  function addPhoto(file) {
    const item = document.createElement("li");
    const image = document.createElement("img");
    image.src = URL.createObjectURL(file);
    image.alt = file.name;
    const caption = document.createElement("span");
    caption.className = "status";
    caption.textContent = `${file.name}: checking…`;
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "link";
    remove.textContent = "Remove";
    item.append(image, caption, remove);
    $("photos").append(item);
    const entry = {file, item, accepted: false};
    photos.push(entry);
    remove.addEventListener("click", () => {
      photos.splice(photos.indexOf(entry), 1);
      item.remove();
      updateSubmit();
    });
    check(entry, caption);
  }

  async function check(entry, caption) {
    const form = new FormData();
    form.append("photo", entry.file, entry.file.name);
    try {
      const [result] = (await Absen.call("/register/check", {method: "POST", body: form})).results;
      entry.accepted = result.accepted;
      caption.textContent = result.accepted ? `${entry.file.name}: accepted` : result.message;  // names the file
      entry.item.dataset.result = result.accepted ? "accepted" : result.error;
    } catch (error) {
      caption.textContent = `${entry.file.name}: ${error.message}`;
      entry.item.dataset.result = error.code;
    }
    entry.item.className = entry.accepted ? "ok" : "no";
    updateSubmit();
  }

  async function enrol(event) {
    event.preventDefault();
    const form = new FormData(event.target);
    if (!form.get("password")) form.delete("password");
    form.delete("photo");
    photos.filter((p) => p.accepted).forEach((p) => form.append("photo", p.file, p.file.name));
    $("submit").disabled = true;
    $("outcome").className = "";
    $("outcome").textContent = "Enrolling…";
    try {
      const {employee} = await Absen.call("/register", {method: "POST", body: form});
      $("outcome").className = "ok";
      $("outcome").textContent = `Enrolled ${employee.name} (${employee.employee_id}) with ${employee.faces} photo(s).`;
      event.target.reset();
      photos.splice(0).forEach((p) => p.item.remove());
    } catch (error) {
      $("outcome").className = "error";
      $("outcome").textContent = error.message;
    }
    updateSubmit();
  }

  Absen.bindLoginForm(STAFF, () => showForm(true));
  $("files").addEventListener("change", (event) => {
    [...event.target.files].forEach(addPhoto);
    event.target.value = "";
  });
  $("camera-on").addEventListener("click", async () => {
    Absen.show($("camera"), true);
    try {
      await Absen.startCamera($("video"));
    } catch (error) {
      $("outcome").className = "error";
      $("outcome").textContent = `Camera unavailable: ${error.message}`;
    }
  });
  $("snap").addEventListener("click", async () => {
    const blob = await Absen.captureFrame($("video"));
    cameraCount += 1;
    addPhoto(new File([blob], `camera-${cameraCount}.jpg`, {type: "image/jpeg"}));
  });
  $("enrol").addEventListener("submit", enrol);
  $("logout").addEventListener("click", async () => { await Absen.logout(); showForm(false); });
  window.addEventListener("absen:logged-out", () => showForm(false));

  showForm(Boolean(Absen.session()));
})();
