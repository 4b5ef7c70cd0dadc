// CNN Explorer's diagram viewer: the SVG Graphviz drew on the server, in a fixed-height viewport with zoom, pan,
// fit-to-view and an overview; a click on a node sends its id back to Python. Plain JS, nothing fetched from the
// network. An ES module that Streamlit's components v2 runs in the app page itself: it calls the default export at
// mount and again whenever the data from Python changes, each time with the same parent (the component's shadow
// root), so the viewer of a parent is built once and kept here, with its zoom and pan, across the page's reruns.
const viewers = new WeakMap();  // parent (shadow root) → its viewer
const MIN = 0.05, MAX = 4;

function createViewer(root) {
  // every look-up stays inside this component's root, never the document: ids here cannot meet the page's
  const byId = (id) => root.querySelector(`[id="${CSS.escape(id)}"]`);
  const frame = byId("frame"), stage = byId("stage"), overview = byId("overview"), lens = byId("lens");
  const zoomLabel = byId("zoom");
  let view = { scale: 1, x: 0, y: 0 };
  let size = { w: 1, h: 1 };  // the SVG's natural size in CSS px
  let lastSvg = null, lastSelected = undefined, lastViewKey = null, lastFocus = null, overviewScale = 1;
  const self = { frame, send: null };

  function apply() {
    stage.style.transform = `translate(${view.x}px, ${view.y}px) scale(${view.scale})`;
    zoomLabel.textContent = Math.round(view.scale * 100) + "%";
    // the overview's lens: the part of the diagram in view
    const fw = frame.clientWidth, fh = frame.clientHeight;
    lens.style.left = (-view.x / view.scale) * overviewScale + "px";
    lens.style.top = (-view.y / view.scale) * overviewScale + "px";
    lens.style.width = (fw / view.scale) * overviewScale + "px";
    lens.style.height = (fh / view.scale) * overviewScale + "px";
  }
  function zoomAt(factor, cx, cy) {
    const s = Math.min(MAX, Math.max(MIN, view.scale * factor));
    view.x = cx - (cx - view.x) * (s / view.scale);
    view.y = cy - (cy - view.y) * (s / view.scale);
    view.scale = s;
    apply();
  }
  // The room the controls take: the zoom bar across the top, the overview in the bottom-right corner. A fitted
  // diagram stays clear of both, so no node sits under them.
  const TOP = 46, PAD = 16;
  function overviewRoom() {
    return overview.style.display === "none" ? { w: 0, h: 0 } : { w: overview.offsetWidth + 12, h: overview.offsetHeight + 12 };
  }
  function fitScale() {
    const fw = frame.clientWidth, fh = frame.clientHeight, o = overviewRoom();
    // beside the overview or above it, whichever leaves the diagram larger
    const beside = Math.min((fw - 2 * PAD - o.w) / size.w, (fh - TOP - PAD) / size.h);
    const above = Math.min((fw - 2 * PAD) / size.w, (fh - TOP - PAD - o.h) / size.h);
    return Math.min(MAX, Math.max(beside, above));
  }
  function fit() {
    const fw = frame.clientWidth, fh = frame.clientHeight, o = overviewRoom();
    view.scale = fitScale();
    const beside = Math.min((fw - 2 * PAD - o.w) / size.w, (fh - TOP - PAD) / size.h) >= view.scale - 1e-9;
    const w = fw - (beside ? o.w : 0), h = fh - TOP - (beside ? 0 : o.h);
    view.x = (w - size.w * view.scale) / 2;
    view.y = TOP + (h - size.h * view.scale) / 2;
    apply();
  }
  function fitHeight() {
    // a long left → right chain: as tall as the viewport allows (never beyond 100%), its start in view; the rest
    // is a pan away — fitting its whole length would shrink every node to an unreadable strip
    const fh = frame.clientHeight, o = overviewRoom();
    view.scale = Math.min(1, (fh - TOP - PAD - o.h) / size.h);
    view.x = PAD;
    view.y = TOP + (fh - TOP - o.h - size.h * view.scale) / 2;
    apply();
  }
  function natural(topAnchor) {
    // 100%: the nodes at the size Graphviz gave them; the top (or the middle) of the diagram in view
    const fw = frame.clientWidth, fh = frame.clientHeight;
    view.scale = 1;
    view.x = size.w < fw ? (fw - size.w) / 2 : PAD;
    view.y = size.h < fh - TOP ? TOP + (fh - TOP - size.h) / 2 : (topAnchor ? TOP : (fh - size.h) / 2);
    apply();
  }
  const READABLE = 0.35;  // below this a fitted diagram's labels cannot be read
  function centreOn(el) {
    // bring a node into the middle of the viewport, keeping the zoom (at least 60% so it is readable)
    const box = el.getBBox(), svg = stage.querySelector("svg");
    const ctm = el.getCTM(), rootCtm = svg.getCTM();
    if (!ctm || !rootCtm) return;
    // position of the node in the SVG's own (unscaled) CSS px
    const pt = svg.createSVGPoint();
    pt.x = box.x + box.width / 2; pt.y = box.y + box.height / 2;
    const p = pt.matrixTransform(rootCtm.inverse().multiply(ctm));
    const k = size.w / svg.viewBox.baseVal.width || 1;
    if (view.scale < 0.6) view.scale = 0.6;
    view.x = frame.clientWidth / 2 - p.x * k * view.scale;
    view.y = frame.clientHeight / 2 - p.y * k * view.scale;
    apply();
  }
  function visible(el) {
    const r = el.getBoundingClientRect(), f = frame.getBoundingClientRect();
    return r.left >= f.left && r.right <= f.right && r.top >= f.top && r.bottom <= f.bottom;
  }

  // --- pan and zoom -----------------------------------------------------------------------------------------------
  // Every listener sits on the viewer's own elements (none on window or document), so nothing outlives them.
  frame.addEventListener("wheel", (e) => {
    e.preventDefault();
    const f = frame.getBoundingClientRect();
    zoomAt(Math.exp(-e.deltaY * 0.0015), e.clientX - f.left, e.clientY - f.top);
  }, { passive: false });
  let drag = null;
  frame.addEventListener("pointerdown", (e) => {
    if (e.target.closest("#tools") || e.target.closest("#overview")) return;
    drag = { x: e.clientX, y: e.clientY, vx: view.x, vy: view.y, moved: false };
  });
  frame.addEventListener("pointermove", (e) => {
    if (!drag) return;
    if (e.buttons === 0) { drag = null; return; }  // released outside the viewport before it became a drag
    const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
    if (!drag.moved && Math.abs(dx) + Math.abs(dy) > 4) {
      drag.moved = true;
      frame.classList.add("dragging");
      // captured only once it is a drag: the moves outside the viewport keep panning, while a plain click still
      // lands on the node under the pointer
      frame.setPointerCapture(e.pointerId);
    }
    if (drag.moved) { view.x = drag.vx + dx; view.y = drag.vy + dy; apply(); }
  });
  const endDrag = () => {
    frame.classList.remove("dragging");
    setTimeout(() => { drag = null; }, 0);  // the click that ends a drag is not a selection
  };
  frame.addEventListener("pointerup", endDrag);
  frame.addEventListener("lostpointercapture", endDrag);
  byId("zoom-in").onclick = () => zoomAt(1.25, frame.clientWidth / 2, frame.clientHeight / 2);
  byId("zoom-out").onclick = () => zoomAt(0.8, frame.clientWidth / 2, frame.clientHeight / 2);
  byId("fit").onclick = fit;
  byId("actual").onclick = () => natural(true);
  overview.addEventListener("click", (e) => {
    const o = overview.getBoundingClientRect();
    const x = (e.clientX - o.left) / overviewScale, y = (e.clientY - o.top) / overviewScale;
    view.x = frame.clientWidth / 2 - x * view.scale;
    view.y = frame.clientHeight / 2 - y * view.scale;
    apply();
  });
  const resized = new ResizeObserver(() => apply());  // the column's width changed: the lens follows
  resized.observe(frame);

  // --- clicks: a node's id goes back to Python --------------------------------------------------------------------
  let clickedAt = 0;
  function showDetail(key) {
    // the page's detail of the layer just clicked (an element of the app page, outside this shadow root): once the
    // rerun has drawn it, scrolled into view if it is not (on a phone it sits below the diagram)
    const started = Date.now();
    const look = () => {
      const el = document.querySelector(`.st-key-${CSS.escape(key)}`);
      const idle = document.querySelector('[data-test-script-state="notRunning"]');
      if (el && idle) {
        const r = el.getBoundingClientRect();
        if (r.top < 0 || r.bottom > window.innerHeight) el.scrollIntoView({ block: r.height > window.innerHeight ? "start" : "nearest" });
        return;
      }
      if (Date.now() - started < 5000) setTimeout(look, 100);
    };
    clickedAt = 0;
    setTimeout(look, 50);
  }
  stage.addEventListener("click", (e) => {
    if (drag && drag.moved) return;
    const node = e.target.closest("g.node");
    const cluster = !node && e.target.closest("g.cluster");
    const id = node ? node.id : cluster ? cluster.id : null;
    if (!id || !self.send) return;
    // a nonce: clicking the same node twice is two events (the value must change to reach Python)
    clickedAt = Date.now();
    self.send("click", { id: id, nonce: Date.now() });
  });

  // --- render -----------------------------------------------------------------------------------------------------
  // the visible words, in the app's language, from Python: {element id: [text or null, tooltip]}
  function label(texts) {
    for (const [id, [text, title]] of Object.entries(texts || {})) {
      const el = byId(id);
      if (!el) continue;
      if (text !== null && el.textContent !== text) el.textContent = text;  // text, never markup
      if (title) el.title = title;
    }
  }
  self.render = (args) => {
    label(args.texts);
    const height = args.height || 600;
    frame.style.height = height + "px";
    const newView = args.view_key !== lastViewKey;
    if (args.svg !== lastSvg) {
      stage.innerHTML = args.svg;  // the SVG Graphviz drew on the server: ours, the only markup taken from Python
      const svg = stage.querySelector("svg");
      // Graphviz sizes the SVG in pt (1 pt = 4/3 CSS px): its natural size
      const vb = svg.viewBox.baseVal;
      size = { w: vb.width * 4 / 3, h: vb.height * 4 / 3 };
      svg.setAttribute("width", size.w); svg.setAttribute("height", size.h);
      // the overview: the same drawing, scaled into at most 140×180 px
      overview.querySelectorAll("svg").forEach((s) => s.remove());
      overviewScale = Math.min(140 / size.w, 180 / size.h, 1);
      const small = svg.cloneNode(true);
      small.querySelectorAll("[id]").forEach((el) => el.removeAttribute("id"));
      small.setAttribute("width", size.w * overviewScale); small.setAttribute("height", size.h * overviewScale);
      overview.insertBefore(small, lens);
      overview.style.display = size.w > frame.clientWidth || size.h > height ? "block" : "none";
      lastSvg = args.svg;
      lastSelected = undefined;  // light the selection again on the new drawing
    }
    if (newView) {
      lastViewKey = args.view_key;
      if (args.initial === "fit" || size.w * 0.6 > frame.clientWidth) {
        if (fitScale() < READABLE && size.w > size.h) fitHeight(); else fit();
      } else natural(true);
      lastFocus = args.focus;
    } else apply();
    if (args.focus && args.focus !== lastFocus) {
      // a block just opened: its frame, not wherever the view was, in the middle
      lastFocus = args.focus;
      const el = stage.querySelector(`[id="${CSS.escape(args.focus)}"]`);
      if (el) centreOn(el);
    }
    if (args.selected !== lastSelected) {
      lastSelected = args.selected;
      stage.querySelectorAll("g.node.selected").forEach((g) => g.classList.remove("selected"));
      const el = args.selected ? stage.querySelector(`[id="${CSS.escape(args.selected)}"]`) : null;
      if (el) {
        el.classList.add("selected");
        if (!visible(el)) centreOn(el);
      }
      frame.dataset.selected = args.selected || "";
      if (args.selected && args.detail && clickedAt && Date.now() - clickedAt < 10000) showDetail(args.detail);
    }
  };
  self.destroy = () => resized.disconnect();
  return self;
}

export default function (component) {
  const { parentElement: root, data, setStateValue } = component;
  let viewer = viewers.get(root);
  if (!viewer || !viewer.frame.isConnected) {  // first mount (or the markup was put in anew)
    viewer = createViewer(root);
    viewers.set(root, viewer);
  }
  viewer.send = setStateValue;  // the latest one: it carries this run's widget context
  viewer.render(data || {});
  return () => {
    // Streamlit calls this when the element leaves the page (and for a call that a newer one overtook, while the
    // element is still there: then the viewer stays)
    const host = root.host || root;
    if (!host.isConnected && viewers.get(root) === viewer) {
      viewer.destroy();
      viewers.delete(root);
    }
  };
}
