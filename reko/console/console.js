// The console's page: sign-in, the three views, and the Analyze view (pick an image, run one operation, draw it).

import * as api from "./api.js";
import * as draw from "./draw.js";
import { showCollections } from "./collections.js";
import { showProjects, runningModels } from "./custom.js";
import { showBuckets, clearChoice } from "./buckets.js";

const $ = (id) => document.getElementById(id);
let implemented = {};
let sourceImage = null;
let targetImage = null;
let reading = Promise.resolve();  // the last picked file being read: Run waits for it

function showSignedIn(state) {
  $("sign-in-view").hidden = state.signedIn;
  $("app-view").hidden = !state.signedIn;
  $("who").hidden = !state.signedIn;
  $("who-text").textContent = state.signedIn
    ? `${state.accessKeyId} · account ${state.accountId} · ${state.region}` : "";
  if (!state.signedIn) $("access-key-id").focus();
}

async function afterSignIn(state) {
  showSignedIn(state);
  for (const id of ["analyze-error", "collection-error", "custom-error"]) $(id).textContent = "";
  implemented = await api.implementedOperations();
  for (const option of $("operation").options) {
    const built = implemented[option.value] !== false;
    option.disabled = !built;
    option.textContent = built ? option.value : `${option.value} (not built yet)`;
  }
  await showBuckets(chooseSource);
  document.body.dataset.ready = "true";
}

async function onSignIn(event) {
  event.preventDefault();
  $("sign-in-error").textContent = "";
  try {
    const state = await api.signIn($("access-key-id").value.trim(), $("secret-access-key").value,
      $("region").value.trim());
    $("secret-access-key").value = "";
    await afterSignIn(state);
  } catch (error) {
    $("sign-in-error").textContent = `${error.type || "Error"}: ${error.message}`;
  }
}

async function onSignOut() {
  try { await api.signOut(); } catch (error) { /* signed out either way once the cookie is gone */ }
  location.reload();
}

function showView(id) {
  for (const tab of document.querySelectorAll(".tab")) tab.setAttribute("aria-pressed", String(tab.dataset.view === id));
  for (const view of document.querySelectorAll(".view")) view.hidden = view.id !== id;
  if (id === "collections-view") showCollections(implemented);
  if (id === "custom-view") showProjects(implemented);
}

function onOperationChange() {
  const operation = $("operation").value;
  for (const fieldset of document.querySelectorAll(".option")) fieldset.hidden = fieldset.dataset.for !== operation;
  $("operation-note").textContent = "";
  if (operation === "DetectCustomLabels") fillModels();
}

async function fillModels() {
  const select = $("custom-model");
  select.replaceChildren();
  try {
    const models = await runningModels();
    for (const arn of models) select.append(new Option(arn.split("/").slice(-2, -1)[0] || arn, arn));
    $("operation-note").textContent = models.length ? "" : "No model is running: start one (StartProjectVersion).";
  } catch (error) {
    $("operation-note").textContent = `${error.type}: ${error.message}`;
  }
}

// The image to analyse: {image: the request's Image (Bytes or S3Object), url: what the page shows}.
function chooseSource(source) {
  sourceImage = source;
  $("drop").querySelector("span").textContent = source.label;
}

function pick(file, which) {
  if (!file) return;
  reading = api.readImage(file).then((image) => {
    if (which === "target") { targetImage = image; return; }
    clearChoice();
    chooseSource({ image: { Bytes: image.bytes }, url: image.url,
      label: `${file.name} (${Math.round(file.size / 1024)} KB)` });
  });
}

function requestFor(operation) {
  const image = sourceImage.image;
  if (operation === "DetectFaces") {
    return { Image: image, Attributes: [document.querySelector("input[name=attributes]:checked").value] };
  }
  if (operation === "CompareFaces") return { SourceImage: image, TargetImage: { Bytes: targetImage.bytes } };
  if (operation === "DetectLabels") {
    return { Image: image, Features: $("image-properties").checked ? ["GENERAL_LABELS", "IMAGE_PROPERTIES"] : ["GENERAL_LABELS"] };
  }
  if (operation === "DetectProtectiveEquipment") {
    const required = [...document.querySelectorAll("input[name=required]:checked")].map((box) => box.value);
    return required.length
      ? { Image: image, SummarizationAttributes: { MinConfidence: 80, RequiredEquipmentTypes: required } }
      : { Image: image };
  }
  return { Image: image, ProjectVersionArn: $("custom-model").value };
}

