// Tsunagari LINE simulator: a phone-like chat driven by the simulator's JSON API.
//
// Everything the bot sends arrives through the transcript long-poll as LINE message
// objects and is drawn here the way the LINE app draws it (text, quick replies,
// templates, flex). Taps become the events LINE would send, through /simulator/api/send.
// Plain modern JavaScript, no build step, nothing loaded from another host.

const API = "/simulator/api";
const LONG_POLL_S = 25;
const RETRY_MS = 2000;

// Sample places in Morioka for the location sender (approximate coordinates).
const PLACES = [
  { title: "盛岡駅", en: "Morioka Station", latitude: 39.7016, longitude: 141.1365,
    address: "岩手県盛岡市盛岡駅前通1-44" },
  { title: "盛岡市役所", en: "Morioka City Hall", latitude: 39.702, longitude: 141.1545,
    address: "岩手県盛岡市内丸12-2" },
  { title: "盛岡城跡公園", en: "Morioka Castle Site Park", latitude: 39.6995, longitude: 141.151,
    address: "岩手県盛岡市内丸1-37" },
  { title: "盛岡八幡宮", en: "Morioka Hachimangu Shrine", latitude: 39.6956, longitude: 141.1642,
    address: "岩手県盛岡市八幡町13-1" },
  { title: "岩手大学", en: "Iwate University", latitude: 39.7118, longitude: 141.136,
    address: "岩手県盛岡市上田3-18-8" },
];

// Notes shown in the chat for actions LINE draws no bubble for.
const NOTES = {
  follow: "友だち追加しました · Added as a friend",
  unblock: "ブロックを解除しました · Unblocked",
  unfollow: "ブロックしました · Blocked",
  postback: "ボタンを押しました · Tapped a button",
};

// LINE's size keywords in pixels (flex text, icons, images, spacing, radii).
const TEXT_SIZE = { xxs: 11, xs: 13, sm: 14, md: 16, lg: 19, xl: 22, xxl: 29, "3xl": 35, "4xl": 48, "5xl": 74 };
const IMAGE_SIZE = { xxs: 40, xs: 60, sm: 80, md: 100, lg: 120, xl: 140, xxl: 160, "3xl": 180,
  "4xl": 200, "5xl": 240 };
const SPACING = { none: 0, xs: 2, sm: 4, md: 8, lg: 12, xl: 16, xxl: 20 };
const RADIUS = { none: 0, xs: 2, sm: 4, md: 8, lg: 12, xl: 16, xxl: 20 };
const BORDER = { none: 0, light: 0.5, normal: 1, medium: 2, "semi-bold": 3, bold: 4 };
const BUBBLE_WIDTH = { nano: 120, micro: 160, deca: 220, hecto: 241, kilo: 260, mega: 300, giga: 500 };
const ALIGN = { start: "flex-start", center: "center", end: "flex-end", top: "flex-start",
  bottom: "flex-end" };

const clock = new Intl.DateTimeFormat("ja-JP", { hour: "2-digit", minute: "2-digit",
  timeZone: "Asia/Tokyo" });

const state = {
  config: { basic_id: "", spec_checked: false },
  residents: [],
  current: null,
  lastSeq: 0,
  lastChat: null, // the latest chat entry (sent or received), for quick replies
  poll: null,
  pendingPicker: null,
  richMenu: { id: null, open: false }, // the menu shown under the chat, and whether it is open
};

const $ = (id) => document.getElementById(id);

// --- small DOM helpers ---------------------------------------------------------------

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

function px(value, table) {
  if (value === undefined || value === null) return null;
  if (table && value in table) return `${table[value]}px`;
  return /^-?\d+(\.\d+)?(px|%)$/.test(String(value)) ? String(value) : null;
}

function safeUrl(url) {
  const text = String(url || "");
  return /^(https?:|data:image\/|\/)/.test(text) ? text : "";
}

function setStatus(text) {
  $("status-line").textContent = text || "";
}

// --- the JSON API --------------------------------------------------------------------

async function call(method, path, body, signal) {
  const init = { method, signal, headers: {} };
  if (body !== undefined) {
    init.headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const detail = typeof data.detail === "string" ? data.detail : JSON.stringify(data.detail || data);
    throw new Error(`${response.status} ${detail}`);
  }
  return data;
}

