// Drawing answers over the image: an SVG whose user units are the image's pixels, one focusable <rect class="box">
// per box (hover or focus shows its details), landmarks as dots. Shapes follow botocore's Rekognition model.

const SVG_NS = "http://www.w3.org/2000/svg";
let detailsPanel = null;

export function setDetailsPanel(element) { detailsPanel = element; }

const pct = (value) => (value === undefined || value === null ? "" : `${Number(value).toFixed(1)} %`);

export function showDetails(title, facts) {
  if (!detailsPanel) return;
  const heading = document.createElement("strong");
  heading.textContent = title;
  const list = document.createElement("dl");
  for (const [name, value] of facts) {
    const term = document.createElement("dt");
    term.textContent = name;
    const definition = document.createElement("dd");
    definition.textContent = String(value);
    list.append(term, definition);
  }
  detailsPanel.replaceChildren(heading, list);
}

function svgElement(name, attributes) {
  const element = document.createElementNS(SVG_NS, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  return element;
}

// The image with an empty overlay; resolves once the image is decoded (its size is then known).
export async function makeStage(container, url, caption) {
  const figure = document.createElement("figure");
  figure.className = "stage";
  const picture = document.createElement("div");
  picture.className = "stage-picture";
  const image = new Image();
  image.alt = caption;
  image.src = url;
  await image.decode();
  const width = image.naturalWidth;
  const height = image.naturalHeight;
  const svg = svgElement("svg", { viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: "none",
    role: "group", "aria-label": `${caption}: what was found` });
  picture.append(image, svg);
  const label = document.createElement("figcaption");
  label.textContent = caption;
  figure.append(picture, label);
  container.append(figure);
  return { figure, svg, width, height, image };
}

// One box: `box` is a Rekognition BoundingBox (ratios of the image's width and height).
export function drawBox(stage, box, kind, tag, title, facts) {
  const x = box.Left * stage.width;
  const y = box.Top * stage.height;
  const rect = svgElement("rect", { x, y, width: box.Width * stage.width, height: box.Height * stage.height,
    class: `box ${kind}`, tabindex: 0, role: "img", "aria-label": `${title}${tag ? ": " + tag : ""}` });
  const tooltip = svgElement("title", {});
  tooltip.textContent = [title, ...facts.map(([name, value]) => `${name}: ${value}`)].join("\n");
  rect.append(tooltip);
  const show = () => showDetails(title, facts);
  rect.addEventListener("mouseenter", show);
  rect.addEventListener("focus", show);
  stage.svg.append(rect);
  if (tag) {
    const size = Math.max(11, Math.round(Math.max(stage.width, stage.height) / 38));
    const text = svgElement("text", { x: x + 3, y: Math.max(size, y - 4), class: "tag", "font-size": size });
    text.textContent = tag;
    stage.svg.append(text);
  }
  return rect;
}

function drawLandmarks(stage, landmarks) {
  const radius = Math.max(1.5, Math.max(stage.width, stage.height) / 260);
  for (const point of landmarks || []) {
    const dot = svgElement("circle", { cx: point.X * stage.width, cy: point.Y * stage.height, r: radius,
      class: "landmark" });
    const tooltip = svgElement("title", {});
    tooltip.textContent = point.Type;
    dot.append(tooltip);
    stage.svg.append(dot);
  }
}

const yesNo = (member) => (member ? `${member.Value ? "yes" : "no"} (${pct(member.Confidence)})` : null);

// The main attributes of a FaceDetail, whichever the answer has (DEFAULT has few, ALL has all).
export function faceFacts(face) {
  const facts = [["Confidence", pct(face.Confidence)]];
  if (face.AgeRange) facts.push(["Age", `${face.AgeRange.Low}–${face.AgeRange.High}`]);
  if (face.Gender) facts.push(["Gender", `${face.Gender.Value} (${pct(face.Gender.Confidence)})`]);
  if (face.Emotions && face.Emotions.length) {
    const top = [...face.Emotions].sort((a, b) => b.Confidence - a.Confidence)[0];
    facts.push(["Emotion", `${top.Type} (${pct(top.Confidence)})`]);
  }
  for (const name of ["Smile", "EyesOpen", "MouthOpen", "Eyeglasses", "Sunglasses", "Beard", "Mustache"]) {
    const value = yesNo(face[name]);
    if (value) facts.push([name, value]);
  }
  if (face.FaceOccluded) facts.push(["FaceOccluded", yesNo(face.FaceOccluded)]);
  if (face.Pose) {
    const pose = face.Pose;
    facts.push(["Pose", `roll ${pose.Roll.toFixed(0)}°, yaw ${pose.Yaw.toFixed(0)}°, pitch ${pose.Pitch.toFixed(0)}°`]);
  }
  if (face.Quality) {
    facts.push(["Quality", `brightness ${face.Quality.Brightness.toFixed(0)}, sharpness ${face.Quality.Sharpness.toFixed(0)}`]);
  }
  if (face.Landmarks) facts.push(["Landmarks", face.Landmarks.length]);
  return facts;
}

export function drawFaces(stage, faces) {
  faces.forEach((face, index) => {
    drawBox(stage, face.BoundingBox, "face", `${index + 1}`, `Face ${index + 1}`, faceFacts(face));
    drawLandmarks(stage, face.Landmarks);
  });
}

export function drawCompare(source, target, answer) {
  if (answer.SourceImageFace && answer.SourceImageFace.BoundingBox) {
    drawBox(source, answer.SourceImageFace.BoundingBox, "source", "source", "Source face",
      [["Confidence", pct(answer.SourceImageFace.Confidence)]]);
  }
  (answer.FaceMatches || []).forEach((match, index) => {
    drawBox(target, match.Face.BoundingBox, "match", pct(match.Similarity), `Match ${index + 1}`,
      [["Similarity", pct(match.Similarity)], ...faceFacts(match.Face)]);
    drawLandmarks(target, match.Face.Landmarks);
  });
  (answer.UnmatchedFaces || []).forEach((face, index) => {
    drawBox(target, face.BoundingBox, "unmatched", "no match", `Unmatched face ${index + 1}`, faceFacts(face));
  });
}

// Label instances as boxes; returns the labels that have none (listed beside the image instead).
export function drawLabels(stage, labels) {
  for (const label of labels) {
    (label.Instances || []).forEach((instance) => {
      const facts = [["Confidence", pct(instance.Confidence)]];
      if (label.Parents && label.Parents.length) facts.push(["Parents", label.Parents.map((p) => p.Name).join(", ")]);
      if (instance.DominantColors && instance.DominantColors.length) {
        facts.push(["Colours", instance.DominantColors.map((c) => c.SimplifiedColor || c.HexCode).join(", ")]);
      }
      drawBox(stage, instance.BoundingBox, "instance", label.Name, label.Name, facts);
    });
  }
}

export function drawSwatches(container, colors) {
  container.replaceChildren();
  for (const color of colors || []) {
    const swatch = document.createElement("div");
    swatch.className = "swatch";
    const chip = document.createElement("span");
    chip.className = "chip";
    chip.style.backgroundColor = color.HexCode;
    const text = document.createElement("span");
    text.textContent = `${color.HexCode} ${color.SimplifiedColor || ""} ${pct(color.PixelPercent)}`;
    swatch.title = `${color.CSSColor || color.HexCode}`;
    swatch.append(chip, text);
    container.append(swatch);
  }
}

// A person is coloured by the answer's Summary when it has one, else by whether every body part found is covered.
function personKind(person, summary) {
  if (summary) {
    if ((summary.PersonsWithRequiredEquipment || []).includes(person.Id)) return "person-ok";
    if ((summary.PersonsWithoutRequiredEquipment || []).includes(person.Id)) return "person-bad";
    if ((summary.PersonsIndeterminate || []).includes(person.Id)) return "person-unknown";
  }
  const parts = person.BodyParts || [];
  if (!parts.length) return "person-unknown";
  const covered = (part) => (part.EquipmentDetections || []).some((e) => e.CoversBodyPart && e.CoversBodyPart.Value);
  return parts.every(covered) ? "person-ok" : "person-bad";
}

export function drawProtectiveEquipment(stage, answer) {
  for (const person of answer.Persons || []) {
    const facts = [["Confidence", pct(person.Confidence)]];
    for (const part of person.BodyParts || []) {
      const covers = (part.EquipmentDetections || []).map((e) =>
        `${e.Type} ${e.CoversBodyPart && e.CoversBodyPart.Value ? "covers" : "does not cover"}`);
      facts.push([part.Name, `${pct(part.Confidence)}${covers.length ? "; " + covers.join(", ") : "; no equipment"}`]);
    }
    const kind = personKind(person, answer.Summary);
    drawBox(stage, person.BoundingBox, kind, `person ${person.Id}`, `Person ${person.Id}`, facts);
    for (const part of person.BodyParts || []) {
      for (const item of part.EquipmentDetections || []) {
        const covers = item.CoversBodyPart && item.CoversBodyPart.Value;
        drawBox(stage, item.BoundingBox, covers ? "covered" : "uncovered", item.Type,
          `${item.Type} on ${part.Name} (person ${person.Id})`,
          [["Confidence", pct(item.Confidence)],
            ["Covers the body part", `${covers ? "yes" : "no"} (${pct(item.CoversBodyPart && item.CoversBodyPart.Confidence)})`]]);
      }
    }
  }
}

// Custom labels with a Geometry are boxes; image-level labels are listed beside the image.
export function drawCustomLabels(stage, labels) {
  for (const label of labels) {
    if (label.Geometry && label.Geometry.BoundingBox) {
      drawBox(stage, label.Geometry.BoundingBox, "custom", label.Name, label.Name,
        [["Confidence", pct(label.Confidence)]]);
    }
  }
}

export { pct };
