// The manifest upload with a progress bar. Without JavaScript the form posts as a plain form; with
// it, the same form is sent with XMLHttpRequest so that the bar can follow a large file.
(function () {
  "use strict";
  var form = document.getElementById("manifest-upload");
  if (!form || !window.XMLHttpRequest || !window.FormData) {
    return;
  }
  var box = form.querySelector(".upload-progress");
  var bar = box.querySelector("progress");
  var status = box.querySelector("[role=status]");
  var errors = form.querySelector(".upload-errors");
  var button = form.querySelector("button[type=submit]");

  function showErrors(list) {
    errors.textContent = "";
    list.forEach(function (text) {
      var p = document.createElement("p");
      p.textContent = text;
      errors.appendChild(p);
    });
    errors.hidden = false;
    box.hidden = true;
    button.disabled = false;
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var request = new XMLHttpRequest();
    request.open("POST", form.action || window.location.href);
    request.setRequestHeader("X-Requested-With", "XMLHttpRequest");
    request.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) {
        bar.value = Math.round((100 * e.loaded) / e.total);
      }
    });
    request.upload.addEventListener("load", function () {
      bar.removeAttribute("value"); // indeterminate while the server reads and compares
      status.textContent = form.dataset.checking;
    });
    request.addEventListener("load", function () {
      var body = null;
      try {
        body = JSON.parse(request.responseText);
      } catch (ignored) {
        body = null;
      }
      if (request.status === 200 && body && body.redirect) {
        window.location.assign(body.redirect);
      } else if (body && body.errors) {
        showErrors(body.errors);
      } else {
        showErrors([form.dataset.failed]);
      }
    });
    request.addEventListener("error", function () {
      showErrors([form.dataset.failed]);
    });
    errors.hidden = true;
    box.hidden = false;
    bar.value = 0;
    status.textContent = form.dataset.uploading;
    button.disabled = true;
    request.send(new FormData(form));
  });
})();
