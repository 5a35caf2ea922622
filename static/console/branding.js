// The event's branding settings: a preview of a chosen logo or seal before it is
// uploaded, and choosing a colour turns "no accent colour" off. The form works
// without this script; it only shows sooner what the save will do.
(function () {
  "use strict";

  document.querySelectorAll("input[type=file][data-preview]").forEach(function (input) {
    var preview = document.getElementById(input.id + "_preview");
    if (!preview) { return; }
    input.addEventListener("change", function () {
      var file = input.files && input.files[0];
      if (!file || !/^image\/(png|jpeg|webp)$/.test(file.type)) { return; }
      // A data: address: the page's policy allows images from 'self' and data: only.
      var reader = new FileReader();
      reader.addEventListener("load", function () {
        preview.src = reader.result;
        preview.alt = input.labels && input.labels[0] ? input.labels[0].textContent.replace("*", "").trim() : "";
        preview.hidden = false;
      });
      reader.readAsDataURL(file);
    });
  });

  var colour = document.getElementById("id_accent_colour");
  var none = document.getElementById("id_accent_colour_none");
  if (colour && none) {
    colour.addEventListener("input", function () { none.checked = false; });
  }
})();