async function send(turn) {
  if (!state.current) return;
  try {
    const answer = await call("POST", `${API}/send`, { resident: state.current, ...turn });
    updateResident(answer.resident);
    setStatus(answer.status === 200 ? "" : `Webhook: ${answer.status ?? "接続できません unreachable"}`);
  } catch (error) {
    setStatus(`送信できませんでした Could not send: ${error.message}`);
  }
}

async function scan(url) {
  try {
    const answer = await call("POST", `${API}/scan`, { resident: state.current, url });
    updateResident(answer.resident);
    setStatus("");
  } catch (error) {
    setStatus(`開けませんでした Could not open the link: ${error.message}`);
  }
}

// --- actions: what a tap on a chip, button or flex part does ---------------------------

function performAction(action) {
  if (!action || !state.current) return;
  switch (action.type) {
    case "message":
      return send({ kind: "text", text: action.text ?? action.label });
    case "postback":
      return send({ kind: "postback", data: action.data,
        displayText: action.displayText ?? action.text ?? undefined });
    case "datetimepicker":
      return openDatetimePicker(action);
    case "location":
      return openDialog("dialog-location");
    case "camera":
    case "cameraRoll":
      return send({ kind: "image" });
    case "uri":
      return openUri(action.uri);
    case "clipboard":
      navigator.clipboard?.writeText(action.clipboardText || "");
      return setStatus("コピーしました Copied");
    case "richmenuswitch":
      return send({ kind: "postback", data: action.data,
        params: { newRichMenuAliasId: action.richMenuAliasId } });
    default:
      return setStatus(`未対応のアクション Unsupported action: ${action.type}`);
  }
}

function openUri(uri) {
  const text = String(uri || "");
  if (/^(https?:\/\/(www\.)?line\.me\/R\/|line:\/\/)/.test(text)) return scan(text);
  if (/^(https?:|tel:|mailto:)/.test(text)) return window.open(text, "_blank", "noopener");
  return setStatus(`開けないリンク Cannot open: ${text}`);
}

function openDatetimePicker(action) {
  const input = $("datetime-input");
  const mode = action.mode || "datetime";
  input.type = { date: "date", time: "time", datetime: "datetime-local" }[mode] || "datetime-local";
  const norm = (v) => (v ? String(v).replace("t", "T") : "");
  input.value = norm(action.initial);
  input.min = norm(action.min);
  input.max = norm(action.max);
  $("datetime-label").textContent = action.label || "日時 Date and time";
  state.pendingPicker = action;
  openDialog("dialog-datetime");
}

function makeActionable(node, action) {
  if (!action) return node;
  node.classList.add("actionable");
  node.setAttribute("role", "button");
  node.tabIndex = 0;
  if (action.label) node.setAttribute("aria-label", action.label);
  node.addEventListener("click", (event) => {
    event.stopPropagation();
    performAction(action);
  });
  node.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      performAction(action);
    }
  });
  return node;
}

function actionButton(action, className) {
  const button = el("button", className, action.label || action.type);
  button.type = "button";
  button.addEventListener("click", () => performAction(action));
  return button;
}

// --- LINE messages ---------------------------------------------------------------------

function renderMessage(message) {
  switch (message.type) {
    case "text": return renderText(message);
    case "textV2": return renderTextV2(message);
    case "flex": return renderFlex(message.contents, message.altText);
    case "template": return renderTemplate(message.template, message.altText);
    case "image": return renderImage(message);
    case "location": return renderLocation(message);
    case "sticker": return el("div", "sticker", "🐻 スタンプ Sticker");
    default: return el("div", "bubble text", `[${message.type}] ${message.altText || ""}`);
  }
}

function renderText(message) {
  const bubble = el("div", "bubble text");
  const emojis = [...(message.emojis || [])].sort((a, b) => a.index - b.index);
  let at = 0;
  for (const emoji of emojis) {
    bubble.append(message.text.slice(at, emoji.index));
    const mark = el("span", "line-emoji", "☺");
    mark.title = `LINE emoji ${emoji.productId}/${emoji.emojiId}`;
    bubble.append(mark);
    at = emoji.index + 1; // LINE emoji take the place of one "$"
  }
  bubble.append(message.text.slice(at));
  return bubble;
}

