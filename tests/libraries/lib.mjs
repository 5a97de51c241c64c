// Warden test fixture: drive the real Better Auth / Auth.js libraries against a database.
//
// Run with the Node 22 that `npm install` puts in ./node_modules/.bin/node (node:sqlite needs Node >= 22.13):
//   node_modules/.bin/node lib.mjs <library> <command> [--option value ...]
// Every command prints exactly one JSON object on stdout; errors go to stderr with a non-zero exit code.
// See README.md for the commands and the JSON they print.
//
// Everything here is deliberately done through the libraries' own APIs (migrations, sign-up, sign-in,
// session lookup, adapters) so that the databases look exactly like an application's would.

import { parseArgs } from "node:util";
import { createHmac, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

// ---------------------------------------------------------------------------------------------------
// stdout is reserved for the one JSON result: send every library log line to stderr instead.
for (const k of ["log", "info", "warn", "debug", "trace"]) console[k] = (...a) => console.error(...a);
// node:sqlite prints an ExperimentalWarning on first use in Node 22; it is noise here.
const emitWarning = process.emitWarning;
process.emitWarning = function (warning, ...rest) {
  const type = typeof rest[0] === "string" ? rest[0] : rest[0]?.type;
  if (type === "ExperimentalWarning" && String(warning?.message ?? warning).includes("SQLite")) return;
  return emitWarning.call(process, warning, ...rest);
};

const HERE = dirname(fileURLToPath(import.meta.url));

// Fixed test values shared by every command, so cookies made by `seed` validate in `check-session`.
export const BA_SECRET = "warden-fixture-better-auth-secret-0123456789abcdef";
export const BA_BASE_URL = "http://localhost:3000";
export const AUTHJS_SECRET = "warden-fixture-authjs-secret-0123456789abcdef";
export const PASSWORD = "correct horse battery staple 1";

class UsageError extends Error {}

function fail(msg) {
  throw new UsageError(msg);
}

function parseDbUrl(url) {
  if (!url) fail("--url is required (postgres://... or sqlite:/path/file.db)");
  if (/^postgres(ql)?:\/\//.test(url)) return { kind: "postgres", url };
  if (url.startsWith("sqlite:")) {
    let path = url.slice("sqlite:".length);
    if (path.startsWith("//")) path = path.slice(2); // sqlite:///abs/path
    if (!path) fail(`no file path in ${url}`);
    return { kind: "sqlite", path };
  }
  fail(`unsupported --url ${url} (want postgres://... or sqlite:/path/file.db)`);
}

async function openDb(url) {
  const target = parseDbUrl(url);
  if (target.kind === "postgres") {
    const { default: pg } = await import("pg");
    const pool = new pg.Pool({ connectionString: target.url, max: 4 });
    return { ...target, handle: pool, close: () => pool.end() };
  }
  const { DatabaseSync } = await import("node:sqlite");
  const db = new DatabaseSync(target.path);
  return { ...target, handle: db, close: () => db.close() };
}

const intArg = (v, name, dflt) => {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) fail(`--${name} must be a non-negative integer, got ${v}`);
  return n;
};

// ---------------------------------------------------------------------------------------------------
// Better Auth

const snake = (s) => s.replace(/[A-Z]/g, (c) => "_" + c.toLowerCase());
const snakeFields = (keys) => Object.fromEntries(keys.map((k) => [k, snake(k)]));

// The camelCase fields of each model (better-auth 1.7.29: @better-auth/core/dist/db/get-tables.mjs,
// better-auth/dist/plugins/{admin,two-factor}/schema.mjs). Single-word fields need no mapping.
const CAMEL = {
  user: ["emailVerified", "createdAt", "updatedAt"],
  session: ["expiresAt", "createdAt", "updatedAt", "ipAddress", "userAgent", "userId"],
  account: ["accountId", "providerId", "userId", "accessToken", "refreshToken", "idToken",
    "accessTokenExpiresAt", "refreshTokenExpiresAt", "createdAt", "updatedAt"],
  verification: ["expiresAt", "createdAt", "updatedAt"],
  adminUser: ["banReason", "banExpires"],
  adminSession: ["impersonatedBy"],
  twoFactorUser: ["twoFactorEnabled"],
  twoFactor: ["backupCodes", "userId", "failedVerificationCount", "lockedUntil"],
};

// Naming variants, all produced by the library's own options.
export const BA_VARIANTS = {
  // library defaults: user, session, account, verification, twoFactor; camelCase columns
  default: { core: {}, admin: undefined, twoFactor: undefined },
  // what `usePlural: true` on the Drizzle/Prisma/Kysely adapters yields at runtime (modelName + "s")
  plural: {
    core: {
      user: { modelName: "users" }, session: { modelName: "sessions" },
      account: { modelName: "accounts" }, verification: { modelName: "verifications" },
    },
    admin: undefined,
    twoFactor: { twoFactor: { modelName: "twoFactors" } },
  },
  // snake_case columns, as Drizzle (default casing) / Prisma @map apps have
  snake: {
    core: {
      user: { fields: snakeFields(CAMEL.user) }, session: { fields: snakeFields(CAMEL.session) },
      account: { fields: snakeFields(CAMEL.account) }, verification: { fields: snakeFields(CAMEL.verification) },
    },
    admin: { user: { fields: snakeFields(CAMEL.adminUser) }, session: { fields: snakeFields(CAMEL.adminSession) } },
    twoFactor: {
      user: { fields: snakeFields(CAMEL.twoFactorUser) },
      twoFactor: { modelName: "two_factor", fields: snakeFields(CAMEL.twoFactor) },
    },
  },
  // application-chosen table names
  custom: {
    core: {
      user: { modelName: "app_users" }, session: { modelName: "app_sessions" },
      account: { modelName: "app_accounts" }, verification: { modelName: "app_verifications" },
    },
    admin: undefined,
    twoFactor: { twoFactor: { modelName: "app_two_factors" } },
  },
};

const BA_PLUGINS = ["admin", "twoFactor"];

function parsePlugins(s) {
  const list = (s ?? "").split(",").map((x) => x.trim()).filter(Boolean);
  for (const p of list) if (!BA_PLUGINS.includes(p)) fail(`unknown plugin ${p} (known: ${BA_PLUGINS.join(", ")})`);
  return list;
}

async function baOptions(db, variantName, plugins) {
  const variant = BA_VARIANTS[variantName];
  if (!variant) fail(`unknown --variant ${variantName} (known: ${Object.keys(BA_VARIANTS).join(", ")})`);
  const { admin, twoFactor } = await import("better-auth/plugins");
  const pluginList = [];
  if (plugins.includes("admin")) pluginList.push(admin(variant.admin ? { schema: variant.admin } : {}));
  if (plugins.includes("twoFactor")) pluginList.push(twoFactor(variant.twoFactor ? { schema: variant.twoFactor } : {}));
  const c = variant.core;
  return {
    database: db.handle, // pg.Pool or node:sqlite DatabaseSync, both accepted directly by better-auth 1.7
    secret: BA_SECRET,
    baseURL: BA_BASE_URL,
    emailAndPassword: { enabled: true, autoSignIn: false }, // sign-up makes no session; sign-ins make them all
    user: { ...c.user },
    session: { ...c.session, cookieCache: { enabled: false } }, // every getSession hits the database
    account: { ...c.account },
    verification: { ...c.verification },
    advanced: { ipAddress: { ipAddressHeaders: ["x-forwarded-for"] } }, // the default, spelled out
    rateLimit: { enabled: false },
    telemetry: { enabled: false },
    plugins: pluginList,
  };
}

async function baAuth(db, variant, plugins) {
  const { betterAuth } = await import("better-auth");
  const options = await baOptions(db, variant, plugins);
  return { auth: betterAuth(options), options };
}

// Turn Set-Cookie response headers into a Cookie request header (dropping cleared cookies).
const cookieHeader = (headers) =>
  headers.getSetCookie().map((c) => c.split(";")[0]).filter((c) => !c.endsWith("=")).join("; ");

// The raw session token inside a signed `better-auth.session_token=<token>.<hmac>` cookie.
function tokenFromCookie(cookie) {
  const m = /(?:^|;\s*)(?:__Secure-)?better-auth\.session_token=([^;]+)/.exec(cookie);
  if (!m) return null;
  const v = decodeURIComponent(m[1]);
  return v.slice(0, v.lastIndexOf("."));
}

function errorInfo(e) {
  // better-call APIError: status = "FORBIDDEN", statusCode = 403, body = {code, message}
  // Only a refusal (4xx) is an answer; a 5xx or anything else is a broken fixture/database -> rethrow.
  if (e && typeof e === "object" && "statusCode" in e && e.body !== undefined && e.statusCode < 500)
    return { status: e.statusCode, status_text: e.status, code: e.body?.code ?? null, message: e.body?.message ?? null };
  throw e;
}

// RFC 6238 TOTP, computed independently of the library (as an authenticator app would).
function base32decode(s) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const ch of s.replace(/=+$/, "").toUpperCase()) {
    const v = alphabet.indexOf(ch);
    if (v < 0) throw new Error(`bad base32 character ${ch}`);
    bits += v.toString(2).padStart(5, "0");
  }
  const out = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) out.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(out);
}
export function totp(base32Secret, { period = 30, digits = 6, now = Date.now() } = {}) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(now / 1000 / period)));
  const h = createHmac("sha1", base32decode(base32Secret)).update(counter).digest();
  const off = h[h.length - 1] & 0xf;
  return String((h.readUInt32BE(off) & 0x7fffffff) % 10 ** digits).padStart(digits, "0");
}
async function awayFromTotpBoundary(period = 30) {
  const into = (Date.now() / 1000) % period;
  if (into > period - 3) await new Promise((r) => setTimeout(r, (period - into + 0.5) * 1000));
}

