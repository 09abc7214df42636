// window.callbridge.events: every room event this page received, in arrival order.
// Set synchronously before any other module of the page runs (main.js imports this module
// first, and imported modules run in the order they are imported): tests and exhibit
// tooling read it from page load on.

window.callbridge = { events: [] };
