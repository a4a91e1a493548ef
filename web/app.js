// The gallery page: uploads through the API's presigned POST (with progress), a gallery that
// fills in as images are processed, details with a large preview and the camera's facts, proof
// share links, delete. No framework, no CDN: it works offline.
"use strict";

const API = window.PIPELINE_CONFIG.apiUrl;
const FINAL = new Set(["PROCESSED", "FAILED"]);
const $ = (id) => document.getElementById(id);
const shown = new Map(); // ImageID -> the latest item seen (its links are fresh for 5 minutes)
// The width of a card (see .gallery in style.css): two columns up to 37rem, then 11-15rem.
const CARD_WIDTHS = [["(max-width: 37rem)", "(50vw - 1.5rem)"], ["", "14rem"]];

function cardSizes(width, height) {
  // The card is square and the image fits inside it: a portrait image is drawn narrower.
  const ratio = Math.min(1, width / height).toFixed(3);
  return CARD_WIDTHS.map(([media, slot]) => `${media} calc(${slot} * ${ratio})`.trim()).join(", ");
}

// The API key (x-api-key), asked for once and remembered by this browser.
const KEY_STORAGE = "imagePipelineApiKey";

class KeyRefused extends Error {}

// What went wrong, in words a photographer reads; the code stays available as the element's title.
const PLAIN_ERRORS = {
  NOT_AN_IMAGE: "This file is not an image.",
  CORRUPT_IMAGE: "The image is damaged and cannot be read.",
  UNSUPPORTED_FORMAT: "This kind of image is not supported.",
  IMAGE_TOO_LARGE: "The image has too many pixels to process.",
  OBJECT_TOO_LARGE: "The file is too large.",
  EMPTY_OBJECT: "The file is empty.",
  UNSUPPORTED_CONTENT_TYPE: "Not a photo the pipeline takes (JPEG, PNG, WebP, GIF, TIFF, BMP, HEIC or AVIF).",
  INVALID_SIZE: "The file is empty or too large to upload.",
  INVALID_FILENAME: "The file's name cannot be used; rename it and try again.",
  IMAGE_NOT_FOUND: "This image is no longer there.",
  NO_PROOF: "This image has no proof to share.",
};

class ApiError extends Error {
  constructor(code, message) {
    super(PLAIN_ERRORS[code] || message);
    this.code = code;
  }
}

class Unreachable extends Error {
  constructor() {
    super(`Cannot reach the pipeline's API (${API}). Is the emulator running? Start it with make up, then reload this page.`);
  }
}

function plainReason(item) {
  return PLAIN_ERRORS[item.ErrorCode] || item.ErrorMessage || item.ErrorCode;
}

function askForKey(problem) {
  $("key-problem").hidden = !problem;
  $("key-problem").textContent = problem || "";
  if (!$("key-dialog").open) $("key-dialog").showModal();
}

async function api(method, path, body) {
  const key = localStorage.getItem(KEY_STORAGE);
  if (!key) {
    askForKey();
    throw new KeyRefused("the API key is needed");
  }
  const headers = { "x-api-key": key, ...(body ? { "Content-Type": "application/json" } : {}) };
  let response;
  try {
    response = await fetch(API + path, { method, headers, body: body ? JSON.stringify(body) : undefined });
  } catch {
    throw new Unreachable(); // fetch rejects only when no answer came at all
  }
  if (response.status === 204) return null;
  const data = await response.json().catch(() => ({}));
  if (response.status === 403 && !data.error) {
    // API Gateway's own refusal ({"message": "Forbidden"}): the key is wrong or was revoked.
    askForKey("That key was refused. Check it and try again.");
    throw new KeyRefused("the API key was refused");
  }
  if (!response.ok) throw new ApiError(data.error?.code || String(response.status), data.error?.message || response.statusText);
  return data;
}

function setUpKeyDialog() {
  $("key-form").addEventListener("submit", () => {
    localStorage.setItem(KEY_STORAGE, $("key-input").value.trim());
    $("key-input").value = "";
    refreshGallery();
  });
  $("key-dialog").addEventListener("cancel", (event) => event.preventDefault()); // nothing works without it
}

function uploadWithProgress(upload, file, onProgress) {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    for (const [name, value] of Object.entries(upload.fields)) form.append(name, value);
    form.append("file", file);
    const request = new XMLHttpRequest();
    request.open("POST", upload.url);
    request.upload.onprogress = (event) => event.lengthComputable && onProgress(event.loaded / event.total);
    request.onload = () => (request.status < 300 ? resolve() : reject(new Error(`upload refused (${request.status})`)));
    request.onerror = () => reject(new Error("upload failed"));
    request.send(form);
  });
}

