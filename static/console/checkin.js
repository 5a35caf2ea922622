/* Check-in at the door: scan the ticket's QR code with the camera and check the
   person in, without leaving the page.

   Decoding: the browser's BarcodeDetector where it reads QR codes, else ZXing
   (static/vendor/zxing, loaded only then) on frames drawn into a canvas. Each code
   is posted to the page's scan endpoint, which answers JSON; the typed-code form
   and the search's buttons are sent the same way. Without JavaScript the page's
   forms work on their own. */
(function () {
  "use strict";

  var scanner = document.getElementById("scanner");
  var resultBox = document.getElementById("check-in-result");
  if (!scanner || !resultBox) {
    return;
  }
  var video = document.getElementById("scanner-video");
  var viewfinder = video.parentElement;
  var statusLine = document.getElementById("scanner-status");
  var startButton = document.getElementById("scanner-start");
  var stopButton = document.getElementById("scanner-stop");
  var csrfInput = document.querySelector("input[name=csrfmiddlewaretoken]");
  var scanUrl = scanner.dataset.scanUrl;
  var REMEMBER = "podium-check-in-camera";
  // A code seen again within this time is the same ticket still in view.
  var SAME_TICKET_MS = 4000;
  var FRAME_MS = 150;

  var stream = null;
  var detect = null;
  var timer = null;
  var lastSeen = {};

  function text(name) {
    return scanner.dataset["text" + name] || "";
  }

  function say(message) {
    statusLine.textContent = message;
  }

  function csrfToken() {
    if (csrfInput) {
      return csrfInput.value;
    }
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function show(result) {
    var kind = { ok: "ok", already: "warn" }[result.result] || "bad";
    if (kind === "ok" && result.warning) {
      kind = "warn"; // checked in, but the ticket is for another day
    }
    resultBox.className = "result check-in-result " + kind;
    resultBox.dataset.result = result.result;
    resultBox.querySelector(".result-headline").textContent = result.headline || "";
    resultBox.querySelector(".result-name").textContent = result.name || "";
    resultBox.querySelector(".result-session").textContent = result.session || "";
    resultBox.querySelector(".result-detail").textContent = result.detail || "";
    var warning = resultBox.querySelector(".result-warning");
    if (warning) {
      warning.textContent = result.warning || "";
      warning.hidden = !result.warning;
    }
    resultBox.hidden = false;
    // Restart the highlight so that a second result in a row is seen as new.
    void resultBox.offsetWidth;
    resultBox.classList.add("fresh");
    if (navigator.vibrate) {
      navigator.vibrate(kind === "ok" ? 120 : [90, 70, 90]);
    }
  }

  function showProblem(message) {
    show({ result: "error", headline: message });
  }

  function updateCounts(counts) {
    if (!counts) {
      return;
    }
    [["today", "count-today"], ["checked_in", "count-checked-in"], ["confirmed", "count-confirmed"]].forEach(
      function (pair) {
        var element = document.getElementById(pair[1]);
        if (element && counts[pair[0]] !== undefined) {
          element.textContent = counts[pair[0]];
        }
      }
    );
  }

  function markRow(result) {
    if (result.result !== "ok" && result.result !== "already") {
      return;
    }
    document.querySelectorAll("tr[data-code]").forEach(function (row) {
      if (row.dataset.code !== result.code) {
        return;
      }
      var cell = row.querySelector(".check-in-action");
      var label = document.createElement("span");
      label.className = "status-confirmed";
      label.textContent = text("InAt").replace("%(time)s", result.checked_in_at);
      cell.replaceChildren(label);
    });
  }

  function checkIn(code) {
    var body = new FormData();
    body.append("code", code);
    return fetch(scanUrl, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
    })
      .then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        if (type.indexOf("application/json") === -1) {
          // A sign-in page (session over) or a CSRF refusal.
          showProblem(text("SignedOut"));
          return;
        }
        return response.json().then(function (result) {
          show(result);
          updateCounts(result.counts);
          markRow(result);
        });
      })
      .catch(function () {
        showProblem(text("Offline"));
      });
  }

  function seen(raw) {
    var code = String(raw || "").trim().toUpperCase().replace(/[\s-]/g, "");
    if (!code) {
      return;
    }
    var now = Date.now();
    var before = lastSeen[code];
    lastSeen[code] = now;
    if (before && now - before < SAME_TICKET_MS) {
      return;
    }
    checkIn(code);
  }

  /* Decoders: each is a function(video) -> Promise of the text or null. */

  function nativeDetector() {
    if (!("BarcodeDetector" in window)) {
      return Promise.resolve(null);
    }
    return window.BarcodeDetector.getSupportedFormats()
      .then(function (formats) {
        if (formats.indexOf("qr_code") === -1) {
          return null;
        }
        var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
        return function (source) {
          return detector.detect(source).then(function (codes) {
            return codes.length ? codes[0].rawValue : null;
          });
        };
      })
      .catch(function () {
        return null;
      });
  }

  function loadZXing() {
    if (window.ZXing) {
      return Promise.resolve(window.ZXing);
    }
    return new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = scanner.dataset.zxingUrl;
      script.onload = function () {
        if (window.ZXing) {
          resolve(window.ZXing);
        } else {
          reject(new Error("ZXing did not load"));
        }
      };
      script.onerror = function () {
        reject(new Error("ZXing did not load"));
      };
      document.head.appendChild(script);
    });
  }

  function zxingDetector() {
    return loadZXing().then(function (ZXing) {
      var canvas = document.createElement("canvas");
      var context = canvas.getContext("2d", { willReadFrequently: true });
      var hints = new Map();
      hints.set(ZXing.DecodeHintType.POSSIBLE_FORMATS, [ZXing.BarcodeFormat.QR_CODE]);
      hints.set(ZXing.DecodeHintType.TRY_HARDER, true);
      var reader = new ZXing.MultiFormatReader();
      reader.setHints(hints);
      return function (source) {
        var width = source.videoWidth;
        var height = source.videoHeight;
        if (!width || !height) {
          return Promise.resolve(null);
        }
        var scale = Math.min(1, 960 / Math.max(width, height));
        canvas.width = Math.round(width * scale);
        canvas.height = Math.round(height * scale);
        context.drawImage(source, 0, 0, canvas.width, canvas.height);
        try {
          var luminance = new ZXing.HTMLCanvasElementLuminanceSource(canvas);
          var bitmap = new ZXing.BinaryBitmap(new ZXing.HybridBinarizer(luminance));
          return Promise.resolve(reader.decodeWithState(bitmap).getText());
        } catch (error) {
          // No code in this frame (NotFound, Checksum or Format exception).
          return Promise.resolve(null);
        } finally {
          reader.reset();
        }
      };
    });
  }

  /* The camera. */

  function loop() {
    if (!stream || !detect) {
      return;
    }
    detect(video)
      .then(function (code) {
        if (code) {
          seen(code);
        }
      })
      .catch(function () {})
      .then(function () {
        if (stream) {
          timer = window.setTimeout(loop, FRAME_MS);
        }
      });
  }

  function stop(message) {
    window.clearTimeout(timer);
    if (stream) {
      stream.getTracks().forEach(function (track) {
        track.stop();
      });
    }
    stream = null;
    video.srcObject = null;
    viewfinder.hidden = true;
    startButton.hidden = false;
    startButton.disabled = false;
    stopButton.hidden = true;
    say(message || text("Stopped"));
  }

  function problem(error) {
    var name = error && error.name;
    if (name === "NotAllowedError" || name === "SecurityError") {
      return text("Denied");
    }
    if (name === "NotFoundError" || name === "OverconstrainedError" || name === "NotReadableError") {
      return text("NoCamera");
    }
    return text("Unsupported");
  }

  function start() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      startButton.disabled = true;
      say(text("Unsupported"));
      return;
    }
    startButton.disabled = true;
    say(text("Starting"));
    navigator.mediaDevices
      .getUserMedia({
        audio: false,
        video: { facingMode: { ideal: "environment" }, width: { ideal: 1280 }, height: { ideal: 720 } },
      })
      .then(function (media) {
        stream = media;
        video.srcObject = media;
        viewfinder.hidden = false;
        return video.play();
      })
      .then(nativeDetector)
      .then(function (native) {
        return native || zxingDetector();
      })
      .then(function (decoder) {
        if (!stream) {
          return;
        }
        detect = decoder;
        startButton.hidden = true;
        stopButton.hidden = false;
        scanner.dataset.scanning = "true";
        say(text("Scanning"));
        try {
          window.sessionStorage.setItem(REMEMBER, "on");
        } catch (error) {
          /* private mode: the camera just does not restart by itself */
        }
        loop();
      })
      .catch(function (error) {
        stop(problem(error));
      });
  }

  startButton.addEventListener("click", start);
  stopButton.addEventListener("click", function () {
    try {
      window.sessionStorage.removeItem(REMEMBER);
    } catch (error) {
      /* nothing remembered */
    }
    stop();
  });

  // The typed code and the search's buttons: checked in without a page load.
  document.querySelectorAll("form[data-check-in]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      var input = form.querySelector("[name=code]");
      var code = input ? input.value.trim() : "";
      if (!code) {
        return; // the server answers with the form's error
      }
      event.preventDefault();
      var button = form.querySelector("button[type=submit]");
      if (button) {
        button.disabled = true;
      }
      checkIn(code).then(function () {
        if (button) {
          button.disabled = false;
        }
        if (input.type !== "hidden") {
          input.value = "";
          input.focus();
        }
      });
    });
  });

  scanner.hidden = false;
  viewfinder.hidden = true;
  var remembered = false;
  try {
    remembered = window.sessionStorage.getItem(REMEMBER) === "on";
  } catch (error) {
    remembered = false;
  }
  if (remembered) {
    start();
  }
})();
