// The Collections view: list and create collections; a collection's faces with thumbnails, delete, index an image,
// search by image with the matches shown. The server keeps no images, so this browser keeps a small crop of each
// face it indexed itself (localStorage, key reko.face.<FaceId>).

import * as api from "./api.js";
import * as draw from "./draw.js";

const $ = (id) => document.getElementById(id);
const THUMB_PX = 96;
let current = null;
let nextToken = null;
let wired = false;

function fail(error) {
  $("collection-error").textContent = `${error.type || "Error"}: ${error.message}`;
}

function thumbKey(faceId) { return `reko.face.${faceId}`; }

function thumbnail(faceId) {
  const url = localStorage.getItem(thumbKey(faceId));
  if (url) {
    const image = new Image(THUMB_PX, THUMB_PX);
    image.src = url;
    image.alt = `face ${faceId}`;
    return image;
  }
  const missing = document.createElement("div");
  missing.className = "thumb-missing";
  missing.textContent = "no thumbnail: indexed elsewhere";
  return missing;
}

// Crops of each indexed face, kept in this browser: the only copy of the image Reko has not stored.
function keepThumbnails(stage, records) {
  const canvas = document.createElement("canvas");
  canvas.width = THUMB_PX;
  canvas.height = THUMB_PX;
  const context = canvas.getContext("2d");
  for (const record of records) {
    const box = record.Face.BoundingBox;
    const side = Math.max(box.Width * stage.width, box.Height * stage.height) * 1.2;
    const centreX = (box.Left + box.Width / 2) * stage.width;
    const centreY = (box.Top + box.Height / 2) * stage.height;
    context.fillStyle = "#fff";
    context.fillRect(0, 0, THUMB_PX, THUMB_PX);
    context.drawImage(stage.image, centreX - side / 2, centreY - side / 2, side, side, 0, 0, THUMB_PX, THUMB_PX);
    try { localStorage.setItem(thumbKey(record.Face.FaceId), canvas.toDataURL("image/jpeg", 0.8)); } catch { break; }
  }
}

function faceCard(face, extra) {
  const card = document.createElement("li");
  card.className = "face-card";
  card.dataset.faceId = face.FaceId;
  const text = document.createElement("span");
  text.textContent = [extra, face.ExternalImageId, face.FaceId].filter(Boolean).join(" · ");
  card.append(thumbnail(face.FaceId), text);
  return card;
}

async function listCollections() {
  const list = $("collections");
  const ids = [];
  let token;
  try {
    do {
      const { answer } = await api.call("ListCollections", token ? { NextToken: token } : {});
      ids.push(...(answer.CollectionIds || []));
      token = answer.NextToken;
    } while (token);
  } catch (error) { fail(error); return; }
  list.replaceChildren(...ids.map((id) => {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = id;
    button.dataset.collection = id;
    button.setAttribute("aria-current", String(id === current));
    button.addEventListener("click", () => select(id));
    item.append(button);
    return item;
  }));
  if (current && !ids.includes(current)) { current = null; $("collection-panel").hidden = true; }
}

async function select(id) {
  current = id;
  $("collection-error").textContent = "";
  $("collection-stage").replaceChildren();
  $("matches").replaceChildren();
  $("matches-title").hidden = true;
  $("collection-timing").textContent = "";
  for (const button of document.querySelectorAll("#collections button")) {
    button.setAttribute("aria-current", String(button.dataset.collection === id));
  }
  $("collection-panel").hidden = false;
  $("collection-title").textContent = id;
  $("delete-collection").textContent = "Delete collection";
  try {
    const { answer } = await api.call("DescribeCollection", { CollectionId: id });
    $("collection-info").textContent = `${answer.FaceCount} face(s) · model ${answer.FaceModelVersion} · `
      + `${answer.CollectionARN}`;
  } catch (error) { fail(error); }
  $("faces").replaceChildren();
  nextToken = null;
  await moreFaces();
}

async function moreFaces() {
  try {
    const params = { CollectionId: current, MaxResults: 60 };
    if (nextToken) params.NextToken = nextToken;
    const { answer } = await api.call("ListFaces", params);
    for (const face of answer.Faces || []) {
      const card = faceCard(face, null);
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "danger";
      remove.textContent = "Delete";
      remove.setAttribute("aria-label", `Delete face ${face.FaceId}`);
      remove.addEventListener("click", () => deleteFace(face.FaceId, card));
      card.append(remove);
      $("faces").append(card);
    }
    nextToken = answer.NextToken || null;
    $("more-faces").hidden = !nextToken;
  } catch (error) { fail(error); }
}