function listFound(items) {
  $("found").replaceChildren(...items.map((text) => {
    const item = document.createElement("li");
    item.textContent = text;
    return item;
  }));
}

async function onRun(event) {
  event.preventDefault();
  const operation = $("operation").value;
  $("analyze-error").textContent = "";
  await reading;
  if (!sourceImage) { $("analyze-error").textContent = "Pick or drop an image first."; return; }
  if (operation === "CompareFaces" && !targetImage) { $("analyze-error").textContent = "Pick a target image."; return; }
  $("run").disabled = true;
  $("timing").textContent = `${operation}…`;
  try {
    const { answer, serverMs, roundTripMs } = await api.call(operation, requestFor(operation));
    await render(operation, answer);
    $("timing").textContent = `${operation}: ${serverMs === null ? "?" : serverMs.toFixed(0)} ms on the server, `
      + `${roundTripMs.toFixed(0)} ms round trip`;
  } catch (error) {
    $("timing").textContent = "";
    $("analyze-error").textContent = `${error.type || "Error"}: ${error.message}`;
  } finally {
    $("run").disabled = false;
  }
}

async function render(operation, answer) {
  $("raw-json").textContent = JSON.stringify(answer, null, 2);
  $("details").replaceChildren();
  draw.drawSwatches($("swatches"), []);
  listFound([]);
  const stages = $("stages");
  stages.replaceChildren();
  document.body.dataset.rendered = "";
  const source = await draw.makeStage(stages, sourceImage.url, operation === "CompareFaces" ? "Source" : "Image");
  if (operation === "DetectFaces") {
    draw.drawFaces(source, answer.FaceDetails || []);
    listFound([`${(answer.FaceDetails || []).length} face(s); hover or focus a box for its attributes`]);
  } else if (operation === "CompareFaces") {
    const target = await draw.makeStage(stages, targetImage.url, "Target");
    draw.drawCompare(source, target, answer);
    listFound([`${(answer.FaceMatches || []).length} match(es), ${(answer.UnmatchedFaces || []).length} unmatched`]);
  } else if (operation === "DetectLabels") {
    draw.drawLabels(source, answer.Labels || []);
    draw.drawSwatches($("swatches"), answer.ImageProperties && answer.ImageProperties.DominantColors);
    listFound((answer.Labels || []).map((label) => `${label.Name} ${draw.pct(label.Confidence)}`
      + (label.Instances && label.Instances.length ? ` (${label.Instances.length} boxed)` : "")));
  } else if (operation === "DetectProtectiveEquipment") {
    draw.drawProtectiveEquipment(source, answer);
    listFound([`${(answer.Persons || []).length} person(s): green covered, red not covered`]);
  } else {
    draw.drawCustomLabels(source, answer.CustomLabels || []);
    listFound((answer.CustomLabels || []).map((label) => `${label.Name} ${draw.pct(label.Confidence)}`));
  }
  document.body.dataset.rendered = operation;
}

function wireDrop() {
  const zone = $("drop");
  zone.addEventListener("dragover", (event) => { event.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    pick(event.dataTransfer.files[0], "source");
  });
}

async function start() {
  draw.setDetailsPanel($("details"));
  $("sign-in-form").addEventListener("submit", onSignIn);
  $("sign-out").addEventListener("click", onSignOut);
  for (const tab of document.querySelectorAll(".tab")) tab.addEventListener("click", () => showView(tab.dataset.view));
  $("operation").addEventListener("change", onOperationChange);
  $("image").addEventListener("change", (event) => pick(event.target.files[0], "source"));
  $("target-image").addEventListener("change", (event) => pick(event.target.files[0], "target"));
  $("analyze-form").addEventListener("submit", onRun);
  wireDrop();
  window.addEventListener("reko:signed-out", () => {
    showSignedIn({ signedIn: false });
    $("sign-in-error").textContent = "Your session has ended: sign in again.";
  });
  const state = await api.currentSession();
  if (state.signedIn) await afterSignIn(state); else showSignedIn(state);
}

start();