function renderTextV2(message) {
  const substitution = message.substitution || {};
  const text = String(message.text).replace(/\{(\w+)\}/g, (whole, key) => {
    const part = substitution[key];
    if (!part) return whole;
    return part.type === "mention" ? "@" + (part.mentionee?.userId ? "user" : "all") : "☺";
  });
  return el("div", "bubble text", text);
}

function renderImage(message) {
  const image = el("img", "picture");
  image.src = safeUrl(message.previewImageUrl || message.originalContentUrl);
  image.alt = "画像 Image";
  image.loading = "lazy";
  return image;
}

function renderLocation(message) {
  const card = el("div", "bubble location");
  card.append(el("div", "location-map", "📍"));
  if (message.title) card.append(el("strong", "", message.title));
  if (message.address) card.append(el("div", "", message.address));
  card.append(el("small", "", `${message.latitude}, ${message.longitude}`));
  return card;
}

// --- template messages -----------------------------------------------------------------

function renderTemplate(template, altText) {
  if (!template) return el("div", "bubble text", altText || "");
  if (template.type === "confirm") return renderConfirm(template);
  if (template.type === "buttons") return renderButtonsCard(template, template.actions);
  if (template.type === "carousel") {
    const row = el("div", "carousel");
    for (const column of template.columns || []) row.append(renderButtonsCard(column, column.actions, template));
    return row;
  }
  if (template.type === "image_carousel") {
    const row = el("div", "carousel");
    for (const column of template.columns || []) row.append(renderImageColumn(column));
    return row;
  }
  return el("div", "bubble text", altText || template.type);
}

function renderConfirm(template) {
  const card = el("div", "template confirm");
  card.append(el("p", "template-text", template.text));
  const row = el("div", "template-actions horizontal");
  for (const action of template.actions || []) row.append(actionButton(action, "template-button"));
  card.append(row);
  return card;
}

function renderButtonsCard(column, actions, carousel) {
  const card = el("div", "template buttons");
  const imageUrl = column.thumbnailImageUrl;
  if (imageUrl) {
    const image = el("img", "template-image");
    image.src = safeUrl(imageUrl);
    image.alt = "";
    const ratio = (carousel || column).imageAspectRatio === "square" ? "1 / 1" : "1.51 / 1";
    image.style.aspectRatio = ratio;
    image.style.objectFit = (carousel || column).imageSize === "contain" ? "contain" : "cover";
    if (column.imageBackgroundColor) image.style.backgroundColor = column.imageBackgroundColor;
    card.append(image);
  }
  const body = el("div", "template-body");
  if (column.title) body.append(el("strong", "template-title", column.title));
  body.append(el("p", "template-text", column.text));
  card.append(body);
  if (column.defaultAction) makeActionable(body, column.defaultAction);
  const list = el("div", "template-actions");
  for (const action of actions || []) list.append(actionButton(action, "template-button"));
  card.append(list);
  return card;
}

function renderImageColumn(column) {
  const card = el("div", "template image-column");
  const image = el("img", "template-image square");
  image.src = safeUrl(column.imageUrl);
  image.alt = column.action?.label || "";
  card.append(image);
  if (column.action) {
    card.append(actionButton(column.action, "image-column-label"));
  }
  return card;
}

// --- flex messages -------------------------------------------------------------------------

function renderFlex(container, altText) {
  if (!container) return el("div", "bubble text", altText || "");
  if (container.type === "carousel") {
    const row = el("div", "carousel");
    for (const bubble of container.contents || []) row.append(renderBubble(bubble));
    return row;
  }
  return renderBubble(container);
}

function renderBubble(bubble) {
  const card = el("div", "flex-bubble");
  card.style.width = `${BUBBLE_WIDTH[bubble.size] || BUBBLE_WIDTH.mega}px`;
  if (bubble.direction === "rtl") card.dir = "rtl";
  const styles = bubble.styles || {};
  for (const part of ["header", "hero", "body", "footer"]) {
    const component = bubble[part];
    if (!component) continue;
    const style = styles[part] || {};
    const block = el("div", `flex-${part}`);
    if (style.backgroundColor) block.style.backgroundColor = style.backgroundColor;
    if (style.separator) block.style.borderTop = `1px solid ${style.separatorColor || "#e5e5e5"}`;
    block.append(renderComponent(component, "vertical"));
    card.append(block);
  }
  return makeActionable(card, bubble.action);
}