const ba = {
  async setup({ db, variant, plugins }) {
    const { getMigrations } = await import("better-auth/db/migration");
    const options = await baOptions(db, variant, plugins);
    const m = await getMigrations(options);
    const ddl = await m.compileMigrations();
    await m.runMigrations();
    return {
      ok: true,
      variant,
      plugins,
      created: m.toBeCreated.map((t) => t.table),
      added: m.toBeAdded.map((t) => ({ table: t.table, fields: Object.keys(t.fields) })),
      ddl,
    };
  },

  async seed({ db, variant, plugins, args }) {
    const n = intArg(args.users, "users", 3);
    const k = intArg(args["sessions-per-user"], "sessions-per-user", 2);
    const { auth } = await baAuth(db, variant, plugins);
    const ctx = await auth.$context;
    const users = [];
    for (let i = 1; i <= n; i++) {
      const email = `user${i}@example.test`;
      const up = await auth.api.signUpEmail({
        body: { email, password: PASSWORD, name: `User ${i}` },
        headers: new Headers({ "user-agent": `WardenFixture/1.0 (sign-up; user ${i})`, "x-forwarded-for": `192.0.2.${(i % 254) + 1}` }),
      });
      const u = { id: up.user.id, email: up.user.email, name: up.user.name,
        cookies: [], session_tokens: [], session_ids: [], ip_addresses: [], user_agents: [] };
      for (let j = 1; j <= k; j++) {
        const ip = `10.${(i >> 8) & 255}.${i & 255}.${j % 255}`;
        const ua = `WardenFixture/1.0 (user ${i}; session ${j})`;
        const r = await auth.api.signInEmail({
          body: { email, password: PASSWORD },
          headers: new Headers({ "user-agent": ua, "x-forwarded-for": ip }),
          returnHeaders: true,
        });
        const found = await ctx.internalAdapter.findSession(r.response.token);
        u.cookies.push(cookieHeader(r.headers));
        u.session_tokens.push(r.response.token);
        u.session_ids.push(found.session.id);
        u.ip_addresses.push(found.session.ipAddress);
        u.user_agents.push(found.session.userAgent);
      }
      users.push(u);
    }
    const out = { users };

    if (plugins.includes("admin") && n > 0) {
      // No admin exists yet to call setRole, so set the role the way a first-admin bootstrap does:
      // through the library's internal adapter (honours model/field names).
      const a = users[0];
      const updated = await ctx.internalAdapter.updateUser(a.id, { role: "admin" });
      out.admin = { id: a.id, email: a.email, role: updated.role };
    }

    if (plugins.includes("twoFactor") && n > 0) {
      const t = users[n - 1];
      let cookie = t.cookies[0];
      let temp = null;
      if (!cookie) {
        const r = await auth.api.signInEmail({ body: { email: t.email, password: PASSWORD }, returnHeaders: true });
        cookie = cookieHeader(r.headers);
        temp = r.response.token;
      }
      const en = await auth.api.enableTwoFactor({ body: { password: PASSWORD }, headers: new Headers({ cookie }) });
      const secret = new URL(en.totpURI).searchParams.get("secret");
      await awayFromTotpBoundary();
      // verifyTOTP flips user.twoFactorEnabled and replaces the calling session (new token, same ip/UA).
      const v = await auth.api.verifyTOTP({ body: { code: totp(secret) }, headers: new Headers({ cookie }), returnHeaders: true });
      // NB: v.response.token is the token of the session that was just replaced (deleted) — a quirk of
      // 1.7.29's verifyTwoFactor().valid(); the live token is the one in the new session cookie.
      const newCookie = cookieHeader(v.headers);
      const newToken = tokenFromCookie(newCookie);
      if (!newToken) throw new Error(`verifyTOTP set no session cookie: ${newCookie}`);
      if (temp) {
        await auth.api.revokeSession({ body: { token: newToken }, headers: new Headers({ cookie: newCookie }) });
      } else {
        const found = await ctx.internalAdapter.findSession(newToken);
        t.cookies[0] = newCookie;
        t.session_tokens[0] = newToken;
        t.session_ids[0] = found.session.id;
      }
      const check = await ctx.internalAdapter.findUserById(t.id);
      out.two_factor_user = {
        id: t.id, email: t.email, two_factor_enabled: check.twoFactorEnabled === true,
        totp_secret: secret, totp_uri: en.totpURI, backup_codes: en.backupCodes,
      };
    }
    return out;
  },

  async "check-session"({ db, variant, plugins, args }) {
    if (!args.cookie) fail("--cookie is required");
    const { auth } = await baAuth(db, variant, plugins);
    const s = await auth.api.getSession({ headers: new Headers({ cookie: args.cookie }), query: { disableCookieCache: true } });
    if (!s) return { valid: false };
    return { valid: true, user_id: s.user.id, session_id: s.session.id, email: s.user.email, expires_at: s.session.expiresAt };
  },

  async "sign-in"({ db, variant, plugins, args }) {
    if (!args.email || args.password === undefined) fail("--email and --password are required");
    const { auth } = await baAuth(db, variant, plugins);
    try {
      const r = await auth.api.signInEmail({
        body: { email: args.email, password: args.password },
        headers: new Headers({ "user-agent": "WardenFixture/1.0 (sign-in check)", "x-forwarded-for": "198.51.100.7" }),
        returnHeaders: true,
      });
      if (r.response?.twoFactorRedirect) return { ok: true, two_factor_redirect: true, methods: r.response.twoFactorMethods };
      return { ok: true, user_id: r.response.user.id, session_token: r.response.token, cookie: cookieHeader(r.headers) };
    } catch (e) {
      return { ok: false, ...errorInfo(e) };
    }
  },

  async "two-factor-enabled"({ db, variant, plugins, args }) {
    if (!args.email) fail("--email is required");
    const withTwoFactor = plugins.includes("twoFactor") ? plugins : [...plugins, "twoFactor"];
    const { auth } = await baAuth(db, variant, withTwoFactor);
    const ctx = await auth.$context;
    const found = await ctx.internalAdapter.findUserByEmail(args.email.toLowerCase());
    if (!found) return { found: false, enabled: false, rows: 0, source: "internalAdapter" };
    const rows = await ctx.adapter.count({ model: "twoFactor", where: [{ field: "userId", value: found.user.id }] });
    return {
      found: true,
      enabled: found.user.twoFactorEnabled === true,
      rows,
      user_id: found.user.id,
      source: "internalAdapter.findUserByEmail + adapter.count(twoFactor)",
    };
  },
};

