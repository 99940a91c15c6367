/**
 * A tiny element builder. Text always goes in as text nodes, never as HTML,
 * so nothing a model or a file name says can inject markup.
 */
type Child = Node | string | number | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
  return el;
}

/**
 * Makes `nodes` the children of `parent`, touching the DOM only when they
 * differ: a render that changes nothing keeps focus, selection and what a
 * screen reader is reading.
 */
export function setChildren(parent: Element, nodes: readonly Node[]): void {
  const current = parent.childNodes;
  if (current.length === nodes.length && nodes.every((n, i) => current[i] === n)) return;
  parent.replaceChildren(...nodes);
}
