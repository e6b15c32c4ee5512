// The Custom labels view: projects and their versions with status, training progress and evaluation, when the
// server implements DescribeProjects (another part of Reko builds it; until then the view says so).

import * as api from "./api.js";

const $ = (id) => document.getElementById(id);
const when = (seconds) => (seconds ? new Date(seconds * 1000).toISOString().replace("T", " ").slice(0, 19) : "");
// The name after `marker` in an ARN: "…:project/<name>/<time>" or "…/version/<name>/<time>".
const nameIn = (arn, marker) => {
  const parts = arn.split("/");
  const at = parts.findIndex((part) => part === marker || part.endsWith(`:${marker}`));
  return (at >= 0 && parts[at + 1]) || arn;
};

async function allPages(operation, params, key) {
  const items = [];
  let token;
  do {
    const { answer } = await api.call(operation, token ? { ...params, NextToken: token } : params);
    items.push(...(answer[key] || []));
    token = answer.NextToken;
  } while (token);
  return items;
}

export async function runningModels() {
  const projects = await allPages("DescribeProjects", {}, "ProjectDescriptions");
  const arns = [];
  for (const project of projects) {
    const versions = await allPages("DescribeProjectVersions", { ProjectArn: project.ProjectArn },
      "ProjectVersionDescriptions");
    arns.push(...versions.filter((v) => v.Status === "RUNNING").map((v) => v.ProjectVersionArn));
  }
  return arns;
}

function cell(text) {
  const element = document.createElement("td");
  element.textContent = text === undefined || text === null ? "" : String(text);
  return element;
}

// Training progress as a bar: the percentage DescribeProjectVersions gives in StatusMessage while training.
function statusCell(version) {
  const element = cell(version.Status);
  const done = /([\d.]+) % done/.exec(version.StatusMessage || "");
  if (version.Status === "TRAINING_IN_PROGRESS") {
    const bar = document.createElement("progress");
    bar.max = 100;
    if (done) bar.value = Number(done[1]);
    bar.setAttribute("aria-label", `Training ${done ? done[1] + " %" : "started"}`);
    element.append(document.createElement("br"), bar);
  }
  return element;
}

// The evaluation per label, loaded when opened: the summary file training wrote (api/evaluation).
function evaluationCell(project, version) {
  const f1 = version.EvaluationResult && version.EvaluationResult.F1Score;
  const element = cell(f1 === undefined ? "" : Number(f1).toFixed(3));
  if (!version.EvaluationResult || !version.EvaluationResult.Summary) return element;
  const details = document.createElement("details");
  details.className = "evaluation";
  const summary = document.createElement("summary");
  summary.textContent = "per label";
  details.append(summary);
  details.addEventListener("toggle", async () => {
    if (!details.open || details.dataset.loaded) return;
    details.dataset.loaded = "true";
    try {
      const found = await api.getJson(`api/evaluation?ProjectArn=${encodeURIComponent(project.ProjectArn)}`
        + `&VersionName=${encodeURIComponent(nameIn(version.ProjectVersionArn, "version"))}`);
      details.append(labelMetrics(found.LabelEvaluationResults || []));
    } catch (error) {
      details.append(document.createTextNode(`${error.type}: ${error.message}`));
    }
  });
  element.append(details);
  return element;
}

function labelMetrics(labels) {
  const table = document.createElement("table");
  table.className = "metrics";
  const head = document.createElement("tr");
  for (const title of ["Label", "F1", "Precision", "Recall", "Threshold"]) {
    const th = document.createElement("th");
    th.textContent = title;
    head.append(th);
  }
  table.append(head);
  const fixed = (value) => (value === undefined ? "" : Number(value).toFixed(3));
  for (const label of labels) {
    const row = document.createElement("tr");
    const metrics = label.Metrics || {};
    row.append(cell(label.Label), cell(fixed(metrics.F1Score)), cell(fixed(metrics.Precision)),
      cell(fixed(metrics.Recall)), cell(fixed(metrics.Threshold)));
    table.append(row);
  }
  return table;
}

function versionsTable(project, versions) {
  const table = document.createElement("table");
  const head = document.createElement("tr");
  for (const title of ["Version", "Status", "Message", "F1 (test set)", "Created", "Training ended"]) {
    const th = document.createElement("th");
    th.textContent = title;
    head.append(th);
  }
  table.append(head);
  for (const version of versions) {
    const row = document.createElement("tr");
    row.dataset.version = nameIn(version.ProjectVersionArn, "version");
    row.dataset.status = version.Status;
    row.append(cell(row.dataset.version), statusCell(version), cell(version.StatusMessage),
      evaluationCell(project, version), cell(when(version.CreationTimestamp)),
      cell(when(version.TrainingEndTimestamp)));
    table.append(row);
  }
  const wrap = document.createElement("div");
  wrap.className = "table-wrap";
  wrap.append(table);
  return wrap;
}

// While a version trains, starts or stops, the view asks again every REFRESH_MS (only while it is shown).
const REFRESH_MS = 2000;
const CHANGING = new Set(["TRAINING_IN_PROGRESS", "STARTING", "STOPPING", "DELETING"]);
let refresh = null;

function projectSection(project, versions) {
  const section = document.createElement("section");
  section.className = "project";
  section.dataset.project = nameIn(project.ProjectArn, "project");
  const title = document.createElement("h3");
  title.textContent = `${section.dataset.project} · ${project.Status || ""}`;
  section.append(title);
  if (versions) section.append(versions.length ? versionsTable(project, versions) : document.createTextNode("No versions yet."));
  return section;
}

const shown = () => !$("custom-view").hidden && !$("app-view").hidden;
let generation = 0;  // a newer showProjects wins over one still waiting for its answers

export async function showProjects(implemented) {
  clearTimeout(refresh);
  const mine = ++generation;
  $("custom-error").textContent = "";
  if (implemented.DescribeProjects === false) {
    $("custom-note").textContent = "Custom Labels: not built yet on this server (DescribeProjects answers "
      + "NotImplementedException).";
    return;
  }
  try {
    const projects = await allPages("DescribeProjects", {}, "ProjectDescriptions");
    const sections = [];
    let changing = false;
    for (const project of projects) {
      let versions = null;
      if (implemented.DescribeProjectVersions !== false) {
        versions = await allPages("DescribeProjectVersions", { ProjectArn: project.ProjectArn },
          "ProjectVersionDescriptions");
        changing ||= versions.some((version) => CHANGING.has(version.Status));
      }
      sections.push(projectSection(project, versions));
    }
    if (mine !== generation) return;
    $("custom-note").textContent = projects.length ? "" : "No projects yet (CreateProject).";
    $("projects").replaceChildren(...sections);  // at once, so a refresh neither flickers nor loses the scroll
    if (changing) refresh = setTimeout(() => { if (shown()) showProjects(implemented); }, REFRESH_MS);
  } catch (error) {
    $("custom-error").textContent = `${error.type || "Error"}: ${error.message}`;
  }
}