function renderComponent(component, parentLayout, isFirst = true) {
  const render = {
    box: renderBox, text: renderFlexText, button: renderFlexButton, image: renderFlexImage,
    icon: renderIcon, separator: renderSeparator, spacer: renderSpacer, filler: renderFiller,
    video: (c) => renderComponent(c.altContent || { type: "text", text: "[video]" }, parentLayout),
  }[component.type];
  const node = render ? render(component, parentLayout) : el("span", "", `[${component.type}]`);
  applyCommon(node, component, parentLayout, isFirst);
  return node;
}

function applyCommon(node, component, parentLayout, isFirst) {
  const horizontal = parentLayout !== "vertical";
  const grow = component.flex ?? (horizontal && component.type !== "icon" ? 1 : 0);
  if (component.type !== "filler") node.style.flex = grow === 0 ? "0 0 auto" : `${grow} 1 0`;
  const margin = px(component.margin, SPACING);
  if (margin && !isFirst) node.style[horizontal ? "marginInlineStart" : "marginTop"] = margin;
  if (component.gravity && horizontal) node.style.alignSelf = ALIGN[component.gravity] || "";
  if (component.position === "absolute") node.style.position = "absolute";
  for (const side of ["Top", "Bottom", "Start", "End"]) {
    const value = px(component[`offset${side}`], SPACING);
    if (value) node.style[{ Start: "insetInlineStart", End: "insetInlineEnd" }[side] || side.toLowerCase()] = value;
  }
}

function renderBox(box) {
  const node = el("div", `flex-box ${box.layout}`);
  const layout = box.layout || "vertical";
  node.style.flexDirection = layout === "vertical" ? "column" : "row";
  if (layout === "baseline") node.style.alignItems = "baseline";
  const gap = px(box.spacing, SPACING);
  if (gap) node.style.gap = gap;
  const colours = { backgroundColor: "backgroundColor", borderColor: "borderColor" };
  for (const [key, css] of Object.entries(colours)) if (box[key]) node.style[css] = box[key];
  const border = px(box.borderWidth, BORDER);
  if (border) {
    node.style.borderStyle = "solid";
    node.style.borderWidth = border;
  }
  const radius = px(box.cornerRadius, RADIUS);
  if (radius) node.style.borderRadius = radius;
  for (const key of ["paddingAll", "paddingTop", "paddingBottom", "paddingStart", "paddingEnd"]) {
    const value = px(box[key], SPACING);
    if (!value) continue;
    const css = { paddingAll: "padding", paddingStart: "paddingInlineStart",
      paddingEnd: "paddingInlineEnd" }[key] || key;
    node.style[css] = value;
  }
  for (const key of ["width", "maxWidth", "height", "maxHeight"]) {
    const value = px(box[key]);
    if (value) node.style[key] = value;
  }
  if (box.justifyContent) node.style.justifyContent = box.justifyContent;
  if (box.alignItems) node.style.alignItems = box.alignItems;
  if (box.background?.type === "linearGradient") {
    const b = box.background;
    node.style.backgroundImage = `linear-gradient(${b.angle || "0deg"}, ${b.startColor}, ${b.endColor})`;
  }
  (box.contents || []).forEach((child, index) => node.append(renderComponent(child, layout, index === 0)));
  return makeActionable(node, box.action);
}

function renderFlexText(text) {
  const node = el("div", "flex-text");
  if (text.contents?.length) {
    for (const span of text.contents) node.append(renderSpan(span));
  } else {
    node.textContent = text.text ?? "";
  }
  styleText(node, text);
  node.style.fontSize = px(text.size, TEXT_SIZE) || `${TEXT_SIZE.md}px`;
  if (text.align) node.style.textAlign = text.align === "end" ? "end" : text.align;
  node.classList.toggle("wrap", Boolean(text.wrap));
  if (text.maxLines) {
    node.style.webkitLineClamp = String(text.maxLines);
    node.classList.add("clamp");
  }
  if (text.lineSpacing) node.style.lineHeight = `calc(1.4em + ${px(text.lineSpacing) || "0px"})`;
  return makeActionable(node, text.action);
}

