// Applies the server's live form state (visible, required, computed) after each HTMX round-trip.
// No rule is evaluated here: the DSL runs only on the server.
(function () {
  function apply(state) {
    document.querySelectorAll(".tzform [data-path]").forEach(function (el) {
      var path = el.getAttribute("data-path");
      if (path in state.visible) el.hidden = !state.visible[path];
      if (path in state.required) {
        var label = el.querySelector(":scope > label");
        var mark = label && label.querySelector(".req");
        if (state.required[path] && label && !mark) {
          mark = document.createElement("span"); mark.className = "req"; mark.textContent = "*";
          mark.setAttribute("aria-hidden", "true"); label.insertBefore(mark, label.children[0] || null);
        } else if (!state.required[path] && mark) { mark.remove(); }
        var input = el.querySelector("input, select, textarea");
        if (input) input.setAttribute("aria-required", state.required[path] ? "true" : "false");
      }
    });
    Object.keys(state.computed).forEach(function (path) {
      var out = document.querySelector('[data-computed="' + CSS.escape(path) + '"]');
      if (out) out.textContent = state.computed[path];
    });
  }
  document.addEventListener("htmx:afterSwap", function (event) {
    var el = document.getElementById("form-state");
    if (el && el.dataset.state) apply(JSON.parse(el.dataset.state));
  });
})();
