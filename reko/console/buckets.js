// The Analyze view's bucket picker: the images of the server's buckets (folder buckets, or an S3 endpoint's), a
// page at a time. A chosen object is sent as Image.S3Object, so the operation reads it where it lies; the page only
// shows it (api/buckets/<bucket>/image) to draw on.

import * as api from "./api.js";

const $ = (id) => document.getElementById(id);
let nextStartAfter = null;
let onChosen = () => {};

function objectOption(object) {
  const option = new Option(`${object.Name} (${Math.max(1, Math.round(object.Size / 1024))} KB)`, object.Name);
  return option;
}

async function loadImages(more) {
  const bucket = $("bucket").value;
  const select = $("bucket-object");
  if (!more) {
    select.replaceChildren(new Option("(choose an image)", ""));
    nextStartAfter = null;
  }
  select.disabled = !bucket;
  $("more-objects").hidden = true;
  if (!bucket) return;
  try {
    const page = await api.getJson(`api/buckets/${encodeURIComponent(bucket)}/images`
      + (more && nextStartAfter ? `?StartAfter=${encodeURIComponent(nextStartAfter)}` : ""));
    select.append(...page.Objects.map(objectOption));
    nextStartAfter = page.NextStartAfter || null;
    $("more-objects").hidden = !nextStartAfter;
    $("bucket-note").textContent = page.Objects.length || more ? "" : "No JPEG or PNG images in this bucket.";
  } catch (error) {
    $("bucket-note").textContent = `${error.type}: ${error.message}`;
  }
}

function choose() {
  const bucket = $("bucket").value;
  const name = $("bucket-object").value;
  if (!bucket || !name) return;
  onChosen({
    image: { S3Object: { Bucket: bucket, Name: name } },
    url: `api/buckets/${encodeURIComponent(bucket)}/image?Name=${encodeURIComponent(name)}`,
    label: `s3://${bucket}/${name}`,
  });
}

// Forget the chosen object (a file was picked or dropped instead).
export function clearChoice() { $("bucket-object").value = ""; }

export async function showBuckets(chosen) {
  onChosen = chosen;
  const select = $("bucket");
  if (!select.dataset.wired) {
    select.dataset.wired = "true";
    select.addEventListener("change", () => loadImages(false));
    $("bucket-object").addEventListener("change", choose);
    $("more-objects").addEventListener("click", () => loadImages(true));
  }
  try {
    const { Buckets: buckets } = await api.getJson("api/buckets");
    select.replaceChildren(new Option(buckets.length ? "(choose a bucket)" : "(no buckets)", ""),
      ...buckets.map((name) => new Option(name, name)));
    $("bucket-note").textContent = buckets.length ? ""
      : "No buckets yet: a bucket is a folder under the server's data folder, s3/<bucket>/.";
  } catch (error) {
    $("bucket-note").textContent = `${error.type}: ${error.message}`;
  }
  await loadImages(false);
}
