// The judging page saves as you go: a row is posted (with only=<nomination id>)
// as soon as one of its fields changes, and says "Saved" or why not. Without
// JavaScript the Save button at the end posts every row.
(function () {
  "use strict";
  var form = document.getElementById("judging");
  if (!form || !window.fetch || !window.FormData) return;
  var csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  var progress = document.getElementById("progress");
  var bar = document.getElementById("progress-bar");
  var url = form.getAttribute("action") || window.location.pathname;

  function setStatus(row, text, state) {
    var status = row.querySelector("[data-status]");
    status.textContent = text;
    status.className = "row-status" + (state ? " " + state : "");
  }

  function fields(row) {
    return row.querySelectorAll("input[name], textarea[name]");
  }

  // A conflict of interest takes no score: the scale is cleared and set aside.
  function syncConflict(row) {
    var conflict = row.querySelector("input[type=checkbox]");
    row.querySelectorAll("input[type=radio]").forEach(function (radio) {
      if (conflict.checked) radio.checked = false;
      radio.disabled = conflict.checked;
    });
    row.classList.toggle("conflict", conflict.checked);
  }

  function post(row) {
    var data = new FormData();
    data.append("csrfmiddlewaretoken", csrf);
    data.append("only", row.dataset.nomination);
    fields(row).forEach(function (field) {
      if (field.disabled) return;
      if ((field.type === "radio" || field.type === "checkbox") && !field.checked) return;
      data.append(field.name, field.value);
    });
    setStatus(row, form.dataset.saving, "saving");
    return fetch(url, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrf, Accept: "application/json" },
    })
      .then(function (response) {
        return response.json().then(function (body) {
          return { ok: response.ok, body: body };
        });
      })
      .then(function (answer) {
        var body = answer.body;
        if (body.progress) {
          progress.textContent = body.progress;
          bar.value = body.scored;
        }
        if (answer.ok && body.saved) {
          setStatus(row, form.dataset.saved, "saved");
          row.classList.remove("has-errors");
          var box = row.querySelector(".error-box");
          if (box) box.remove();
        } else {
          setStatus(row, (body.errors || []).join(" ") || form.dataset.failed, "error");
        }
      })
      .catch(function () {
        setStatus(row, form.dataset.failed, "error");
      });
  }

  // One request at a time per row, in the order of the changes.
  function save(row) {
    row.queue = (row.queue || Promise.resolve()).then(function () {
      return post(row);
    });
  }

  form.querySelectorAll("[data-nomination]").forEach(function (row) {
    var typing = null;
    syncConflict(row);
    row.addEventListener("change", function (event) {
      if (event.target.type === "checkbox") syncConflict(row);
      window.clearTimeout(typing);
      save(row);
    });
    // A comment is saved once the judge pauses, not only when they leave the box.
    row.querySelector("textarea").addEventListener("input", function () {
      window.clearTimeout(typing);
      typing = window.setTimeout(function () {
        save(row);
      }, 1200);
    });
  });
})();
