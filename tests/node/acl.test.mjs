// Access policies as Replit's generated objectAcl.ts keeps them: JSON under the custom
// metadata key `custom:aclPolicy`. Objects those apps stored keep their policies, and the
// access decision is theirs: no policy denies, public reads are open, the owner may do
// anything, rules grant their groups (write implies read) as the app's isMember decides.

import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';

import { Client } from 'replit-object-storage-wasm';

import { TEST_BUCKET, assertErr, assertOk, emulatorMetadata, testObjects } from './helpers.mjs';

const KEY = 'custom:aclPolicy';
const { fresh } = testObjects('acl', 'photo.png');
let client;

/** An object stored the way a generated app stores one: its policy JSON in custom metadata. */
async function storedByGeneratedApp(policy) {
  const name = fresh();
  const metadata = policy === undefined ? undefined : { [KEY]: typeof policy === 'string' ? policy : JSON.stringify(policy) };
  assertOk(await client.uploadFromText(name, 'picture bytes', { metadata }));
  return name;
}

const TEAM_POLICY = {
  owner: 'owner-1',
  visibility: 'private',
  aclRules: [
    { group: { type: 'team', id: 'readers' }, permission: 'read' },
    { group: { type: 'team', id: 'writers' }, permission: 'write' },
  ],
};

/** isMember over a fixed membership table, counting its calls. */
function members(table) {
  const calls = [];
  const isMember = (group, userId) => {
    calls.push(`${group.type}:${group.id}:${userId}`);
    return (table[group.id] ?? []).includes(userId);
  };
  return { isMember, calls };
}

before(() => {
  client = new Client({ bucketId: TEST_BUCKET });
});

describe('getAclPolicy / setAclPolicy', () => {
  it('reads the policy a generated app stored', async () => {
    const name = await storedByGeneratedApp(TEAM_POLICY);
    assert.deepEqual(assertOk(await client.getAclPolicy(name)), TEAM_POLICY);
  });

  it('is null for an object without a policy', async () => {
    assert.equal(assertOk(await client.getAclPolicy(await storedByGeneratedApp(undefined))), null);
  });

  it('stores exactly the JSON the generated apps store, keeping other metadata', async () => {
    const name = fresh();
    assertOk(await client.uploadFromText(name, 'x', { metadata: { album: 'pets' } }));
    const policy = { owner: 'u1', visibility: 'public' };
    assert.deepEqual(await client.setAclPolicy(name, policy), { ok: true, value: null });
    const stored = await emulatorMetadata(TEST_BUCKET, name);
    assert.equal(stored.metadata[KEY], JSON.stringify(policy));
    assert.equal(stored.metadata.album, 'pets');
    assertOk(await client.setAclPolicy(name, TEAM_POLICY));
    assert.equal((await emulatorMetadata(TEST_BUCKET, name)).metadata[KEY], JSON.stringify(TEAM_POLICY));
    assert.deepEqual(assertOk(await client.getAclPolicy(name)), TEAM_POLICY);
  });

  it('refuses a malformed policy before writing, naming what is wrong', async () => {
    const name = await storedByGeneratedApp(undefined);
    const cases = [
      [{ owner: 'u', visibility: 'open' }, /visibility/],
      [{ visibility: 'public' }, /owner/],
      [{ owner: 'u', visibility: 'private', aclRules: [{ group: { type: 't', id: 'i' }, permission: 'own' }] }, /permission/],
      [null, /policy/],
    ];
    for (const [policy, message] of cases) {
      const error = assertErr(await client.setAclPolicy(name, policy), 'InvalidArgument', null);
      assert.match(error.message, message);
    }
    assert.equal(assertOk(await client.getAclPolicy(name)), null, 'nothing was written');
  });

  it('reports a stored policy that is not valid as an error, not as "no access"', async () => {
    const name = await storedByGeneratedApp('{"owner": "u", "visibility": ');
    assert.match(assertErr(await client.getAclPolicy(name), 'Unknown', null).message, /not valid/);
    assertErr(await client.canAccess(name, { userId: 'u', permission: 'read' }), 'Unknown', null);
  });

  it('is ObjectNotFound for a missing object', async () => {
    assertErr(await client.getAclPolicy(fresh()), 'ObjectNotFound', 404);
    assertErr(await client.setAclPolicy(fresh(), { owner: 'u', visibility: 'public' }), 'ObjectNotFound', 404);
    assertErr(await client.canAccess(fresh(), { userId: 'u', permission: 'read' }), 'ObjectNotFound', 404);
  });
});

