/* Turret UI: live job output over the API's Server-Sent Events stream, the delete question in a
   dialog, a filter box over long pickers.  No dependencies. */
(function () {
  "use strict";

  var COLORS = {30: 1, 31: 1, 32: 1, 33: 1, 34: 1, 35: 1, 36: 1, 37: 1,
                90: 1, 91: 1, 92: 1, 93: 1, 94: 1, 95: 1, 96: 1, 97: 1};
  var SGR = /\x1b\[([0-9;]*)m/g;
  var OTHER = /\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07/g;

  /* Append ANSI-coloured text to a node as spans (text nodes only: no HTML injection). */
  function appendAnsi(node, text) {
    var state = {color: null, bold: false};
    var pos = 0, m;
    SGR.lastIndex = 0;
    function emit(chunk) {
      chunk = chunk.replace(OTHER, "");
      if (!chunk) return;
      if (!state.color && !state.bold) { node.appendChild(document.createTextNode(chunk)); return; }
      var span = document.createElement("span");
      if (state.color) span.className = "ansi-" + state.color;
      if (state.bold) span.className += " ansi-bold";
      span.textContent = chunk;
      node.appendChild(span);
    }
    while ((m = SGR.exec(text)) !== null) {
      emit(text.slice(pos, m.index));
      pos = SGR.lastIndex;
      var codes = m[1] === "" ? ["0"] : m[1].split(";");
      codes.forEach(function (c) {
        var n = parseInt(c, 10);
        if (n === 0) { state.color = null; state.bold = false; }
        else if (n === 1) state.bold = true;
        else if (n === 22) state.bold = false;
        else if (n === 39) state.color = null;
        else if (COLORS[n]) state.color = n;
      });
    }
    emit(text.slice(pos));
  }

  function jobPage(root) {
    var out = document.getElementById("output");
    var follow = document.getElementById("follow");
    var last = 0, stream = null, timer = null, ended = false;

    function atBottom() { return out.scrollHeight - out.scrollTop - out.clientHeight < 40; }
    // scrolling up stops following the tail; scrolling back to the bottom resumes it
    out.addEventListener("scroll", function () { follow.checked = atBottom(); });

    function addEvent(ev) {
      if (ev.counter <= last) return;
      last = ev.counter;
      if (!ev.stdout) return;
      var line = document.createElement("div");
      line.className = "line";
      line.setAttribute("data-counter", ev.counter);
      appendAnsi(line, ev.stdout);
      out.appendChild(line);
      if (follow.checked) out.scrollTop = out.scrollHeight;
    }

    function refresh() {
      return fetch(root.getAttribute("data-state"), {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (s) {
          if (!s) return;
          document.getElementById("job-meta").innerHTML = s.meta;
          document.getElementById("host-summary").innerHTML = s.summary;
          document.getElementById("job-actions").innerHTML = s.actions;
          root.setAttribute("data-active", s.active ? "true" : "false");
          if (!s.active && ended && timer) { clearInterval(timer); timer = null; }
        }).catch(function () {});
    }

    function start() {
      stream = new EventSource(root.getAttribute("data-stream"));
      stream.addEventListener("job_event", function (e) {
        try { addEvent(JSON.parse(e.data)); } catch (err) { /* a malformed event is skipped */ }
      });
      stream.addEventListener("end", function () {
        ended = true;
        stream.close();
        root.setAttribute("data-stream-ended", "true");
        refresh();
      });
    }

    start();
    if (root.getAttribute("data-active") === "true") {
      timer = setInterval(function () {
        refresh().then(function () {
          if (root.getAttribute("data-active") !== "true" && ended && timer) { clearInterval(timer); timer = null; }
        });
      }, 1500);
    }
  }

  /* a select marked data-autosubmit submits its form when changed (the button stays for keyboards) */
  Array.prototype.forEach.call(document.querySelectorAll("select[data-autosubmit]"), function (sel) {
    sel.addEventListener("change", function () { if (sel.form && sel.value) sel.form.submit(); });
  });

  /* Login: post to the API's session login; a refusal is shown here instead of on the API's own
     form (without script the form posts normally and the API's page answers). */
  var loginForm = document.getElementById("login-form");
  if (loginForm && window.fetch) {
    loginForm.addEventListener("submit", function (e) {
      e.preventDefault();
      var error = document.getElementById("login-error");
      fetch(loginForm.action, {method: "POST", body: new URLSearchParams(new FormData(loginForm)),
                               credentials: "same-origin", redirect: "manual"})
        .then(function (r) {
          if (r.type === "opaqueredirect" || r.status === 302) {
            window.location.assign(loginForm.elements.next.value);
          } else {
            error.textContent = r.status === 429 ? "Too many failed attempts; try again later."
              : "Please enter a correct username and password (both are case-sensitive).";
            error.hidden = false;
            loginForm.elements.password.value = "";
            loginForm.elements.password.focus();
          }
        })
        .catch(function () { loginForm.submit(); });
    });
  }

  var root = document.getElementById("job");
  if (root) jobPage(root);
  /* Workflow job page: poll the small state endpoint while the workflow runs and recolour the
     graph's nodes (status class, label, link to the spawned job).  Stops once it has ended. */
  function workflowPage(root) {
    var timer = null, shown = {}, boxes = {};
    Array.prototype.forEach.call(root.querySelectorAll("g[data-node]"), function (g) {
      boxes[g.getAttribute("data-node")] = g;
    });
    var LABELS = {dnr: "not run", idle: "not started"};
    function paint(s) {
      s.nodes.forEach(function (n) {
        var g = boxes[n.id];
        if (!g) return;
        if (n.href) g.querySelector("a").setAttribute("href", n.href);
        if (g.getAttribute("data-status") === n.status) return;
        g.setAttribute("class", "wf-node wf-st-" + n.status);
        g.setAttribute("data-status", n.status);
        var label = g.querySelector(".wf-state");
        if (label) label.textContent = LABELS[n.status] || n.status;
      });
      // server-rendered (escaped by Jinja); replaced only when changed, so a button is never
      // swapped under a click that is in progress
      if (s.meta !== shown.meta) { document.getElementById("wf-meta").innerHTML = s.meta; shown.meta = s.meta; }
      if (s.actions !== shown.actions) {
        document.getElementById("wf-actions").innerHTML = s.actions;
        shown.actions = s.actions;
      }
      root.setAttribute("data-active", s.active ? "true" : "false");
    }
    function poll() {
      fetch(root.getAttribute("data-state"), {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (s) {
          if (s) paint(s);
          if (s && !s.active && timer) { clearInterval(timer); timer = null; }
        }).catch(function () {});
    }
    if (root.getAttribute("data-active") === "true") timer = setInterval(poll, 1000);
  }

  /* A long picker (a multiple select marked data-searchable) gets a filter box: the options whose
     text lacks the typed words are hidden; picked ones always stay in sight. */
  function filterable(root) {
    Array.prototype.forEach.call(root.querySelectorAll("select[data-searchable]"), function (sel) {
      if (document.getElementById(sel.id + "-filter")) return;
      var box = document.createElement("input");
      box.type = "search";
      box.id = sel.id + "-filter";
      box.placeholder = "Filter…";
      var label = document.querySelector("label[for='" + sel.id + "']");
      box.setAttribute("aria-label", "Filter " + (label ? label.textContent : "options"));
      box.setAttribute("aria-controls", sel.id);
      sel.parentNode.insertBefore(box, sel);
      box.addEventListener("input", function () {
        var words = box.value.toLowerCase().split(/\s+/).filter(Boolean);
        Array.prototype.forEach.call(sel.options, function (opt) {
          var text = (opt.text + " " + (opt.parentNode.label || "")).toLowerCase();
          opt.hidden = !opt.selected && words.some(function (w) { return text.indexOf(w) < 0; });
        });
        Array.prototype.forEach.call(sel.querySelectorAll("optgroup"), function (group) {
          group.hidden = !group.querySelector("option:not([hidden])");      // no heading over nothing
        });
      });
    });
  }
  filterable(document);
  window.Turret = {filterable: filterable};

  /* Delete buttons are links to a confirmation page (no script: the page itself).  With script
     the page's question box is fetched and shown in a modal <dialog>: its form POSTs as the page
     would; Cancel (or Escape) closes it.  Anything unexpected falls back to the page. */
  function confirmDelete(link) {
    fetch(link.getAttribute("href"), {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var box = doc.getElementById("confirm-delete");
        if (!box || typeof HTMLDialogElement === "undefined") { window.location.href = link.href; return; }
        var dialog = document.createElement("dialog");
        dialog.className = "confirm";
        dialog.id = "confirm-dialog";
        dialog.setAttribute("aria-labelledby", "confirm-title");
        var title = box.querySelector("h1");
        if (title) {                           // the page keeps its one <h1>
          var h2 = document.createElement("h2");
          h2.id = title.id;
          h2.textContent = title.textContent;
          title.replaceWith(h2);
        }
        box.classList.remove("card");          // the dialog is the frame
        dialog.appendChild(document.importNode(box, true));
        dialog.querySelector("[data-action=cancel]").addEventListener("click", function (e) {
          e.preventDefault();
          dialog.close();
        });
        dialog.addEventListener("close", function () { dialog.remove(); link.focus(); });
        document.body.appendChild(dialog);
        dialog.showModal();
        var go = dialog.querySelector("[data-action=confirm-delete]");
        if (go) go.focus();
      }).catch(function () { window.location.href = link.href; });
  }

  document.addEventListener("click", function (e) {
    var link = e.target.closest ? e.target.closest("a[data-confirm-delete]") : null;
    if (!link || e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey) return;
    e.preventDefault();
    confirmDelete(link);
  });

  var wfRoot = document.getElementById("workflow-job");
  if (wfRoot) workflowPage(wfRoot);
})();
