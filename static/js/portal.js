// Vigil's htmx settings. Form validation errors come back as 422 with the form re-rendered: swap them in like a
// success, so the person sees what to fix; other errors show the page's error banner instead of a silent no-op.
// Times arrive as <time datetime="…" title="… UTC">: show them in the reader's own time zone, keep UTC on hover.
const localTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
function localizeTimes(root) {
  root.querySelectorAll("time[datetime]:not([data-local])").forEach((element) => {
    const moment = new Date(element.getAttribute("datetime"));
    if (Number.isNaN(moment.getTime())) return;
    element.textContent = localTime.format(moment);
    element.dataset.local = "1";
  });
}
// Bars sized by data (the queue's timeline) carry their height in percent as data-height: the
// Content-Security-Policy refuses style attributes in the HTML, not styles set from here.
function sizeBars(root) {
  root.querySelectorAll("[data-height]").forEach((bar) => {
    bar.style.height = `${Number(bar.dataset.height) || 0}%`;
  });
}

document.addEventListener("DOMContentLoaded", () => {
  localizeTimes(document);
  document.body.addEventListener("htmx:afterSettle", (event) => localizeTimes(event.detail.elt));
  sizeBars(document);
  // The timeline replaces its placeholder (an outerHTML swap), so look from its parent.
  document.body.addEventListener("htmx:afterSettle", (event) => sizeBars(event.detail.elt.parentElement || document));
  // The attack-story graph: pointing at an alert or an entity lights the edges that tie it to the others.
  const lightEdges = (event, on) => {
    const node = event.target.closest?.(".story-graph .node");
    if (!node) return;
    const selector = node.dataset.alert ? `line[data-alert="${node.dataset.alert}"]` : `line[data-entity="${node.dataset.entity}"]`;
    node.closest("svg").querySelectorAll(selector).forEach((line) => line.classList.toggle("is-lit", on));
  };
  document.body.addEventListener("mouseover", (event) => lightEdges(event, true));
  document.body.addEventListener("mouseout", (event) => lightEdges(event, false));
  document.body.addEventListener("focusin", (event) => lightEdges(event, true));
  document.body.addEventListener("focusout", (event) => lightEdges(event, false));
  // A classification offers only the determinations that belong to it.
  const fitDeterminations = (select) => {
    const target = document.getElementById(select.dataset.determinationFor);
    if (!target) return;
    target.querySelectorAll("option").forEach((option) => {
      option.hidden = !(option.dataset.fits || "").split(" ").includes(select.value);
    });
    if (target.selectedOptions[0]?.hidden) target.value = "unknown";
  };
  document.querySelectorAll("[data-determination-for]").forEach(fitDeterminations);
  document.body.addEventListener("change", (event) => {
    if (event.target.dataset?.determinationFor) fitDeterminations(event.target);
  });
  document.body.addEventListener("htmx:afterSettle", (event) => {
    event.detail.elt.querySelectorAll?.("[data-determination-for]").forEach(fitDeterminations);
  });
  // The queue's bulk bar shows only the inputs the chosen action needs.
  const fitBulkInputs = (select) => {
    select.form.querySelectorAll("[data-bulk-for]").forEach((input) => {
      input.hidden = !input.dataset.bulkFor.split(" ").includes(select.value);
    });
  };
  const bulkActions = () => document.querySelectorAll("select[name=action]").forEach(fitBulkInputs);
  bulkActions();
  document.body.addEventListener("htmx:afterSettle", bulkActions);
  document.body.addEventListener("change", (event) => {
    if (event.target.matches?.("select[name=action]")) fitBulkInputs(event.target);
  });
  // "Select all on this page" ticks the row boxes of the same name.
  document.body.addEventListener("change", (event) => {
    const name = event.target.dataset.selectAll;
    if (!name) return;
    document.querySelectorAll(`input[type=checkbox][name="${name}"]`).forEach((box) => {
      box.checked = event.target.checked;
    });
  });
  htmx.config.responseHandling = [
    { code: "204", swap: false },
    { code: "[23]..", swap: true },
    { code: "422", swap: true },
    { code: "[45]..", swap: false, error: true },
  ];
  document.body.addEventListener("htmx:responseError", (event) => {
    const banner = document.getElementById("request-error");
    if (!banner) return;
    const status = event.detail.xhr.status;
    banner.textContent =
      status === 403
        ? "You do not have permission to do that."
        : status === 404
          ? "That item no longer exists. Reload the page to see the current list."
          : `The request failed (HTTP ${status}). Nothing was changed; try again.`;
    banner.hidden = false;
  });
  document.body.addEventListener("htmx:sendError", () => {
    const banner = document.getElementById("request-error");
    if (!banner) return;
    banner.textContent = "Vigil could not be reached. Check your connection and try again.";
    banner.hidden = false;
  });
  document.body.addEventListener("htmx:beforeRequest", () => {
    const banner = document.getElementById("request-error");
    if (banner) banner.hidden = true;
  });
});

// Home cards load on their own: a card whose request fails (a server error the card view could not catch, or no
// connection) shows the failure in its own place instead of a spinner that never stops.
["htmx:responseError", "htmx:sendError"].forEach((name) => {
  document.addEventListener(name, (event) => {
    const body = event.detail.elt.closest?.("[data-card-body]");
    if (!body) return;
    body.setAttribute("aria-busy", "false");
    body.innerHTML =
      '<div class="alert alert-warning small mb-0" role="alert" data-card-error>This card could not be loaded. ' +
      "Reload the page to try again.</div>";
  });
});
document.addEventListener("htmx:afterSwap", (event) => {
  if (event.detail.elt.matches?.("[data-card-body]")) event.detail.elt.setAttribute("aria-busy", "false");
});
