/* Turret UI forms: niceties over forms that work without script.
   - schedule form: only the chosen rule form's inputs are shown; the next 10 runs are previewed
     live (POST /ui/schedules/preview, the same service as the API) and errors go beside fields;
   - survey editor: "Move up/down" reorder in place (inputs renumbered) instead of a round trip;
   - job template form: the playbook select follows the chosen project. */
(function () {
  "use strict";

  function each(list, fn) { Array.prototype.forEach.call(list, fn); }

  /* -- schedules -------------------------------------------------------------------------- */
  function schedulePage(form) {
    var kind = form.elements.schedule_type;
    var box = document.getElementById("schedule-preview-box");
    var timer = null, seq = 0;

    function showKind() {
      each(form.querySelectorAll("fieldset[data-kind]"), function (fs) {
        fs.hidden = fs.getAttribute("data-kind").split(" ").indexOf(kind.value) < 0;
      });
    }

    function clearErrors() {
      // the rule's inputs only: an error the server gave the name stays until the next save
      each(form.querySelectorAll("p.field-error"), function (p) {
        if (!/^e-(cron|interval|interval_type|date|rrule|timezone|start_time|end_time)$/.test(p.id)) return;
        var input = document.getElementById("f-" + p.id.slice(2));
        if (input) { input.removeAttribute("aria-invalid"); input.removeAttribute("aria-describedby"); }
        p.remove();
      });
    }

    function showErrors(items) {
      each(items, function (li) {
        var field = li.getAttribute("data-field");
        var input = document.getElementById("f-" + field);
        if (!input) return;
        var old = document.getElementById("e-" + field);
        if (old) old.remove();
        var p = document.createElement("p");
        p.className = "field-error";
        p.id = "e-" + field;
        p.setAttribute("data-live", "1");
        p.textContent = li.textContent;
        input.insertAdjacentElement("afterend", p);
        input.setAttribute("aria-invalid", "true");
        input.setAttribute("aria-describedby", p.id);
      });
    }

    function preview() {
      var mine = ++seq;
      var body = new URLSearchParams(new FormData(form));
      body.delete("op");
      fetch(form.getAttribute("data-preview"), {method: "POST", body: body, credentials: "same-origin"})
        .then(function (r) { return r.text(); })
        .then(function (html) {
          if (mine !== seq) return;          // an older answer arriving late is dropped
          var doc = new DOMParser().parseFromString("<div>" + html + "</div>", "text/html");
          var list = doc.getElementById("schedule-preview");
          var errors = doc.querySelectorAll("#schedule-preview-errors li");
          clearErrors();
          box.textContent = "";
          if (list) box.appendChild(document.importNode(list, true));
          if (errors.length) {
            showErrors(errors);
            var p = document.createElement("p");
            p.className = "none";
            p.textContent = "Fix the rule to see its runs.";
            box.appendChild(p);
          }
        }).catch(function () {});
    }

    /* the prompts follow the template picked: its fieldset is fetched and swapped in (the
       no-script "Load prompts" button is hidden); values typed in a prompt both templates ask
       for are carried over */
    var runs = form.elements.unified_job_template, prompts = document.getElementById("schedule-prompts");
    var promptSeq = 0;
    function loadPrompts() {
      var mine = ++promptSeq;
      var query = new URLSearchParams({unified_job_template: runs.value});
      if (prompts.getAttribute("data-schedule")) query.set("schedule", prompts.getAttribute("data-schedule"));
      var typed = {};
      function plain(el) { return el.type !== "checkbox" && el.type !== "radio" && el.type !== "hidden"; }
      each(prompts.querySelectorAll("[name]"), function (el) { if (plain(el)) typed[el.name] = el.value; });
      fetch(prompts.getAttribute("data-src") + "?" + query, {credentials: "same-origin"})
        .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(function (html) {
          if (mine !== promptSeq) return;
          var doc = new DOMParser().parseFromString("<div>" + html + "</div>", "text/html");
          prompts.textContent = "";
          each(doc.body.firstChild.childNodes, function (n) { prompts.appendChild(document.importNode(n, true)); });
          each(prompts.querySelectorAll("[name]"), function (el) {
            if (plain(el) && Object.prototype.hasOwnProperty.call(typed, el.name)) el.value = typed[el.name];
          });
          if (window.Turret) window.Turret.filterable(prompts);
        }).catch(function () {});
    }
    if (runs && prompts) {
      each(form.querySelectorAll("[data-no-script]"), function (el) { el.hidden = true; });
      runs.addEventListener("change", loadPrompts);
    }

    function later() { clearTimeout(timer); timer = setTimeout(preview, 300); }
    kind.addEventListener("change", function () { showKind(); later(); });
    form.addEventListener("input", function (e) {
      if (["name", "description", "extra_data"].indexOf(e.target.name) < 0) later();
    });
    showKind();
  }

  /* -- survey editor ------------------------------------------------------------------------ */
  function renumber(list) {
    var items = list.querySelectorAll("li.survey-q");
    each(items, function (li, i) {
      li.setAttribute("data-index", i);
      each(li.querySelectorAll("[name],[id],[for],[aria-describedby],button[value]"), function (el) {
        ["name", "id", "for", "aria-describedby"].forEach(function (attr) {
          var v = el.getAttribute(attr);
          if (v) el.setAttribute(attr, v.replace(/spec-\d+-/g, "spec-" + i + "-"));
        });
        if (el.tagName === "BUTTON" && el.value) el.value = el.value.replace(/:\d+$/, ":" + i);
      });
      var legend = li.querySelector("legend");
      var name = li.querySelector("input[name$='-question_name']");
      if (legend) legend.textContent = "Question " + (i + 1) + (name && name.value ? ": " + name.value : "");
      each(li.querySelectorAll("button[data-move]"), function (b) {
        var up = b.getAttribute("data-move") === "up";
        b.disabled = up ? i === 0 : i === items.length - 1;
        b.setAttribute("aria-label", "Move question " + (i + 1) + (up ? " up" : " down"));
      });
    });
  }

  var CHOICE_TYPES = ["multiplechoice", "multiselect"];

  /* a question shows the inputs its type uses: choices for the choice types, min/max otherwise */
  function showTypeInputs(li) {
    var type = li.querySelector("select[name$='-type']");
    if (!type) return;
    var choice = CHOICE_TYPES.indexOf(type.value) >= 0;
    each(li.querySelectorAll(".field[data-field]"), function (div) {
      var key = div.getAttribute("data-field").replace(/^spec-\d+-/, "");
      if (key === "choices") div.hidden = !choice;
      if (key === "min" || key === "max") div.hidden = choice;
    });
  }

  /* the launch-form preview follows the editor: the server renders it from the form as posted */
  function refreshPreview(form) {
    var body = new URLSearchParams(new FormData(form));
    body.set("op", "preview");
    fetch(form.getAttribute("action") || window.location.pathname,
          {method: "POST", body: body, credentials: "same-origin"})
      .then(function (r) { return r.text(); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("survey-preview");
        var shown = document.getElementById("survey-preview");
        if (fresh && shown) shown.replaceWith(document.importNode(fresh, true));
      }).catch(function () {});
  }

  function surveyPage(form) {
    var list = document.getElementById("survey-questions");
    if (!list) return;
    var timer = null;
    function later() { clearTimeout(timer); timer = setTimeout(function () { refreshPreview(form); }, 400); }
    each(list.querySelectorAll("li.survey-q"), showTypeInputs);
    list.addEventListener("change", function (e) {
      if (e.target.name && /-type$/.test(e.target.name)) showTypeInputs(e.target.closest("li.survey-q"));
      later();
    });
    list.addEventListener("input", later);
    list.addEventListener("click", function (e) {
      var b = e.target.closest("button[data-move]");
      if (!b) return;
      e.preventDefault();
      var li = b.closest("li.survey-q");
      if (b.getAttribute("data-move") === "up" && li.previousElementSibling) {
        list.insertBefore(li, li.previousElementSibling);
      } else if (b.getAttribute("data-move") === "down" && li.nextElementSibling) {
        list.insertBefore(li.nextElementSibling, li);
      }
      renumber(list);
      var again = li.querySelector("button[data-move='" + b.getAttribute("data-move") + "']");
      (again && !again.disabled ? again : li.querySelector("button[data-move]:not([disabled])") || b).focus();
      form.setAttribute("data-reordered", "true");
      later();
    });
  }

  /* -- job template form --------------------------------------------------------------------- */
  function templateForm(form) {
    var project = form.elements.project, playbook = form.elements.playbook;
    if (!project || !playbook || project.tagName !== "SELECT") return;
    project.addEventListener("change", function () {
      if (!/^\d+$/.test(project.value)) return;
      fetch("/ui/projects/" + project.value + "/playbooks", {credentials: "same-origin"})
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (names) {
          if (!names || playbook.tagName !== "SELECT") return;
          var keep = playbook.value;
          playbook.textContent = "";
          names.forEach(function (n) {
            var o = document.createElement("option");
            o.value = n; o.textContent = n; o.selected = n === keep;
            playbook.appendChild(o);
          });
        }).catch(function () {});
    });
  }

  /* -- projects: the manual or the SCM inputs; an update's output followed until it ends ---- */
  var SCM_ONLY = ["scm_url", "scm_branch", "scm_refspec", "credential", "scm_clean", "scm_delete_on_update",
                  "scm_track_submodules", "scm_update_on_launch", "scm_update_cache_timeout", "allow_override"];
  function projectForm(kind) {
    function show() {
      var manual = kind.value === "";
      each(kind.form.querySelectorAll(".field[data-field]"), function (div) {
        var name = div.getAttribute("data-field");
        if (SCM_ONLY.indexOf(name) >= 0) div.hidden = manual;
        if (name === "local_path") div.hidden = !manual;
      });
    }
    kind.addEventListener("change", show);
    show();
  }

  function updatePage(root) {
    var out = document.getElementById("update-output"), status = document.getElementById("update-status");
    var timer = setInterval(function () {
      fetch(root.getAttribute("data-state"), {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (s) {
          if (!s) return;
          var bottom = out.scrollHeight - out.scrollTop - out.clientHeight < 40;
          out.textContent = s.output;
          if (bottom) out.scrollTop = out.scrollHeight;
          var badge = status.querySelector("[data-status]");
          badge.textContent = s.status;
          badge.setAttribute("data-status", s.status);
          badge.className = "status status-" + s.status;
          root.setAttribute("data-active", s.active ? "true" : "false");
          if (!s.active) clearInterval(timer);
        }).catch(function () {});
    }, 1000);
  }

  var scmType = document.getElementById("f-scm_type");
  if (scmType && scmType.tagName === "SELECT" && document.getElementById("f-local_path")) projectForm(scmType);
  var update = document.getElementById("project-update");
  if (update && update.getAttribute("data-active") === "true" && window.fetch) updatePage(update);
  var schedule = document.getElementById("schedule-form");
  if (schedule && window.fetch) schedulePage(schedule);
  var survey = document.getElementById("survey-form");
  if (survey) surveyPage(survey);
  var playbook = document.getElementById("f-playbook");
  if (playbook && playbook.form && window.fetch) templateForm(playbook.form);
})();
