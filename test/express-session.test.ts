import { startExpressApp } from "./express-app.ts";
import { describeSessionFlows } from "./session-flows.ts";

describeSessionFlows("express + express-session", startExpressApp);
