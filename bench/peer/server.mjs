// The peer of the sfr-org server benchmark: oidc-provider 9 with one confidential client (client_secret_post),
// client_credentials and refresh_token grants, refresh-token rotation off, tokens kept in this process's memory.
//
//   node server.mjs PORT CLIENT_SECRET REFRESH_TOKENS_FILE [WORKERS]
//
// WORKERS = 1 serves from this process; WORKERS = N > 1 forks N `cluster` workers sharing the port. Each worker
// has its own memory, so each one seeds the same pool of refresh tokens (one token per line in the file, used as
// the token's id, which is the opaque token value) and the same grant behind them: any worker can redeem any
// token. `GET /bare` answers "ok" before the provider sees the request: the HTTP floor of this server.
// Prints "peer ready <pid>" once per worker when it listens.
//
// Storage: MemoryAdapter below, the library's development adapter without its 1,000-entry LRU bound (with the bound,
// the tokens issued during a run evict the seeded pool and the grant behind it within a second). Like the
// library's, it keeps every record in a Map with its expiry and indexes grant members for revokeByGrantId.
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import Provider from 'oidc-provider';

const [port, clientSecret, tokensFile, workersArg] = process.argv.slice(2);
const workers = Number(workersArg ?? '1');
if (!port || !clientSecret || !tokensFile || !(workers >= 1)) {
  console.error('usage: node server.mjs PORT CLIENT_SECRET REFRESH_TOKENS_FILE [WORKERS]');
  process.exit(2);
}

const CLIENT_ID = 'bench-client';
const ACCOUNT = 'bench-user';
const GRANT_ID = 'bench-grant-0000000000000000000000000000000';

const storage = new Map(); // key -> { payload, expiresAt (ms, Infinity if none) }
const grants = new Map(); // grantId -> Set of keys

class MemoryAdapter {
  constructor(model) {
    this.model = model;
  }

  key(id) {
    return `${this.model}:${id}`;
  }

  async upsert(id, payload, expiresIn) {
    const key = this.key(id);
    const expiresAt = typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : Infinity;
    storage.set(key, { payload, expiresAt });
    if (payload.grantId) {
      let members = grants.get(payload.grantId);
      if (!members) grants.set(payload.grantId, (members = new Set()));
      members.add(key);
    }
  }

  async find(id) {
    const entry = storage.get(this.key(id));
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      storage.delete(this.key(id));
      return undefined;
    }
    return entry.payload;
  }

  async findByUserCode() {
    return undefined;
  }

  async findByUid() {
    return undefined;
  }

  async consume(id) {
    const entry = storage.get(this.key(id));
    if (entry) entry.payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id) {
    storage.delete(this.key(id));
  }

  async revokeByGrantId(grantId) {
    for (const key of grants.get(grantId) ?? []) storage.delete(key);
    grants.delete(grantId);
  }
}

async function serve() {
  const provider = new Provider(`http://127.0.0.1:${port}`, {
    adapter: MemoryAdapter,
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: clientSecret,
        grant_types: ['client_credentials', 'refresh_token', 'authorization_code'],
        response_types: ['code'],
        redirect_uris: ['http://localhost:1717/OauthRedirect'],
        token_endpoint_auth_method: 'client_secret_post',
      },
    ],
    scopes: ['openid', 'offline_access', 'api'],
    features: {
      clientCredentials: { enabled: true },
      devInteractions: { enabled: false },
    },
    rotateRefreshToken: false,
    ttl: { RefreshToken: 86400, Grant: 86400, AccessToken: 3600, ClientCredentials: 3600 },
    async findAccount(_ctx, sub) {
      return { accountId: sub, async claims() { return { sub }; } };
    },
  });
  provider.on('server_error', (_ctx, err) => console.error('peer server_error', err));

  const tokens = readFileSync(tokensFile, 'utf8').split('\n').filter(Boolean);
  const grant = new provider.Grant({ jti: GRANT_ID, accountId: ACCOUNT, clientId: CLIENT_ID });
  grant.addOIDCScope('offline_access');
  await grant.save();
  const client = await provider.Client.find(CLIENT_ID);
  for (const jti of tokens) {
    const rt = new provider.RefreshToken({
      jti,
      accountId: ACCOUNT,
      client,
      grantId: GRANT_ID,
      scope: 'offline_access',
      gty: 'authorization_code',
    });
    await rt.save();
  }

  const callback = provider.callback();
  const server = http.createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/bare') {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' });
      res.end('ok');
      return;
    }
    callback(req, res);
  });
  server.keepAliveTimeout = 60_000;
  server.listen(Number(port), '127.0.0.1', () => console.log(`peer ready ${process.pid}`));
}

if (workers > 1 && cluster.isPrimary) {
  for (let i = 0; i < workers; i += 1) cluster.fork();
  cluster.on('exit', (worker, code) => console.error(`peer worker ${worker.process.pid} exited with ${code}`));
} else {
  serve().catch((err) => {
    console.error('peer failed to start:', err);
    process.exit(1);
  });
}
