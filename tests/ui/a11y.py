"""What the accessibility test checks in a page: an HTML audit (stdlib parser, no extra
dependency) and a text-contrast probe run in the browser."""
from __future__ import annotations

from html.parser import HTMLParser


class Audit(HTMLParser):
    """Collects what the checks need from one HTML document (stdlib parser: no extra dependency)."""

    FIELDS = ("input", "select", "textarea")
    UNLABELLED_INPUTS = ("hidden", "submit", "button", "reset", "image")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lang = ""
        self.title = ""
        self.h1: list[str] = []
        self.ids: list[str] = []
        self.label_for: set[str] = set()
        self.fields: list[dict] = []            # attrs + whether inside a <label>
        self.buttons: list[dict] = []           # attrs + text
        self.links: list[dict] = []
        self.images: list[dict] = []
        self.describedby: list[str] = []
        self.field_errors: set[str] = set()     # ids of .field-error elements
        self.positive_tabindex: list[str] = []
        self._stack: list[tuple[str, dict]] = []
        self._text: dict[int, list[str]] = {}   # open element (index in stack) -> its text

    def handle_starttag(self, tag: str, attrs_list: list) -> None:
        attrs = {k: (v or "") for k, v in attrs_list}
        if attrs.get("id"):
            self.ids.append(attrs["id"])
            if "field-error" in attrs.get("class", "").split():
                self.field_errors.add(attrs["id"])
        self.describedby += attrs.get("aria-describedby", "").split()
        if attrs.get("tabindex", "0").lstrip("-").isdigit() and int(attrs.get("tabindex", "0")) > 0:
            self.positive_tabindex.append(tag)  # breaks the keyboard's reading order
        if tag == "html":
            self.lang = attrs.get("lang", "")
        elif tag == "label" and attrs.get("for"):
            self.label_for.add(attrs["for"])
        elif tag in self.FIELDS:
            inside = any(t == "label" for t, _ in self._stack)
            self.fields.append({**attrs, "_tag": tag, "_in_label": inside})
        elif tag == "img":
            self.images.append(attrs)
        if tag in ("input", "img", "br", "hr", "meta", "link", "source", "wbr"):
            return                             # void elements: never closed
        self._stack.append((tag, attrs))
        self._text[len(self._stack) - 1] = []

    def handle_endtag(self, tag: str) -> None:
        if not any(t == tag for t, _ in self._stack):
            return
        while self._stack:
            open_tag, attrs = self._stack.pop()
            text = " ".join("".join(self._text.pop(len(self._stack), [])).split())
            if self._stack:                    # a child's text is its parent's text too
                self._text[len(self._stack) - 1].append(" " + text + " ")
            if open_tag == "title" and any(t == "head" for t, _ in self._stack):
                self.title = text                 # not an SVG's <title> tooltip
            elif open_tag == "h1":
                self.h1.append(text)
            elif open_tag == "button":
                self.buttons.append({**attrs, "_text": text})
            elif open_tag == "a" and "href" in attrs:
                self.links.append({**attrs, "_text": text})
            if open_tag == tag:
                break

    def handle_data(self, data: str) -> None:
        if self._stack:
            self._text[len(self._stack) - 1].append(data)


def audit(html: str) -> list[str]:
    """What is wrong with one page, as readable lines (empty: nothing)."""
    a = Audit()
    a.feed(html)
    a.close()
    problems = []
    if not a.lang:
        problems.append("<html> has no lang")
    if not a.title.endswith("| Turret") or a.title.strip() in ("| Turret", "Turret | Turret"):
        problems.append(f"title {a.title!r} does not say where the user is")
    if len(a.h1) != 1 or not a.h1[0]:
        problems.append(f"h1s: {a.h1!r} (one, with text)")
    dupes = sorted({i for i in a.ids if a.ids.count(i) > 1})
    if dupes:
        problems.append(f"duplicate ids {dupes}")
    for f in a.fields:
        if f["_tag"] == "input" and f.get("type", "text") in Audit.UNLABELLED_INPUTS:
            continue
        named = (f.get("id") in a.label_for or f["_in_label"] or f.get("aria-label") or f.get("aria-labelledby")
                 or f.get("title"))
        if not named:
            problems.append(f"unlabelled <{f['_tag']} name={f.get('name')!r} id={f.get('id')!r}>")
    for b in a.buttons:
        if not (b["_text"] or b.get("aria-label") or b.get("title")):
            problems.append(f"button without text: {b}")
    for link in a.links:
        if not (link["_text"] or link.get("aria-label") or link.get("title")):
            problems.append(f"link without text: {link.get('href')}")
    for img in a.images:
        if "alt" not in img:
            problems.append(f"img without alt: {img.get('src', '')[:60]}")
    if a.positive_tabindex:
        problems.append(f"positive tabindex on {a.positive_tabindex}")
    missing = sorted(set(a.describedby) - set(a.ids))
    if missing:
        problems.append(f"aria-describedby points at missing ids {missing}")
    return problems



# WCAG 2 contrast of every visible text against its effective background (the first opaque
# background up the tree; text over an image is skipped), 4.5:1 or 3:1 when large.
CONTRAST_JS = """() => {
  const lum = (c) => {
    const [r, g, b] = c.map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const rgba = (s) => (s.match(/[\\d.]+/g) || []).map(Number);
  const bgOf = (el) => { for (let e = el; e; e = e.parentElement) { const st = getComputedStyle(e);
      if (st.backgroundImage !== 'none') return null;
      const c = rgba(st.backgroundColor); if (c.length === 3 || (c.length === 4 && c[3] > 0.9)) return c.slice(0, 3); }
    return [255, 255, 255]; };
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const seen = new Set();
  while (walker.nextNode()) {
    const el = walker.currentNode.parentElement;
    if (!el || seen.has(el) || !walker.currentNode.textContent.trim()) continue;
    seen.add(el);
    const st = getComputedStyle(el); const box = el.getBoundingClientRect();
    if (st.visibility === 'hidden' || st.display === 'none' || box.width === 0 || box.left < -100) continue;
    if (el.closest('svg, .output, [aria-hidden=true]')) continue;
    const bg = bgOf(el); if (!bg) continue;
    const fg = rgba(st.color).slice(0, 3);
    const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
    const ratio = (a + 0.05) / (b + 0.05);
    const size = parseFloat(st.fontSize); const bold = parseInt(st.fontWeight) >= 700;
    const need = (size >= 24 || (bold && size >= 18.66)) ? 3 : 4.5;
    const what = `${el.tagName.toLowerCase()}.${el.className} "${el.textContent.trim().slice(0, 30)}"`;
    if (ratio < need) out.push(`${what} ${ratio.toFixed(2)} < ${need}`);
  }
  return out;
}"""
