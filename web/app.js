// The gallery page: uploads through the API's presigned POST (with progress), a gallery that
// fills in as images are processed, details, delete. No framework, no CDN: it works offline.
"use strict";

const API = window.PIPELINE_CONFIG.apiUrl;
const FINAL = new Set(["PROCESSED", "FAILED"]);
const $ = (id) => document.getElementById(id);
const shown = new Map(); // ImageID -> item currently drawn in the gallery

async function api(method, path, body) {
  const response = await fetch(API + path, {
    method,
    headers: body ? { "Content-Type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  if (response.status === 204) return null;
  const data = await response.json();
  if (!response.ok) throw new Error(data.error ? `${data.error.code}: ${data.error.message}` : response.statusText);
  return data;
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
  name.textContent = file.name;
  const progress = document.createElement("progress");
  progress.max = 1;
  progress.value = 0;
  progress.setAttribute("aria-label", `Upload progress of ${file.name}`);
  const state = document.createElement("span");
  state.className = "state";
  state.textContent = "waiting";
  row.append(name, progress, state);
  $("uploads").prepend(row);
  return { progress, state };
}

async function uploadFile(file) {
  const { progress, state } = uploadRow(file);
  try {
    state.textContent = "uploading";
    const created = await api("POST", "/uploads", {
      filename: file.name,
      contentType: file.type || "application/octet-stream",
      size: file.size,
    });
    await uploadWithProgress(created.upload, file, (fraction) => (progress.value = fraction));
    progress.value = 1;
    state.textContent = "processing";
    const item = await waitUntilFinal(created.imageId);
    state.textContent = item.Status === "PROCESSED" ? "done" : `failed: ${item.ErrorMessage}`;
    draw(item);
  } catch (error) {
    state.textContent = `failed: ${error.message}`;
  }
}

async function waitUntilFinal(imageId) {
  for (let attempt = 0; attempt < 120; attempt++) {
    try {
      const item = await api("GET", `/images/${imageId}`);
      if (FINAL.has(item.Status)) return item;
    } catch (error) {
      if (!String(error.message).startsWith("IMAGE_NOT_FOUND")) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error("still processing after a minute");
}

function fileName(item) {
  return item.SourceKey.split("/").pop();
}

function card(item) {
  const entry = document.createElement("li");
  entry.className = `card ${item.Status.toLowerCase()}`;
  entry.dataset.imageId = item.ImageID;
  const open = document.createElement("button");
  open.type = "button";
  open.setAttribute("aria-label", `Details of ${fileName(item)}`);
  if (item.Urls.Thumbnail) {
    const image = document.createElement("img");
    image.src = item.Urls.Thumbnail;
    image.alt = `Thumbnail of ${fileName(item)}`;
    open.append(image);
  } else {
    const placeholder = document.createElement("div");
    placeholder.className = "placeholder";
    placeholder.textContent = item.Status === "FAILED" ? "no thumbnail" : item.Status.toLowerCase();
    open.append(placeholder);
  }
  const caption = document.createElement("div");
  caption.className = "caption";
  caption.textContent = fileName(item);
  if (item.Status === "FAILED") {
    const reason = document.createElement("div");
    reason.className = "error";
    reason.textContent = `${item.ErrorCode}: ${item.ErrorMessage}`;
    caption.append(reason);
  }
  open.append(caption);
  open.addEventListener("click", () => showDetails(item));
  entry.append(open);
  return entry;
}

function draw(item) {
  const previous = shown.get(item.ImageID);
  if (previous && previous.UpdatedAt === item.UpdatedAt) return;
  shown.set(item.ImageID, item);
  const existing = document.querySelector(`[data-image-id="${item.ImageID}"]`);
  const fresh = card(item);
  if (existing) existing.replaceWith(fresh);
  else $("gallery").prepend(fresh);
  $("gallery-status").textContent = "";
}

function forget(imageId) {
  document.querySelector(`[data-image-id="${imageId}"]`)?.remove();
  shown.delete(imageId);
}

async function refreshGallery() {
  try {
    const page = await api("GET", "/images?limit=50");
    page.items.slice().reverse().forEach(draw);
    if (!page.next) {
      // The whole gallery fitted in one page: anything else shown was deleted elsewhere.
      const current = new Set(page.items.map((item) => item.ImageID));
      [...shown.keys()].filter((imageId) => !current.has(imageId)).forEach(forget);
    }
    $("gallery-status").textContent = shown.size ? "" : "No images yet.";
  } catch (error) {
    $("gallery-status").textContent = `Cannot load the gallery: ${error.message}`;
  }
}

function showDetails(item) {
  const dialog = $("details");
  $("details-heading").textContent = fileName(item);
  const thumbnail = $("details-thumbnail");
  thumbnail.hidden = !item.Urls.Thumbnail;
  thumbnail.src = item.Urls.Thumbnail || "";
  thumbnail.alt = `Thumbnail of ${fileName(item)}`;
  const facts = $("details-facts");
  facts.replaceChildren();
  const fields = ["Status", "ErrorCode", "ErrorMessage", "SourceFormat", "Width", "Height", "SourceSize",
    "ThumbnailWidth", "ThumbnailHeight", "CreatedAt", "UpdatedAt", "ImageID"];
  for (const field of fields.filter((field) => field in item)) {
    const term = document.createElement("dt");
    term.textContent = field;
    const value = document.createElement("dd");
    value.textContent = item[field];
    facts.append(term, value);
  }
  $("details-original").href = item.Urls.Original;
  $("details-delete").onclick = async () => {
    await api("DELETE", `/images/${item.ImageID}`);
    forget(item.ImageID);
    dialog.close();
  };
  dialog.showModal();
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

setUpDropZone();
refreshGallery();
setInterval(refreshGallery, 3000);