function renderSpan(span) {
  const node = el("span", "", span.text);
  styleText(node, span);
  const size = px(span.size, TEXT_SIZE);
  if (size) node.style.fontSize = size;
  return node;
}

function styleText(node, part) {
  if (part.color) node.style.color = part.color;
  if (part.weight === "bold") node.style.fontWeight = "700";
  if (part.style === "italic") node.style.fontStyle = "italic";
  if (part.decoration && part.decoration !== "none") node.style.textDecoration = part.decoration;
}

function renderFlexButton(button) {
  const style = button.style || "link";
  const node = actionButton(button.action || {}, `flex-button ${style} ${button.height || "md"}`);
  if (button.color) node.style[style === "link" ? "color" : "backgroundColor"] = button.color;
  return node;
}

function renderFlexImage(image) {
  const wrapper = el("div", "flex-image");
  wrapper.style.justifyContent = ALIGN[image.align || "center"];
  const node = el("img");
  node.src = safeUrl(image.url);
  node.alt = image.altText || "";
  node.loading = "lazy";
  const size = image.size || "md";
  node.style.width = size === "full" ? "100%" : px(size, IMAGE_SIZE) || "100px";
  if (image.aspectRatio) node.style.aspectRatio = image.aspectRatio.replace(":", " / ");
  node.style.objectFit = image.aspectMode === "cover" ? "cover" : "contain";
  if (image.backgroundColor) node.style.backgroundColor = image.backgroundColor;
  wrapper.append(node);
  return makeActionable(wrapper, image.action);
}

function renderIcon(icon) {
  const node = el("img", "flex-icon");
  node.src = safeUrl(icon.url);
  node.alt = "";
  node.style.height = px(icon.size, TEXT_SIZE) || `${TEXT_SIZE.md}px`;
  if (icon.aspectRatio) node.style.aspectRatio = icon.aspectRatio.replace(":", " / ");
  return node;
}

function renderSeparator(separator, parentLayout) {
  const node = el("div", `flex-separator ${parentLayout === "vertical" ? "across" : "down"}`);
  if (separator.color) node.style.backgroundColor = separator.color;
  node.setAttribute("role", "separator");
  return node;
}

function renderSpacer(spacer) {
  const node = el("div", "flex-spacer");
  node.style.flexBasis = px(spacer.size, SPACING) || `${SPACING.md}px`;
  return node;
}

function renderFiller(filler) {
  const node = el("div", "flex-filler");
  node.style.flex = `${filler.flex ?? 1} 1 0`;
  return node;
}

// --- the chat ------------------------------------------------------------------------------

function chatItem(side, entry) {
  const chat = $("chat");
  const item = el("li", `msg ${side}`);
  const previous = chat.lastElementChild;
  if (side === "from-bot") {
    const continued = previous?.classList.contains("from-bot");
    const avatar = el("span", continued ? "avatar hidden" : "avatar", "つ");
    avatar.setAttribute("aria-hidden", "true");
    item.append(avatar);
  }
  const body = el("div", "msg-body");
  item.append(body);
  const time = el("time", "msg-time", clock.format(new Date(entry.at)));
  time.dateTime = new Date(entry.at).toISOString();
  item.append(time);
  chat.append(item);
  return body;
}

function renderChatEntry(entry) {
  if (entry.kind === "received") {
    chatItem("from-bot", entry).append(renderMessage(entry.message));
    state.lastChat = entry;
  } else if (entry.kind === "sent") {
    renderSent(entry);
    state.lastChat = entry;
  }
}

function renderSent(entry) {
  const bubble = entry.bubble;
  if (!bubble) {
    const params = entry.params ? ` ${Object.values(entry.params).join(" ")}` : "";
    const note = el("li", "note", (NOTES[entry.note] || entry.note) + params);
    $("chat").append(note);
    return;
  }
  const body = chatItem("from-me", entry);
  if (bubble.type === "text") body.append(el("div", "bubble text mine", bubble.text));
  else if (bubble.type === "location") body.append(renderLocation(bubble));
  else if (bubble.type === "sticker") body.append(el("div", "sticker", "🐻"));
  else body.append(el("div", "bubble text mine", "📷 写真 Photo"));
}

