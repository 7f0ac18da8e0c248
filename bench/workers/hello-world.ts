/** The yardstick of the page benchmark: a bare Express 5 app, started the same way as the service. */
import express from "express";

const app = express();
app.get("/", (_req, res) => {
  res.send("Hello World!");
});
const server = app.listen(0, "127.0.0.1", () => {
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  process.stdout.write(`hello world listening on http://127.0.0.1:${port}\n`);
});
const stop = () => server.close();
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
server.on("close", () => server.closeAllConnections());
