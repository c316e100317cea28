// sqs-server.mjs starts local-aws-sqs on 127.0.0.1 for stampede's tests.
// Usage: node sqs-server.mjs [port]   (port 0 or none: a free port)
// It prints "listening on http://127.0.0.1:PORT" once it accepts requests,
// and exits when its standard input closes (the test process is gone).
import { createSqsServer } from "local-aws-sqs";

const port = Number(process.argv[2] ?? 0);
const server = await createSqsServer({
  port,
  hostname: "127.0.0.1",
  emulateQueueCreationLifecycle: false,
});
const addr = server.address();
process.stdout.write(`listening on http://127.0.0.1:${addr.port}\n`);

const stop = () => {
  server.close();
  process.exit(0);
};
process.stdin.on("end", stop);
process.stdin.on("close", stop);
process.stdin.resume();
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
