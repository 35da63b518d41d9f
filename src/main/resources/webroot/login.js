// Shows the refusal after a wrong token (POST /login redirects here with ?failed=1).
if (new URLSearchParams(location.search).has('failed')) document.getElementById('failed').hidden = false;