function renderQuickReplies() {
  const bar = $("quick-replies");
  bar.replaceChildren();
  const last = state.lastChat;
  const items = last?.kind === "received" ? last.message.quickReply?.items || [] : [];
  for (const item of items) {
    const chip = actionButton(item.action, "chip");
    if (item.imageUrl) {
      const icon = el("img", "chip-icon");
      icon.src = safeUrl(item.imageUrl);
      icon.alt = "";
      chip.prepend(icon);
    }
    bar.append(chip);
  }
  bar.hidden = items.length === 0;
}

// --- the side panel: raw webhooks and API requests ----------------------------------------

function renderWireEntry(entry) {
  let summary;
  let payload;
  let problem = false;
  if (entry.kind === "sent") {
    const event = entry.webhook.body.events[0];
    summary = `→ Webhook ${event.type}${event.message ? ` (${event.message.type})` : ""}`;
    payload = entry.webhook;
  } else if (entry.kind === "ack") {
    summary = `← /callback ${entry.status ?? "接続失敗 no answer"}`;
    payload = { status: entry.status, response: entry.response };
    problem = entry.status !== 200;
  } else if (entry.kind === "api") {
    summary = `⇢ ${entry.method} ${entry.path} ${entry.status}`;
    payload = { request: entry.json, retryKey: entry.retry_key, specErrors: entry.spec_errors };
    problem = entry.status >= 400 || entry.spec_errors.length > 0;
  } else {
    return;
  }
  const item = el("li", problem ? "wire-item problem" : "wire-item");
  const details = el("details");
  const head = el("summary", "", `${clock.format(new Date(entry.at))} ${summary}`);
  details.append(head, el("pre", "", JSON.stringify(payload, null, 2)));
  item.append(details);
  $("wire").append(item);
}

// --- the rich menu: the image and tap areas the bot registered for this resident ----------

async function loadRichMenu(userId) {
  let data;
  try {
    data = await call("GET", `${API}/richmenu?${new URLSearchParams({ resident: userId })}`);
  } catch (error) {
    return setStatus(`メニューを読めませんでした Could not load the menu: ${error.message}`);
  }
  if (userId !== state.current) return;
  const menu = data.menu;
  if ((menu?.richMenuId ?? null) === state.richMenu.id) return;
  state.richMenu = { id: menu?.richMenuId ?? null, open: Boolean(menu?.selected) };
  renderRichMenu(menu, data.image);
}

function renderRichMenu(menu, imageUrl) {
  const bar = $("richmenu-bar");
  const box = $("richmenu");
  box.replaceChildren();
  bar.hidden = !menu;
  if (!menu) {
    box.hidden = true;
    return;
  }
  const image = el("img");
  image.src = safeUrl(imageUrl);
  image.alt = "";
  box.append(image);
  const { width, height } = menu.size;
  for (const area of menu.areas || []) {
    const b = area.bounds;
    const button = actionButton(area.action, "richmenu-area");
    button.dataset.testid = "richmenu-area";
    if (area.action?.label) button.setAttribute("aria-label", area.action.label);
    Object.assign(button.style, {
      left: `${(100 * b.x) / width}%`, top: `${(100 * b.y) / height}%`,
      width: `${(100 * b.width) / width}%`, height: `${(100 * b.height) / height}%`,
    });
    box.append(button);
  }
  showRichMenu(state.richMenu.open, menu.chatBarText);
}

function showRichMenu(open, chatBarText) {
  const bar = $("richmenu-bar");
  state.richMenu.open = open;
  if (chatBarText !== undefined) bar.dataset.text = chatBarText;
  bar.textContent = `${bar.dataset.text || ""} ${open ? "▼" : "▲"}`;
  bar.setAttribute("aria-expanded", String(open));
  $("richmenu").hidden = !open;
}

// --- residents and the transcript long-poll ------------------------------------------------

function updateResident(resident) {
  if (!resident) return;
  const index = state.residents.findIndex((r) => r.user_id === resident.user_id);
  if (index >= 0) state.residents[index] = resident;
  else state.residents.push(resident);
  if (resident.user_id === state.current) renderFriendship(resident);
}

