#!/usr/bin/env node
/**
 * `node dist/sandbox/main.js [--port N] [--host 127.0.0.1] [--auto-approve] [--allow-delegated] [--data FILE]`
 *
 * Runs the sandbox until SIGINT/SIGTERM. It prints only its URLs: never a card number, CVC or
 * token.
 */
import { parseArgs } from "node:util";
import { startSandbox } from "./server.js";

const USAGE = `Usage: linkpay-sandbox [--port N] [--host 127.0.0.1] [--auto-approve] [--allow-delegated] [--data FILE]

  --port N            TCP port (default 4242; 0 picks a free one)
  --host ADDR         interface to listen on (default 127.0.0.1)
  --auto-approve      approve device logins and spend requests without a person
  --allow-delegated   allow pre-approved creates (create_delegated, \`spend-request create --approve\`)
  --data FILE         keep state in FILE (0600) across restarts; saved before each answer
`;

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: "string" },
        host: { type: "string" },
        "auto-approve": { type: "boolean" },
        "allow-delegated": { type: "boolean" },
        data: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    }));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (values.help === true) {
    process.stdout.write(USAGE);
    return;
  }
  const port = values.port === undefined ? 4242 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`--port must be an integer from 0 to 65535\n`);
    process.exit(2);
  }
  const sandbox = await startSandbox({
    port,
    host: values.host ?? "127.0.0.1",
    autoApprove: values["auto-approve"] === true,
    allowDelegated: values["allow-delegated"] === true,
    dataFile: values.data,
  });
  process.stdout.write(
    [
      `linkpay sandbox listening on ${sandbox.url}${values["auto-approve"] === true ? " (auto-approve)" : ""}${values["allow-delegated"] === true ? " (delegated creates allowed)" : ""}`,
      `  export LINK_AUTH_BASE_URL=${sandbox.authUrl}`,
      `  export LINK_API_BASE_URL=${sandbox.apiUrl}`,
      `  device page   ${sandbox.url}/device`,
      `  merchant      ${sandbox.merchantUrl}/checkout  ·  ${sandbox.merchantUrl}/api/forecast (MPP)`,
      `  controls      ${sandbox.url}/sandbox/`,
      values.data === undefined ? "" : `  data          ${values.data}`,
      "",
    ].join("\n"),
  );
  let closing = false;
  const stop = (): void => {
    if (closing) return;
    closing = true;
    sandbox.close().then(
      () => process.exit(0),
      (e: unknown) => {
        process.stderr.write(`[sandbox] ${(e as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

main().catch((e: unknown) => {
  process.stderr.write(`[sandbox] ${(e as Error).message}\n`);
  process.exit(1);
});