describe('canAccess', () => {
  it('denies everyone when there is no policy', async () => {
    const name = await storedByGeneratedApp(undefined);
    assert.equal(assertOk(await client.canAccess(name, { userId: 'anyone', permission: 'read' })), false);
  });

  it('lets anyone read a public object, and only the owner write it', async () => {
    const name = await storedByGeneratedApp({ owner: 'o', visibility: 'public' });
    assert.equal(assertOk(await client.canAccess(name, { permission: 'read' })), true);
    assert.equal(assertOk(await client.canAccess(name, { userId: 'stranger', permission: 'write' })), false);
    assert.equal(assertOk(await client.canAccess(name, { userId: 'o', permission: 'write' })), true);
  });

  it('lets the owner do anything and anonymous visitors nothing private', async () => {
    const name = await storedByGeneratedApp(TEAM_POLICY);
    assert.equal(assertOk(await client.canAccess(name, { userId: 'owner-1', permission: 'write' })), true);
    assert.equal(assertOk(await client.canAccess(name, { permission: 'read' })), false);
  });

  it('grants rules through isMember, write implying read, asking only the groups that grant enough', async () => {
    const name = await storedByGeneratedApp(TEAM_POLICY);
    const table = { readers: ['r'], writers: ['w'] };
    const check = async (userId, permission) => {
      const { isMember, calls } = members(table);
      return { allowed: assertOk(await client.canAccess(name, { userId, permission, isMember })), calls };
    };
    assert.deepEqual(await check('r', 'read'), { allowed: true, calls: ['team:readers:r'] });
    assert.deepEqual(await check('r', 'write'), { allowed: false, calls: ['team:writers:r'] });
    assert.deepEqual(await check('w', 'read'), { allowed: true, calls: ['team:readers:w', 'team:writers:w'] });
    assert.deepEqual(await check('w', 'write'), { allowed: true, calls: ['team:writers:w'] });
    assert.deepEqual(await check('nobody', 'read'), { allowed: false, calls: ['team:readers:nobody', 'team:writers:nobody'] });
  });

  it('awaits an isMember that returns a promise', async () => {
    const name = await storedByGeneratedApp(TEAM_POLICY);
    const isMember = (group, userId) => new Promise((resolve) => setTimeout(() => resolve(group.id === 'writers' && userId === 'w'), 5));
    assert.equal(assertOk(await client.canAccess(name, { userId: 'w', permission: 'write', isMember })), true);
  });

  it('grants nothing by rules without isMember', async () => {
    const name = await storedByGeneratedApp(TEAM_POLICY);
    assert.equal(assertOk(await client.canAccess(name, { userId: 'r', permission: 'read' })), false);
  });

  it('turns a failing isMember into an error result, never a rejection', async () => {
    const name = await storedByGeneratedApp(TEAM_POLICY);
    const throwing = () => {
      throw new Error('directory offline');
    };
    assert.match(assertErr(await client.canAccess(name, { userId: 'r', permission: 'read', isMember: throwing }), 'Unknown', null).message, /directory offline/);
    const rejecting = () => Promise.reject(new Error('directory timed out'));
    assert.match(assertErr(await client.canAccess(name, { userId: 'r', permission: 'read', isMember: rejecting }), 'Unknown', null).message, /directory timed out/);
  });

  it('refuses bad arguments', async () => {
    const name = await storedByGeneratedApp(TEAM_POLICY);
    assertErr(await client.canAccess(name, { userId: 'u', permission: 'delete' }), 'InvalidArgument', null);
    assertErr(await client.canAccess(name, { userId: 'u' }), 'InvalidArgument', null);
    assertErr(await client.canAccess(name, { userId: 7, permission: 'read' }), 'InvalidArgument', null);
    assertErr(await client.canAccess(name, { userId: 'u', permission: 'read', isMember: 'yes' }), 'InvalidArgument', null);
  });
});
