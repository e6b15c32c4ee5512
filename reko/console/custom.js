// The Custom labels view: projects and their versions with status, training progress and evaluation, when the
// server implements DescribeProjects (another part of Reko builds it; until then the view says so).

import * as api from "./api.js";

const $ = (id) => document.getElementById(id);
const when = (seconds) => (seconds ? new Date(seconds * 1000).toISOString().replace("T", " ").slice(0, 19) : "");
const nameIn = (arn, marker) => { const parts = arn.split("/"); return parts[parts.indexOf(marker) + 1] || arn; };

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

function versionsTable(versions) {
  const table = document.createElement("table");
  const head = document.createElement("tr");
  for (const title of ["Version", "Status", "Message", "F1", "Created", "Training ended"]) {
    const th = document.createElement("th");
    th.textContent = title;
    head.append(th);
  }
  table.append(head);
  for (const version of versions) {
    const row = document.createElement("tr");
    const f1 = version.EvaluationResult && version.EvaluationResult.F1Score;
    row.append(cell(nameIn(version.ProjectVersionArn, "version")), cell(version.Status), cell(version.StatusMessage),
      cell(f1 === undefined ? "" : Number(f1).toFixed(3)), cell(when(version.CreationTimestamp)),
      cell(when(version.TrainingEndTimestamp)));
    table.append(row);
  }
  const wrap = document.createElement("div");
  wrap.className = "table-wrap";
  wrap.append(table);
  return wrap;
}

export async function showProjects(implemented) {
  $("custom-error").textContent = "";
  const holder = $("projects");
  holder.replaceChildren();
  if (implemented.DescribeProjects === false) {
    $("custom-note").textContent = "Custom Labels: not built yet on this server (DescribeProjects answers "
      + "NotImplementedException).";
    return;
  }
  $("custom-note").textContent = "";
  try {
    const projects = await allPages("DescribeProjects", {}, "ProjectDescriptions");
    if (!projects.length) $("custom-note").textContent = "No projects yet (CreateProject).";
    for (const project of projects) {
      const section = document.createElement("section");
      section.className = "project";
      const title = document.createElement("h3");
      title.textContent = `${nameIn(project.ProjectArn, "project")} · ${project.Status || ""}`;
      section.append(title);
      if (implemented.DescribeProjectVersions !== false) {
        const versions = await allPages("DescribeProjectVersions", { ProjectArn: project.ProjectArn },
          "ProjectVersionDescriptions");
        section.append(versions.length ? versionsTable(versions) : document.createTextNode("No versions yet."));
      }
      holder.append(section);
    }
  } catch (error) {
    $("custom-error").textContent = `${error.type || "Error"}: ${error.message}`;
  }
}