// ---------------------------------------------------------------------------------------------------
// Auth.js

// PostgreSQL: @auth/pg-adapter's own schema.sql (not shipped on npm; copied next to this file).
// SQLite: @auth/kysely-adapter over node:sqlite, schema = the adapter's own test schema for SQLite.
const AUTHJS_FLAVOURS = { postgres: ["pg-adapter"], sqlite: ["kysely"] };

function authjsFlavour(db, requested) {
  const allowed = AUTHJS_FLAVOURS[db.kind];
  const f = requested ?? allowed[0];
  if (!allowed.includes(f)) fail(`--flavour ${f} is not available for ${db.kind} (have: ${allowed.join(", ")})`);
  return f;
}

async function authjsKysely(db) {
  const { Kysely, SqliteAdapter } = await import("kysely");
  const { NodeSqliteDialect } = await import("@better-auth/kysely-adapter/node-sqlite-dialect");
  // @auth/kysely-adapter only converts Date <-> ISO text when `adapter instanceof SqliteAdapter`;
  // node:sqlite cannot bind Date objects, so the dialect must report kysely's own SqliteAdapter.
  class AuthjsNodeSqliteDialect extends NodeSqliteDialect {
    createAdapter() { return new SqliteAdapter(); }
  }
  return new Kysely({ dialect: new AuthjsNodeSqliteDialect({ database: db.handle }) });
}

