// The independent-clients scenario through the AWS SDK for JavaScript v3 (tests/clients/runners.py runs it).
// Reads a plan (tests/clients/scenario.py's Plan.as_json) and prints step name -> outcome as JSON:
// {"answer": output without $metadata} or {"error": name, "status": HTTP status}.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as rekognition from "@aws-sdk/client-rekognition";

const plan = JSON.parse(readFileSync(process.argv[2], "utf8"));

// "@file.jpg" is an image blob: the SDK takes it as a Uint8Array.
function materialise(value) {
  if (typeof value === "string" && value.startsWith("@")) {
    return new Uint8Array(readFileSync(join(plan.folder, value.slice(1))));
  }
  if (Array.isArray(value)) return value.map(materialise);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, materialise(item)]));
  }
  return value;
}

function clientFor(step) {
  const client = new rekognition.RekognitionClient({
    endpoint: plan.endpoint,
    region: plan.region,
    credentials: plan.keys[step.key],
    maxAttempts: 1,
  });
  if (step.target) {
    // Before signing (the "finalizeRequest" step), so the signature covers the unknown operation's name.
    client.middlewareStack.add(
      (next) => async (args) => {
        args.request.headers["x-amz-target"] = `RekognitionService.${step.target}`;
        return next(args);
      },
      { step: "build", name: "retargetOperation" },
    );
  }
  return client;
}

const outcomes = {};
for (const step of plan.steps) {
  const Command = rekognition[`${step.operation}Command`];
  try {
    const { $metadata, ...answer } = await clientFor(step).send(new Command(materialise(step.request)));
    outcomes[step.name] = { answer };
  } catch (error) {
    if (error.$metadata === undefined) throw error;
    outcomes[step.name] = { error: error.name, status: error.$metadata.httpStatusCode ?? null };
  }
}
process.stdout.write(JSON.stringify(outcomes));
