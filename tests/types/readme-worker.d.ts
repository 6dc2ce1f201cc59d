// What a reader's Worker already has when it pastes a README block: nothing (the blocks declare
// their own `Env`); the Worker setup's tsconfig gives the Workers entry and the webworker library.
export {};
