// The console's only script of its own: carries a renewed session (sealed by the server) from the sign-in cookie to the
// page's circuit, so a page whose session ended keeps what the person typed.
window.cxmeshConsole = {
  renewSession: async () => {
    const response = await fetch('/session/renew', { credentials: 'same-origin', cache: 'no-store', redirect: 'manual' });
    if (!response.ok) return null;
    const body = await response.json();
    return body.sealed ?? null;
  },
};
