// Drag a row of the run-of-show to reorder the awardees. Without JavaScript the
// group and order fields and the Earlier/Later buttons do the same.
(function () {
  "use strict";
  var table = document.getElementById("awardees");
  if (!table || table.dataset.draggable !== "true") return;
  var body = table.tBodies[0];
  var dragged = null;

  function renumber() {
    var counts = {};
    Array.prototype.forEach.call(body.rows, function (row, index) {
      var position = row.querySelector(".position");
      var group = row.querySelector("select");
      var order = row.querySelector("input.order-input");
      if (!group || !order) return;
      counts[group.value] = (counts[group.value] || 0) + 1;
      order.value = counts[group.value];
      if (position) position.textContent = index + 1;
    });
  }

  Array.prototype.forEach.call(body.rows, function (row) {
    if (!row.dataset.nomination) return;
    row.draggable = true;
    row.classList.add("draggable");
    row.addEventListener("dragstart", function (event) {
      dragged = row;
      row.classList.add("dragging");
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", row.dataset.nomination);
    });
    row.addEventListener("dragend", function () {
      row.classList.remove("dragging");
      dragged = null;
    });
    row.addEventListener("dragover", function (event) {
      if (!dragged || dragged === row) return;
      event.preventDefault();
      var box = row.getBoundingClientRect();
      var after = event.clientY > box.top + box.height / 2;
      body.insertBefore(dragged, after ? row.nextSibling : row);
    });
    row.addEventListener("drop", function (event) {
      event.preventDefault();
      if (dragged) {
        // The dropped row joins the group of the row it now follows (or precedes).
        var neighbour = dragged.previousElementSibling || dragged.nextElementSibling;
        if (neighbour && neighbour.querySelector("select")) {
          dragged.querySelector("select").value = neighbour.querySelector("select").value;
        }
      }
      renumber();
    });
  });
})();
