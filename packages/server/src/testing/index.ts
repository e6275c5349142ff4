/** Test kits of @meridian/server that other packages reuse (the simulator, the demo, tests). */
export { freePorts } from "./free-ports.ts";
export { NodeProcess, type NodeProcessOptions } from "./node-process.ts";
export { TcpProxy } from "./tcp-proxy.ts";
export { waitFor } from "./wait-for.ts";
