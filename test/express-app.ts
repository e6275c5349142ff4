import { createServer } from "node:http";
import { MeridianStore } from "@meridian/session-store";
import express from "express";
import session, { type Store } from "express-session";
import { closeServer, type Gates, serverUrl } from "./web-kit.ts";

/** A running test app. */
export interface RunningApp {
  readonly url: string;
  close(): Promise<void>;
}

/** The session as a plain record of fields (express-session types it per application). */
function fields(s: session.Session): Record<string, unknown> {
  return s as unknown as Record<string, unknown>;
}

function query(req: express.Request, name: string): string {
  const v = req.query[name];
  return typeof v === "string" ? v : "";
}

/**
 * A small express app on express-session with the recommended settings (resave false,
 * saveUninitialized false, httpOnly cookie, regenerate on login; `secure` off only because the
 * test speaks plain HTTP on loopback).
 */
export async function startExpressApp(store: Store, gates: Gates): Promise<RunningApp> {
  const app = express();
  app.use(
    session({
      store,
      secret: "a test secret for signing cookies",
      name: "sid",
      resave: false,
      saveUninitialized: false,
      cookie: { maxAge: 3_600_000, httpOnly: true, sameSite: "lax", secure: false },
    }),
  );
  app.post("/login", (req, res, next) => {
    req.session.regenerate((err) => {
      if (err) return next(err);
      const s = fields(req.session);
      s.userId = query(req, "user");
      s.loginAt = new Date("2025-06-01T12:00:00.000Z");
      req.session.save((saveErr) => {
        if (saveErr) return next(saveErr);
        res.json({ sessionID: req.sessionID });
      });
    });
  });
  app.get("/me", (req, res) => {
    const s = fields(req.session);
    const { cookie: _cookie, ...rest } = s;
    res.json({
      sessionID: req.sessionID,
      fields: rest,
      loginAtIsDate: s.loginAt instanceof Date,
    });
  });
  app.post("/set", async (req, res) => {
    const gate = query(req, "gate");
    if (gate !== "") await gates.pass(gate);
    fields(req.session)[query(req, "key")] = query(req, "value");
    res.json({ sessionID: req.sessionID });
  });
  app.post("/incr", (req, res) => {
    const s = fields(req.session);
    s.n = (typeof s.n === "number" ? s.n : 0) + 1;
    res.json({ n: s.n });
  });
  app.post("/logout-everywhere", async (req, res) => {
    const userId = fields(req.session).userId;
    if (!(store instanceof MeridianStore) || typeof userId !== "string") {
      res.status(400).json({ error: "not logged in" });
      return;
    }
    res.json({ revoked: await store.revokeUser(userId) });
  });
  const server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: serverUrl(server), close: () => closeServer(server) };
}
