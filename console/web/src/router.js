// Hash routes (#/streams/orders): the server serves one page, and a link or
// a reload lands on the same view. A route is {path, view, nav?}: path a
// pattern whose ":name" segments become props of view, nav the label of
// the top navigation entry it owns.
import { useEffect, useState } from 'preact/hooks';

export function currentPath() {
  const h = location.hash.replace(/^#/, '');
  return h.startsWith('/') ? h : '/' + h;
}

// decode is decodeURIComponent, or null for a malformed escape (a link
// cut short): such a path matches no route, rather than throwing in render.
function decode(s) {
  try {
    return decodeURIComponent(s);
  } catch {
    return null;
  }
}

// match finds the route for path and its params ({name: 'orders'}).
export function match(routes, path) {
  const parts = path.split('?')[0].split('/').filter(Boolean);
  for (const r of routes) {
    const want = r.path.split('/').filter(Boolean);
    if (want.length !== parts.length) continue;
    const params = {};
    let ok = true;
    for (let i = 0; i < want.length; i++) {
      // param: a :name segment's value, undefined for a literal segment
      // that matches, null for no match.
      const param = want[i].startsWith(':') ? decode(parts[i]) : want[i] === parts[i] ? undefined : null;
      if (param === null) {
        ok = false;
        break;
      }
      if (param !== undefined) params[want[i].slice(1)] = param;
    }
    if (ok) return { route: r, params };
  }
  return null;
}

// query is the ?a=b part of the hash, as URLSearchParams.
export function query() {
  const h = location.hash;
  const i = h.indexOf('?');
  return new URLSearchParams(i >= 0 ? h.slice(i + 1) : '');
}

export function usePath() {
  const [path, setPath] = useState(currentPath());
  useEffect(() => {
    const on = () => setPath(currentPath());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return path;
}

// go navigates to path ("/streams/orders").
export function go(path) {
  location.hash = '#' + path;
}

// href is the link to path.
export function href(path) {
  return '#' + path;
}