async function authjsAdapter(db, flavour) {
  if (flavour === "pg-adapter") {
    const { default: PostgresAdapter } = await import("@auth/pg-adapter");
    return { adapter: PostgresAdapter(db.handle), close: async () => {} };
  }
  const { KyselyAdapter } = await import("@auth/kysely-adapter");
  const k = await authjsKysely(db);
  return { adapter: KyselyAdapter(k), close: async () => {} };
}

const authjs = {
  async setup({ db, args }) {
    const flavour = authjsFlavour(db, args.flavour);
    if (flavour === "pg-adapter") {
      const sqlText = readFileSync(join(HERE, "authjs-pg-adapter-schema.sql"), "utf8")
        .split("\n").filter((l) => !l.startsWith("\\")).join("\n"); // drop psql meta-commands (\set ...)
      await db.handle.query(sqlText);
      return { ok: true, flavour, created: ["verification_token", "accounts", "sessions", "users"] };
    }
    // packages/adapter-kysely/test/index.test.ts (nextauthjs/next-auth @ a1a16a5a7780488c7449feece410033f445d0b31),
    // the SQLite branch: id varchar primary key, uuid/timestamptz type names, no Session/Account id column.
    const { sql } = await import("kysely");
    const k = await authjsKysely(db);
    await k.schema.createTable("User")
      .addColumn("id", "varchar", (col) => col.primaryKey())
      .addColumn("name", "text")
      .addColumn("email", "text", (col) => col.unique().notNull())
      .addColumn("emailVerified", "timestamptz", (col) => col.defaultTo(sql`CURRENT_TIMESTAMP`))
      .addColumn("image", "text")
      .execute();
    await k.schema.createTable("Account")
      .addColumn("userId", "uuid", (col) => col.references("User.id").onDelete("cascade").notNull())
      .addColumn("type", "text", (col) => col.notNull())
      .addColumn("provider", "text", (col) => col.notNull())
      .addColumn("providerAccountId", "text", (col) => col.notNull())
      .addColumn("refresh_token", "text")
      .addColumn("access_token", "text")
      .addColumn("expires_at", "bigint")
      .addColumn("token_type", "text")
      .addColumn("scope", "text")
      .addColumn("id_token", "text")
      .addColumn("session_state", "text")
      .execute();
    await k.schema.createTable("Session")
      .addColumn("userId", "uuid", (col) => col.references("User.id").onDelete("cascade").notNull())
      .addColumn("sessionToken", "text", (col) => col.notNull().unique())
      .addColumn("expires", "timestamptz", (col) => col.notNull())
      .execute();
    await k.schema.createTable("VerificationToken")
      .addColumn("identifier", "text", (col) => col.notNull())
      .addColumn("token", "text", (col) => col.notNull().unique())
      .addColumn("expires", "timestamptz", (col) => col.notNull())
      .execute();
    await k.schema.createIndex("Account_userId_index").on("Account").column("userId").execute();
    return { ok: true, flavour, created: ["User", "Account", "Session", "VerificationToken"] };
  },

  async seed({ db, args }) {
    const flavour = authjsFlavour(db, args.flavour);
    const n = intArg(args.users, "users", 3);
    const k = intArg(args["sessions-per-user"], "sessions-per-user", 2);
    const { adapter } = await authjsAdapter(db, flavour);
    const users = [];
    for (let i = 1; i <= n; i++) {
      // odd users verified (as the email provider does), even ones not (as OAuth sign-up does)
      const user = await adapter.createUser({
        name: `User ${i}`, email: `user${i}@example.test`, emailVerified: i % 2 ? new Date() : null, image: null,
      });
      const u = { id: user.id, email: user.email, session_tokens: [], expires: [] };
      for (let j = 1; j <= k; j++) {
        const sessionToken = randomUUID(); // @auth/core's default generateSessionToken
        const expires = new Date(Date.now() + 30 * 24 * 3600 * 1000); // default maxAge 30 days
        await adapter.createSession({ sessionToken, userId: user.id, expires });
        u.session_tokens.push(sessionToken);
        u.expires.push(expires.toISOString());
      }
      users.push(u);
    }
    return { flavour, users };
  },

  async "check-session"({ db, args }) {
    if (!args.token) fail("--token is required");
    const flavour = authjsFlavour(db, args.flavour);
    const { Auth } = await import("@auth/core");
    const { adapter } = await authjsAdapter(db, flavour);
    const errors = [];
    const config = {
      adapter,
      // an email provider needs no network and makes @auth/core pick the "database" session strategy
      providers: [{ id: "fixture-email", name: "Email", type: "email", sendVerificationRequest() {} }],
      secret: AUTHJS_SECRET,
      trustHost: true,
      basePath: "/auth",
      // @auth/core turns adapter errors into a 200 "null session"; collect them so a broken database
      // is reported as an error rather than as "session not valid".
      logger: {
        error: (e) => errors.push(e),
        warn: (code) => console.error(`[auth][warn] ${code}`),
        debug: () => {},
      },
    };
    const res = await Auth(new Request("http://localhost:3000/auth/session", {
      headers: { cookie: `authjs.session-token=${args.token}` },
    }), config);
    if (res.status !== 200) throw new Error(`Auth.js /session answered ${res.status}: ${await res.text()}`);
    const body = await res.json();
    if (errors.length) {
      const e = errors[0];
      throw new Error(`Auth.js /session failed: ${e?.name}: ${e?.cause?.err?.stack ?? e?.cause?.stack ?? e?.cause ?? e?.message}`);
    }
    if (!body || !body.user) return { valid: false };
    return { valid: true, email: body.user.email, expires: body.expires };
  },
};

