// Vigil's htmx settings. Form validation errors come back as 422 with the form re-rendered: swap them in like a
// success, so the person sees what to fix; other errors show the page's error banner instead of a silent no-op.
document.addEventListener("DOMContentLoaded", () => {
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