function uploadRow(file) {
  const row = document.createElement("li");
  const name = document.createElement("span");
  name.className = "name";
  name.textContent = file.name;
  name.title = file.name;
  const progress = document.createElement("progress");
  progress.max = 1;
  progress.value = 0;
  progress.setAttribute("aria-label", `Upload progress of ${file.name}`);
  const state = document.createElement("span");
  state.className = "state";
  state.textContent = "waiting";
  row.append(name, progress, state);
  $("uploads").prepend(row);
  return { row, progress, state };
}

const UPLOADABLE = new Set(["image/jpeg", "image/png", "image/webp", "image/gif", "image/tiff", "image/bmp", "image/heic", "image/heif", "image/avif"]);
const BY_EXTENSION = { heic: "image/heic", heif: "image/heif", avif: "image/avif", tif: "image/tiff", tiff: "image/tiff" };

function contentTypeOf(file) {
  // Browsers leave the type empty for formats they do not know (HEIC on most desktops).
  return file.type || BY_EXTENSION[file.name.split(".").pop().toLowerCase()] || "";
}

async function uploadFile(file) {
  const { row, progress, state } = uploadRow(file);
  const fail = (reason, code) => {
    row.classList.add("failed");
    state.textContent = reason;
    state.title = code || "";
  };
  const contentType = contentTypeOf(file);
  if (!UPLOADABLE.has(contentType)) {
    fail(PLAIN_ERRORS.UNSUPPORTED_CONTENT_TYPE, "UNSUPPORTED_CONTENT_TYPE");
    return;
  }
  try {
    state.textContent = "uploading";
    const created = await api("POST", "/uploads", { filename: file.name, contentType, size: file.size });
    await uploadWithProgress(created.upload, file, (fraction) => (progress.value = fraction));
    progress.value = 1;
    state.textContent = "processing";
    const item = await waitUntilFinal(created.imageId);
    if (item.Status === "PROCESSED") state.textContent = "done";
    else fail(plainReason(item), item.ErrorCode);
    draw(item);
  } catch (error) {
    fail(error.message, error.code);
  }
}

