// The few DOM helpers the page scripts share. Text goes in through textContent only, so
// whatever a user posted is shown literally, never parsed as HTML.

export const $ = (id) => document.getElementById(id);

// A new element with an optional class and text.
export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// Appends a <td> to row holding content: text, or a node put in as it is.
export function cell(row, content, className) {
  const td = el("td", className);
  if (content instanceof Node) td.append(content); else td.textContent = content;
  row.append(td);
  return td;
}

// Team names in the board's order: team-2 before team-10 (by the number after the last
// "-", then by name).
export function byTeamNumber(a, b) {
  return Number(a.split("-").pop()) - Number(b.split("-").pop()) || a.localeCompare(b);
}

// Shows text in a result line (.result), marked ok or bad.
export function showResult(element, text, ok) {
  element.textContent = text;
  element.className = ok ? "result ok" : "result bad";
}