function renderFriendship(resident) {
  const status = resident.blocked ? "ブロック中 Blocked"
    : resident.friend ? "友だち Friend" : "友だちではありません Not a friend yet";
  $("friend-status").textContent = `${resident.display_name} · ${status}`;
  const banner = $("banner");
  banner.hidden = resident.friend;
  $("banner-text").textContent = resident.blocked
    ? "このアカウントをブロックしています。You have blocked this account."
    : "まだ友だちではありません。Not a friend of this account yet.";
  $("banner-action").textContent = resident.blocked ? "ブロック解除 Unblock" : "友だち追加 Add friend";
  $("tool-follow").disabled = resident.friend;
  $("tool-block").disabled = !resident.friend;
  for (const id of ["composer-input", "tool-location", "tool-sticker", "tool-image"]) {
    $(id).disabled = resident.blocked;
  }
  $("composer").querySelector("button").disabled = resident.blocked;
}

function renderResidentOptions() {
  const select = $("resident-select");
  select.replaceChildren();
  for (const resident of state.residents) {
    const option = el("option", "", `${resident.display_name} (${resident.user_id.slice(0, 9)}…)`);
    option.value = resident.user_id;
    select.append(option);
  }
  select.value = state.current || "";
}

function selectResident(userId) {
  state.poll?.abort();
  state.current = userId;
  state.lastSeq = 0;
  state.lastChat = null;
  $("chat").replaceChildren();
  $("wire").replaceChildren();
  renderQuickReplies();
  renderResidentOptions();
  history.replaceState(null, "", `#${userId}`);
  const resident = state.residents.find((r) => r.user_id === userId);
  if (resident) renderFriendship(resident);
  state.richMenu = { id: null, open: false };
  renderRichMenu(null);
  loadRichMenu(userId);
  const controller = new AbortController();
  state.poll = controller;
  pollTranscript(userId, controller.signal);
}

async function pollTranscript(userId, signal) {
  let wait = 0; // the first request loads the history at once
  while (!signal.aborted) {
    try {
      const query = new URLSearchParams({ resident: userId, after: String(state.lastSeq),
        wait: String(wait) });
      wait = LONG_POLL_S;
      const data = await call("GET", `${API}/transcript?${query}`, undefined, signal);
      if (signal.aborted) return;
      applyEntries(data.entries);
      updateResident(data.resident);
    } catch (error) {
      if (signal.aborted) return;
      setStatus(`接続が切れました Connection lost: ${error.message}`);
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    }
  }
}

function applyEntries(entries) {
  if (!entries.length) return;
  const chat = $("chat");
  for (const entry of entries) {
    if (entry.seq <= state.lastSeq) continue;
    state.lastSeq = entry.seq;
    renderChatEntry(entry);
    renderWireEntry(entry);
  }
  renderQuickReplies();
  chat.scrollTop = chat.scrollHeight;
  // A reply may follow a role change (approved, made an officer): LINE relinks the menu.
  if (entries.some((entry) => entry.kind === "received")) loadRichMenu(state.current);
}

async function addResident(displayName, language) {
  const body = { language };
  if (displayName) body.display_name = displayName;
  const resident = await call("POST", `${API}/residents`, body);
  state.residents.push(resident);
  selectResident(resident.user_id);
  return resident;
}

// --- dialogs -------------------------------------------------------------------------------

function openDialog(id) {
  const dialog = $(id);
  dialog.returnValue = "";
  dialog.showModal();
}

function formValues(form) {
  return Object.fromEntries(new FormData(form).entries());
}