async function deleteFace(faceId, card) {
  try {
    await api.call("DeleteFaces", { CollectionId: current, FaceIds: [faceId] });
    localStorage.removeItem(thumbKey(faceId));
    card.remove();
  } catch (error) { fail(error); }
}

async function createCollection(event) {
  event.preventDefault();
  const id = $("new-collection").value.trim();
  try {
    await api.call("CreateCollection", { CollectionId: id });
    $("new-collection").value = "";
    await listCollections();
    await select(id);
  } catch (error) { fail(error); $("collection-panel").hidden = false; }
}

async function deleteCollection() {
  const button = $("delete-collection");
  if (button.textContent !== "Really delete?") { button.textContent = "Really delete?"; return; }
  try {
    const faces = [...document.querySelectorAll("#faces .face-card")].map((card) => card.dataset.faceId);
    await api.call("DeleteCollection", { CollectionId: current });
    for (const faceId of faces) localStorage.removeItem(thumbKey(faceId));
    current = null;
    $("collection-panel").hidden = true;
    await listCollections();
  } catch (error) { fail(error); }
}

function timing(operation, result) {
  $("collection-timing").textContent = `${operation}: ${result.serverMs === null ? "?" : result.serverMs.toFixed(0)} ms `
    + `on the server, ${result.roundTripMs.toFixed(0)} ms round trip`;
}

async function indexFaces(file) {
  if (!file) return;
  $("collection-error").textContent = "";
  try {
    const image = await api.readImage(file);
    const externalId = file.name.replace(/[^a-zA-Z0-9_.\-:]/g, "_").slice(0, 255);
    const result = await api.call("IndexFaces", { CollectionId: current, Image: { Bytes: image.bytes },
      ExternalImageId: externalId, MaxFaces: 100 });
    timing("IndexFaces", result);
    $("collection-stage").replaceChildren();
    $("matches").replaceChildren();
    $("matches-title").hidden = true;
    const stage = await draw.makeStage($("collection-stage"), image.url, `Indexed from ${file.name}`);
    const records = result.answer.FaceRecords || [];
    records.forEach((record, index) => draw.drawBox(stage, record.Face.BoundingBox, "match", `${index + 1}`,
      `Indexed face ${index + 1}`, [["FaceId", record.Face.FaceId], ...draw.faceFacts(record.FaceDetail || {})]));
    (result.answer.UnindexedFaces || []).forEach((item, index) => draw.drawBox(stage, item.FaceDetail.BoundingBox,
      "unmatched", "not indexed", `Unindexed face ${index + 1}`, [["Reasons", (item.Reasons || []).join(", ")]]));
    keepThumbnails(stage, records);
    await select(current);
    $("collection-stage").append(stage.figure);
    timing("IndexFaces", result);
  } catch (error) { fail(error); }
}

async function searchFaces(file) {
  if (!file) return;
  $("collection-error").textContent = "";
  try {
    const image = await api.readImage(file);
    const result = await api.call("SearchFacesByImage", { CollectionId: current, Image: { Bytes: image.bytes },
      MaxFaces: 20 });
    timing("SearchFacesByImage", result);
    const answer = result.answer;
    $("collection-stage").replaceChildren();
    const stage = await draw.makeStage($("collection-stage"), image.url, `Searched with ${file.name}`);
    draw.drawBox(stage, answer.SearchedFaceBoundingBox, "source", "searched", "Searched face",
      [["Confidence", draw.pct(answer.SearchedFaceConfidence)]]);
    const matches = answer.FaceMatches || [];
    $("matches-title").hidden = false;
    $("matches-title").textContent = `${matches.length} match(es)`;
    $("matches").replaceChildren(...matches.map((match) => faceCard(match.Face, `${draw.pct(match.Similarity)} similar`)));
  } catch (error) { fail(error); }
}

export async function showCollections() {
  if (!wired) {
    wired = true;
    $("create-collection-form").addEventListener("submit", createCollection);
    $("delete-collection").addEventListener("click", deleteCollection);
    $("more-faces").addEventListener("click", moreFaces);
    $("index-image").addEventListener("change", (event) => { indexFaces(event.target.files[0]); event.target.value = ""; });
    $("search-image").addEventListener("change", (event) => { searchFaces(event.target.files[0]); event.target.value = ""; });
  }
  await listCollections();
}