async function waitUntilFinal(imageId) {
  for (let attempt = 0; attempt < 120; attempt++) {
    try {
      const item = await api("GET", `/images/${imageId}`);
      if (FINAL.has(item.Status)) return item;
    } catch (error) {
      if (error.code !== "IMAGE_NOT_FOUND") throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error("still processing after a minute");
}

function fileName(item) {
  return item.SourceKey.split("/").pop();
}

function cardImage(item) {
  const image = document.createElement("img");
  image.src = item.Urls.Thumbnail;
  image.alt = `Thumbnail of ${fileName(item)}`;
  const thumbnail = item.Renditions?.thumbnail;
  const web = item.Renditions?.web;
  const webUrl = item.Urls.Renditions?.web;
  if (thumbnail && web && webUrl && web.Width > thumbnail.Width) {
    // Sharp on phones and HiDPI screens: the browser takes the web rendition when the thumbnail's
    // pixels would be stretched.
    image.srcset = `${item.Urls.Thumbnail} ${thumbnail.Width}w, ${webUrl} ${web.Width}w`;
    image.sizes = cardSizes(thumbnail.Width, thumbnail.Height);
  }
  // Links expire after 5 minutes; a later choice (a rotated phone, a zoom) may find one expired.
  image.addEventListener("error", () => reload(item.ImageID), { once: true });
  return image;
}

function card(item) {
  const entry = document.createElement("li");
  entry.className = `card ${item.Status.toLowerCase()}`;
  entry.dataset.imageId = item.ImageID;
  const open = document.createElement("button");
  open.type = "button";
  open.setAttribute("aria-label", `Details of ${fileName(item)}`);
  if (item.Urls.Thumbnail) {
    open.append(cardImage(item));
  } else {
    const placeholder = document.createElement("div");
    placeholder.className = "placeholder";
    placeholder.textContent = item.Status === "FAILED" ? "no thumbnail" : item.Status.toLowerCase();
    open.append(placeholder);
  }
  const caption = document.createElement("div");
  caption.className = "caption";
  const name = document.createElement("div");
  name.className = "name";
  name.textContent = fileName(item);
  name.title = fileName(item);
  caption.append(name);
  if (item.Status === "FAILED") {
    const reason = document.createElement("div");
    reason.className = "error";
    reason.textContent = plainReason(item);
    reason.title = `${item.ErrorCode}: ${item.ErrorMessage}`;
    caption.append(reason);
  }
  open.append(caption);
  open.addEventListener("click", () => showDetails(shown.get(item.ImageID) || item));
  entry.append(open);
  return entry;
}

function draw(item, { force = false, older = false } = {}) {
  const previous = shown.get(item.ImageID);
  shown.set(item.ImageID, item); // fresh links for the details, even when the card stays as it is
  if (previous && previous.UpdatedAt === item.UpdatedAt && !force) return;
  const existing = document.querySelector(`[data-image-id="${item.ImageID}"]`);
  const fresh = card(item);
  if (existing) existing.replaceWith(fresh);
  else if (older) $("gallery").append(fresh);
  else $("gallery").prepend(fresh);
  $("gallery-status").textContent = "";
}

const reloadedAt = new Map(); // ImageID -> when its card was last drawn again after a failed image

async function reload(imageId) {
  // Fresh links cure an expired one; an image that stays broken is not fetched in a loop.
  if (Date.now() - (reloadedAt.get(imageId) || 0) < 60_000) return;
  reloadedAt.set(imageId, Date.now());
  try {
    draw(await api("GET", `/images/${imageId}`), { force: true });
  } catch (error) {
    if (error.code === "IMAGE_NOT_FOUND") forget(imageId);
  }
}

function forget(imageId) {
  document.querySelector(`[data-image-id="${imageId}"]`)?.remove();
  shown.delete(imageId);
}

const PAGE_SIZE = 50;
let olderPages; // the token of the page after those shown (undefined: not known yet; null: none)

async function refreshGallery() {
  // The newest page, again and again: new uploads appear at the top. Older pages load on demand.
  try {
    const page = await api("GET", `/images?limit=${PAGE_SIZE}`);
    page.items.slice().reverse().forEach((item) => draw(item));
    if (olderPages === undefined) setOlderPages(page.next);
    if (!page.next) {
      // The whole gallery fitted in one page: anything else shown was deleted elsewhere.
      const current = new Set(page.items.map((item) => item.ImageID));
      [...shown.keys()].filter((imageId) => !current.has(imageId)).forEach(forget);
    }
    $("gallery-status").textContent = shown.size ? "" : "No images yet.";
  } catch (error) {
    $("gallery-status").textContent =
      error instanceof KeyRefused ? "The gallery needs the API key." : `Cannot load the gallery. ${error.message}`;
  }
}

function setOlderPages(token) {
  olderPages = token || null;
  $("gallery-more").hidden = !olderPages;
}

async function showOlder() {
  const button = $("gallery-more");
  if (!olderPages || button.disabled) return;
  button.disabled = true;
  try {
    const page = await api("GET", `/images?limit=${PAGE_SIZE}&next=${encodeURIComponent(olderPages)}`);
    page.items.forEach((item) => draw(item, { older: true }));
    setOlderPages(page.next);
  } catch (error) {
    $("gallery-status").textContent = `Cannot load older photos. ${error.message}`;
  } finally {
    button.disabled = false;
    // A short page may leave the button in view: look again (the observer reports changes only).
    olderObserver.unobserve(button);
    olderObserver.observe(button);
  }
}

// Scrolling to the end of the gallery loads the next page, as the button would.
const olderObserver = new IntersectionObserver(
  (entries) => entries.some((entry) => entry.isIntersecting) && showOlder(),
  { rootMargin: "400px" },
);

function setUpPaging() {
  $("gallery-more").addEventListener("click", showOlder);
  olderObserver.observe($("gallery-more"));
}

// Plain words for sizes, times and the camera's facts.
const NBSP = "\u00a0"; // a number and its unit stay on one line

function bytes(size) {
  if (size < 1024) return `${size}${NBSP}B`;
  const [value, unit] = size < 1024 * 1024 ? [size / 1024, "KB"] : [size / 1024 / 1024, "MB"];
  return `${value < 10 ? value.toFixed(1) : Math.round(value)}${NBSP}${unit}`;
}

function pixels(width, height) {
  return `${width}${NBSP}×${NBSP}${height}`;
}

function localTime(iso) {
  return new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

function capturedTime(iso) {
  // The camera's own clock where the photo was taken: shown as recorded, not converted.
  const parts = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(iso);
  if (!parts) return iso;
  const [year, month, day, hour, minute] = parts.slice(1).map(Number);
  return new Date(Date.UTC(year, month - 1, day, hour, minute)).toLocaleString(undefined, {
    dateStyle: "medium",
    timeStyle: "short",
    timeZone: "UTC",
  });
}

function cameraName(item) {
  const make = (item.CameraMake || "").trim();
  const model = (item.CameraModel || "").trim();
  // Most cameras repeat the make in the model ("Canon" + "Canon EOS R5").
  if (make && model.toLowerCase().startsWith(make.split(/\s+/)[0].toLowerCase())) return model;
  return [make, model].filter(Boolean).join(" ");
}

function cameraFacts(item) {
  const number = (value) => String(Number(value));
  return [
    item.CapturedAt && `Captured ${capturedTime(item.CapturedAt)}`,
    cameraName(item),
    item.LensModel,
    item.FocalLength !== undefined && `${number(item.FocalLength)}${NBSP}mm`,
    item.FNumber !== undefined && `f/${number(item.FNumber)}`,
    item.ExposureTime && `${item.ExposureTime}${NBSP}s`,
    item.ISO !== undefined && `ISO${NBSP}${item.ISO}`,
  ].filter(Boolean);
}

function detailFacts(item) {
  const facts = [["Status", item.Status]];
  if (item.ErrorCode) facts.push(["Reason", `${item.ErrorCode}: ${item.ErrorMessage}`]);
  const original = [
    item.SourceFormat,
    item.Width !== undefined && pixels(item.Width, item.Height),
    item.SourceSize !== undefined && bytes(item.SourceSize),
  ].filter(Boolean);
  if (original.length) facts.push(["Original", original.join(" · ")]);
  for (const [name, rendition] of Object.entries(item.Renditions || {})) {
    facts.push([
      `${name[0].toUpperCase()}${name.slice(1)}`,
      `${pixels(rendition.Width, rendition.Height)} · ${rendition.Format} · ${bytes(rendition.Size)}`,
    ]);
  }
  if (item.ColorProfile) facts.push(["Colour profile", item.ColorProfile]);
  if (item.Latitude !== undefined && item.Longitude !== undefined) {
    facts.push(["Location", `${Number(item.Latitude).toFixed(5)}, ${Number(item.Longitude).toFixed(5)}`]);
  }
  facts.push(["Uploaded", localTime(item.CreatedAt)], ["Image ID", item.ImageID]);
  return facts;
}

// Stepfunctions mode: the steps of the execution that made the row, as `imgpipe show` lists them.
const STEP_STATUSES = { SUCCEEDED: "succeeded", FAILED: "failed", RETRIED: "retried", RUNNING: "running" };
const WORKFLOW_NOTES = {
  RUNNING: "The workflow is still running.",
  FAILED: "The workflow failed; make redrive starts it again.",
  TIMED_OUT: "The workflow timed out; make redrive starts it again.",
  ABORTED: "The workflow was stopped; make redrive starts it again.",
  EXPIRED: "Its history has expired (Step Functions keeps it 90 days).",
  UNAVAILABLE: "Its history is gone: the pipeline no longer runs as a workflow.",
};
let stepsRequest = 0; // the latest request: an answer for an earlier dialog is dropped

function stepName(name) {
  // The state's name in words: "MakeRenditions" -> "Make renditions".
  const words = name.replace(/([a-z0-9])([A-Z])/g, "$1 $2");
  return words[0] + words.slice(1).toLowerCase();
}

function textElement(tag, className, text) {
  const element = document.createElement(tag);
  element.className = className;
  element.textContent = text;
  return element;
}

function stepEntry(step) {
  const entry = document.createElement("li");
  entry.className = `step ${step.status.toLowerCase()}`;
  entry.dataset.step = step.name;
  const name = textElement("span", "name", stepName(step.name));
  name.title = step.name;
  const took = typeof step.durationMs === "number" ? `${step.durationMs.toLocaleString()}${NBSP}ms` : "…";
  // The spaces are for whoever reads or copies the text; the grid lays out the parts alone.
  entry.append(
    name,
    " ",
    textElement("span", "state", STEP_STATUSES[step.status] || step.status.toLowerCase()),
    " ",
    textElement("span", "took", took),
  );
  if (step.error) entry.append(" ", textElement("span", "error", step.error));
  return entry;
}

async function showSteps(item) {
  const section = $("details-steps");
  const list = $("details-steps-list");
  const note = $("details-steps-note");
  const request = ++stepsRequest;
  list.replaceChildren();
  section.hidden = !item.ExecutionArn; // direct mode: one invocation did it all, no steps
  if (section.hidden) return;
  note.textContent = "Loading the steps…";
  section.setAttribute("aria-busy", "true");
  try {
    const workflow = await api("GET", `/images/${item.ImageID}/steps`);
    if (request !== stepsRequest) return;
    list.replaceChildren(...workflow.steps.map(stepEntry));
    note.textContent = WORKFLOW_NOTES[workflow.status] || (workflow.steps.length ? "" : "No steps yet.");
  } catch (error) {
    if (request === stepsRequest) note.textContent = `Cannot load the workflow steps: ${error.message}`;
  } finally {
    if (request === stepsRequest) section.removeAttribute("aria-busy");
  }
}

function showPreview(item) {
  const preview = $("details-preview");
  const web = item.Renditions?.web;
  const webUrl = item.Urls.Renditions?.web;
  const [url, size] = webUrl
    ? [webUrl, web]
    : [item.Urls.Thumbnail, { Width: item.ThumbnailWidth, Height: item.ThumbnailHeight }];
  preview.hidden = !url;
  preview.removeAttribute("src"); // not the previous image while this one loads
  if (!url) return;
  // Its size before it loads, so the dialog does not jump.
  if (size?.Width) [preview.width, preview.height] = [size.Width, size.Height];
  preview.src = url;
  preview.alt = `Preview of ${fileName(item)}`;
}

function setStatus(text, link) {
  $("details-status").textContent = text;
  const fallback = $("share-fallback");
  fallback.hidden = !link;
  if (link) {
    const field = $("share-link");
    field.value = link;
    field.focus();
    field.select();
  }
}

async function copyToClipboard(text) {
  if (!navigator.clipboard?.writeText) return false; // not a secure context, or an old browser
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false; // permission refused
  }
}

async function shareProof(item) {
  const button = $("details-share");
  button.disabled = true;
  setStatus("Making a link…");
  try {
    const share = await api("POST", `/images/${item.ImageID}/share`);
    const until = localTime(share.expiresAt);
    if (await copyToClipboard(share.url)) setStatus(`Link copied — valid until ${until}`);
    else setStatus(`Copy this link — valid until ${until}`, share.url);
  } catch (error) {
    setStatus(`Cannot share: ${error.message}`);
  } finally {
    button.disabled = false;
  }
}

function showDetails(item) {
  const dialog = $("details");
  $("details-heading").textContent = fileName(item);
  showPreview(item);
  const camera = cameraFacts(item);
  $("details-camera").textContent = camera.join(" · ");
  $("details-camera").hidden = !camera.length;
  const facts = $("details-facts");
  facts.replaceChildren();
  for (const [name, text] of detailFacts(item)) {
    const term = document.createElement("dt");
    term.textContent = name;
    const value = document.createElement("dd");
    value.textContent = text;
    facts.append(term, value);
  }
  showSteps(item);
  $("details-original").href = item.Urls.Original;
  setStatus("");
  const share = $("details-share");
  share.hidden = !item.Renditions?.proof;
  share.onclick = () => shareProof(item);
  const remove = $("details-delete");
  const keep = $("details-keep");
  remove.textContent = "Delete";
  keep.hidden = true;
  remove.onclick = async () => {
    if (keep.hidden) {
      // First press: say what goes, and ask again.
      setStatus(`Delete ${fileName(item)} for good? The original, its renditions and its share links go too.`);
      remove.textContent = "Yes, delete";
      keep.hidden = false;
      keep.focus();
      return;
    }
    try {
      const next = neighbourOf(item.ImageID);
      await api("DELETE", `/images/${item.ImageID}`);
      forget(item.ImageID);
      dialog.close();
      // Focus where the deleted card was: the next card, or the gallery's heading.
      (next || $("gallery-heading")).focus();
    } catch (error) {
      setStatus(`Cannot delete: ${error.message}`);
    }
  };
  keep.onclick = () => {
    setStatus("");
    remove.textContent = "Delete";
    keep.hidden = true;
    remove.focus();
  };
  dialog.showModal();
}

function neighbourOf(imageId) {
  const entry = document.querySelector(`[data-image-id="${imageId}"]`);
  const neighbour = entry?.nextElementSibling || entry?.previousElementSibling;
  return neighbour?.querySelector("button") || null;
}

function setUpDropZone() {
  const zone = $("drop-zone");
  const input = $("file-input");
  const take = (files) => [...files].forEach(uploadFile);
  input.addEventListener("change", () => take(input.files));
  zone.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      input.click();
    }
  });
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("dragging");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("dragging");
    take(event.dataTransfer.files);
  });
  $("details-close").addEventListener("click", () => $("details").close());
}

setUpKeyDialog();
setUpDropZone();
setUpPaging();
refreshGallery();
setInterval(refreshGallery, 3000);