// ---------------------------------------------------------------------------------------------------

const USAGE = `usage: node lib.mjs <library> <command> [options]
  better-auth setup              --url U --variant V [--plugins admin,twoFactor]
  better-auth seed               --url U --variant V [--plugins ...] --users N --sessions-per-user K
  better-auth check-session      --url U --variant V [--plugins ...] --cookie '<Cookie header>'
  better-auth sign-in            --url U --variant V [--plugins ...] --email E --password P
  better-auth two-factor-enabled --url U [--variant V] [--plugins ...] --email E
  authjs setup                   --url U [--flavour pg-adapter|kysely]
  authjs seed                    --url U [--flavour ...] --users N --sessions-per-user K
  authjs check-session           --url U [--flavour ...] --token T
U = postgres://user@host:port/db | sqlite:/path/file.db; V = default|plural|snake|custom`;

async function main(argv) {
  const major = Number(process.versions.node.split(".")[0]);
  if (major < 22) fail(`Node ${process.versions.node} is too old: run with tests/libraries/node_modules/.bin/node (Node 22)`);
  const [library, command, ...rest] = argv;
  const table = { "better-auth": ba, authjs }[library];
  if (!table || !command || !Object.hasOwn(table, command)) fail(USAGE);
  const { values } = parseArgs({
    args: rest,
    strict: true,
    options: Object.fromEntries(["url", "variant", "plugins", "users", "sessions-per-user", "cookie", "email",
      "password", "token", "flavour"].map((k) => [k, { type: "string" }])),
  });
  const db = await openDb(values.url);
  try {
    return await table[command]({
      db,
      variant: values.variant ?? "default",
      plugins: parsePlugins(values.plugins),
      args: values,
    });
  } finally {
    await db.close();
  }
}

try {
  const result = await main(process.argv.slice(2));
  process.stdout.write(JSON.stringify(result) + "\n");
  process.exitCode = 0;
} catch (e) {
  let text;
  if (e instanceof UsageError) text = e.message;
  else if (e instanceof Error) text = `${e.name}: ${e.message}` + (e.body ? ` ${JSON.stringify(e.body)}` : "")
    + (e.stack ? `\n${e.stack.split("\n").slice(1).join("\n")}` : "");
  else text = String(e);
  process.stderr.write(text + "\n");
  process.exitCode = e instanceof UsageError ? 2 : 1;
}
