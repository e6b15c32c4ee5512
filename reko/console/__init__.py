"""The web console's static files (HTML, CSS, JavaScript modules), served by `reko serve` at /console; no build step."""
