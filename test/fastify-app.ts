import fastifyCookie from "@fastify/cookie";
import fastifySession from "@fastify/session";
import { MeridianStore } from "@meridian/session-store";
import type { Store } from "express-session";
import Fastify, { type FastifyRequest } from "fastify";
import type { RunningApp } from "./express-app.ts";
import type { Gates } from "./web-kit.ts";

/** The session as a plain record of fields (@fastify/session types it per application). */
function fields(req: FastifyRequest): Record<string, unknown> {
  return req.session as unknown as Record<string, unknown>;
}

function query(req: FastifyRequest, name: string): string {
  const v = (req.query as Record<string, unknown>)[name];
  return typeof v === "string" ? v : "";
}

/**
 * The express test app's routes on fastify + @fastify/cookie + @fastify/session, with the
 * recommended settings (saveUninitialized false, httpOnly cookie, regenerate on login; `secure`
 * off only because the test speaks plain HTTP on loopback).
 */
export async function startFastifyApp(store: Store, gates: Gates): Promise<RunningApp> {
  const app = Fastify();
  await app.register(fastifyCookie);
  await app.register(fastifySession, {
    secret: "a test secret for signing cookies, 32+ chars",
    cookieName: "sid",
    saveUninitialized: false,
    cookie: { maxAge: 3_600_000, httpOnly: true, sameSite: "lax", secure: false },
    store,
  });
  app.post("/login", async (req) => {
    await req.session.regenerate();
    const s = fields(req);
    s.userId = query(req, "user");
    s.loginAt = new Date("2025-06-01T12:00:00.000Z");
    return { sessionID: req.session.sessionId };
  });
  app.get("/me", async (req) => {
    const { cookie: _cookie, ...rest } = fields(req);
    return {
      sessionID: req.session.sessionId,
      fields: rest,
      loginAtIsDate: fields(req).loginAt instanceof Date,
    };
  });
  app.post("/set", async (req) => {
    const gate = query(req, "gate");
    if (gate !== "") await gates.pass(gate);
    fields(req)[query(req, "key")] = query(req, "value");
    return { sessionID: req.session.sessionId };
  });
  app.post("/incr", async (req) => {
    const s = fields(req);
    s.n = (typeof s.n === "number" ? s.n : 0) + 1;
    return { n: s.n };
  });
  app.post("/logout-everywhere", async (req, reply) => {
    const userId = fields(req).userId;
    if (!(store instanceof MeridianStore) || typeof userId !== "string") {
      return reply.status(400).send({ error: "not logged in" });
    }
    return { revoked: await store.revokeUser(userId) };
  });
  const url = await app.listen({ port: 0, host: "127.0.0.1" });
  return { url, close: () => app.close() };
}
