// The real PostgreSQL the tests start: the sandbox's own (src/sandbox/postgres), so the tests
// and the console run the same server the same way.
export { startPostgres, postgresInstalled, type TestPostgres } from '../../src/sandbox/postgres/server.js';
