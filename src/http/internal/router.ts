/**
 * A small router: static paths in one map (one lookup), parameterised paths grouped by segment
 * count and tried in registration order. The route table is tiny and fixed, so this beats a trie
 * on clarity at no measurable cost.
 */

/** Outcome of a lookup. */
export type RouteMatch<R> =
  | { readonly kind: 'found'; readonly route: R; readonly params: Record<string, string>; readonly pattern: string }
  | { readonly kind: 'method-not-allowed'; readonly allow: readonly string[] }
  | { readonly kind: 'not-found' };

interface Dynamic<R> {
  readonly segments: readonly string[];
  readonly methods: Map<string, R>;
  readonly pattern: string;
}

/** Method + path pattern (`/api/tasks/:id`) to route. */
export class Router<R> {
  readonly #static = new Map<string, Map<string, R>>();
  readonly #dynamic = new Map<number, Dynamic<R>[]>();

  /** Registers `route` for `method` on `pattern`. */
  add(method: string, pattern: string, route: R): void {
    if (!pattern.includes('/:')) {
      let methods = this.#static.get(pattern);
      if (!methods) this.#static.set(pattern, (methods = new Map()));
      methods.set(method, route);
      return;
    }
    const segments = pattern.split('/').slice(1);
    let group = this.#dynamic.get(segments.length);
    if (!group) this.#dynamic.set(segments.length, (group = []));
    let entry = group.find((d) => d.pattern === pattern);
    if (!entry) group.push((entry = { segments, methods: new Map(), pattern }));
    entry.methods.set(method, route);
  }

  /** Finds the route of `method` on `path` (a URL pathname, still percent-encoded). */
  match(method: string, path: string): RouteMatch<R> {
    const methods = this.#static.get(path);
    if (methods) return pick(methods, method, {}, path);
    const parts = path.split('/').slice(1);
    const group = this.#dynamic.get(parts.length);
    if (!group) return { kind: 'not-found' };
    outer: for (const d of group) {
      const params: Record<string, string> = {};
      for (let i = 0; i < parts.length; i++) {
        const seg = d.segments[i]!;
        const part = parts[i]!;
        if (seg.charCodeAt(0) === 58 /* : */) {
          if (part.length === 0) continue outer;
          let value: string;
          try {
            value = decodeURIComponent(part);
          } catch {
            continue outer;
          }
          params[seg.slice(1)] = value;
        } else if (seg !== part) {
          continue outer;
        }
      }
      return pick(d.methods, method, params, d.pattern);
    }
    return { kind: 'not-found' };
  }
}

function pick<R>(methods: Map<string, R>, method: string, params: Record<string, string>, pattern: string): RouteMatch<R> {
  const route = methods.get(method) ?? (method === 'HEAD' ? methods.get('GET') : undefined);
  if (route !== undefined) return { kind: 'found', route, params, pattern };
  const allow = [...methods.keys()];
  if (allow.includes('GET')) allow.push('HEAD');
  return { kind: 'method-not-allowed', allow };
}