function setUpDialogs() {
  $("dialog-resident").addEventListener("close", async (event) => {
    const dialog = event.target;
    const values = formValues($("form-resident"));
    $("form-resident").reset();
    if (dialog.returnValue !== "ok") return;
    try {
      await addResident(values.display_name.trim(), values.language);
    } catch (error) {
      setStatus(`追加できませんでした Could not add: ${error.message}`);
    }
  });
  $("dialog-location").addEventListener("close", (event) => {
    const values = formValues($("form-location"));
    if (event.target.returnValue !== "ok") return;
    send({ kind: "location", latitude: Number(values.latitude), longitude: Number(values.longitude),
      title: values.title || undefined, address: values.address || undefined });
  });
  $("dialog-scan").addEventListener("close", (event) => {
    const values = formValues($("form-scan"));
    if (event.target.returnValue === "ok") scan(values.url.trim());
  });
  $("dialog-datetime").addEventListener("close", (event) => {
    const action = state.pendingPicker;
    state.pendingPicker = null;
    const value = $("datetime-input").value;
    if (event.target.returnValue !== "ok" || !action || !value) return;
    const key = { date: "date", time: "time" }[action.mode] || "datetime";
    send({ kind: "postback", data: action.data, params: { [key]: value } });
  });
}

function setUpPlaces() {
  const list = $("place-list");
  const form = $("form-location");
  for (const place of PLACES) {
    const button = el("button", "place", `${place.title} ${place.en}`);
    button.type = "button";
    button.addEventListener("click", () => {
      for (const key of ["latitude", "longitude", "title", "address"]) {
        form.elements.namedItem(key).value = place[key];
      }
      form.querySelector("[value=ok]").focus();
    });
    list.append(button);
  }
}

function setUpScanExamples() {
  const box = $("scan-examples");
  const id = state.config.basic_id;
  const examples = [
    [`https://line.me/R/ti/p/${encodeURIComponent(id)}`, "友だち追加 Friend add"],
    [`https://line.me/R/oaMessage/${encodeURIComponent(id)}/?${encodeURIComponent("メニュー")}`,
      "メッセージ付き With a message"],
    ...(state.config.scan_examples || []).map((e) => [e.url, e.label]),
  ];
  for (const [url, label] of examples) {
    const button = el("button", "example", label);
    button.type = "button";
    button.title = url;
    button.addEventListener("click", () => {
      $("form-scan").elements.namedItem("url").value = url;
    });
    box.append(button);
  }
}

// --- wiring ----------------------------------------------------------------------------------

function setUpControls() {
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = $("composer-input");
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    send({ kind: "text", text });
  });
  $("resident-select").addEventListener("change", (event) => selectResident(event.target.value));
  $("add-resident").addEventListener("click", () => openDialog("dialog-resident"));
  $("toggle-panel").addEventListener("click", (event) => {
    const panel = $("wire-panel");
    panel.hidden = !panel.hidden;
    event.currentTarget.setAttribute("aria-expanded", String(!panel.hidden));
  });
  $("tool-location").addEventListener("click", () => openDialog("dialog-location"));
  $("tool-sticker").addEventListener("click", () => send({ kind: "sticker" }));
  $("tool-image").addEventListener("click", () => send({ kind: "image" }));
  $("tool-scan").addEventListener("click", () => openDialog("dialog-scan"));
  $("tool-follow").addEventListener("click", () => send({ kind: "follow" }));
  $("tool-block").addEventListener("click", () => send({ kind: "unfollow" }));
  $("banner-action").addEventListener("click", () => send({ kind: "follow" }));
  $("richmenu-bar").addEventListener("click", () => showRichMenu(!state.richMenu.open));
  // As in LINE, the keyboard and the rich menu take turns: typing folds the menu away.
  $("composer-input").addEventListener("focus", () => {
    if (state.richMenu.id && state.richMenu.open) showRichMenu(false);
  });
}

async function start() {
  setUpControls();
  setUpDialogs();
  setUpPlaces();
  try {
    state.config = await call("GET", `${API}/config`);
    $("basic-id").textContent = state.config.basic_id;
    $("spec-note").textContent = state.config.spec_checked
      ? "API 要求は LINE の仕様で検査済み Requests are checked against LINE's spec."
      : "LINE の仕様ファイルがないため未検査 LINE's spec is absent: requests are not checked.";
    setUpScanExamples();
    state.residents = (await call("GET", `${API}/residents`)).residents;
    if (state.residents.length === 0) {
      await addResident("", "ja");
      return;
    }
    const wanted = location.hash.slice(1);
    const known = state.residents.some((r) => r.user_id === wanted);
    selectResident(known ? wanted : state.residents[0].user_id);
  } catch (error) {
    setStatus(`起動できませんでした Could not start: ${error.message}`);
  }
}

start();
