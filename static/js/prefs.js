// Display preferences: the large-type option (for projectors), remembered per browser.
(function () {
  "use strict";
  var KEY = "cors-playground-large-type";
  var root = document.documentElement;
  try {
    if (window.localStorage.getItem(KEY) === "1") root.classList.add("large");
  } catch (e) { /* storage may be disabled */ }
  if (/[?&]large=1(&|$)/.test(window.location.search)) root.classList.add("large");

  document.addEventListener("DOMContentLoaded", function () {
    var button = document.querySelector("[data-large-type]");
    if (!button) return;
    var sync = function () {
      button.setAttribute("aria-pressed", root.classList.contains("large") ? "true" : "false");
    };
    sync();
    button.addEventListener("click", function () {
      root.classList.toggle("large");
      try {
        window.localStorage.setItem(KEY, root.classList.contains("large") ? "1" : "0");
      } catch (e) { /* ignore */ }
      sync();
    });
  });
})();
