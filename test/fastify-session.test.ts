import { startFastifyApp } from "./fastify-app.ts";
import { describeSessionFlows } from "./session-flows.ts";

describeSessionFlows("fastify + @fastify/session", startFastifyApp);
