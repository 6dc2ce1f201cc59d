// What a reader's Node app already has when it pastes a README block: an Express app (with its
// JSON body parser), a middleware that lets only signed-in users through, the user of a request,
// a database, and a client made as in the Usage section. README blocks that make their own
// client shadow these.
declare const app: import('express').Express;
declare const requireSignedIn: import('express').RequestHandler;
declare function signedInUser(req: import('express').Request): string | undefined;
declare const db: { isInTeam(teamId: string, userId: string): Promise<boolean> };
declare const client: import('replit-object-storage-wasm').Client;
declare const storage: import('replit-object-storage-wasm').Client;
