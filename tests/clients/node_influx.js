// Scenario for the JavaScript client `influx` (node-influx 5.x, npm), unmodified.
//
// Usage: node node_influx.js BASE_URL      (NODE_PATH must hold the installed `influx`)
//
// Drives the client's public API against the server at BASE_URL and prints one JSON
// transcript of what the client returned (rows as the client parses them, errors with their
// text). `tests/tests/real_clients.rs` runs it against hyperbyted and the reference InfluxDB
// and compares the transcripts; the only normalisation is the server version and round-trip
// time `ping()` reports (see docs/clients.md).
'use strict';

const Influx = require('influx');

const DB = 'jsclient';
const out = [];

// Rows carry `time` as an INanoDate (a Date with nanoseconds): print the nanosecond string.
function plain(v) {
  if (v === null || v === undefined) return v === undefined ? '<undefined>' : null;
  if (v instanceof Date) {
    return typeof v.toNanoISOString === 'function' ? v.toNanoISOString() : v.toISOString();
  }
  if (Array.isArray(v)) return v.map(plain);
  if (typeof v === 'object') {
    const o = {};
    for (const k of Object.keys(v).sort()) o[k] = plain(v[k]);
    return o;
  }
  if (typeof v === 'number' && !Number.isInteger(v)) return { float: String(v) };
  return v;
}

// A query result as the client hands it over: the rows, and groups() (rows per series).
function results(rs) {
  if (Array.isArray(rs) && rs.length && Array.isArray(rs[0])) return rs.map(results);
  return {
    rows: plain(Array.from(rs)),
    groups: typeof rs.groups === 'function' ? plain(rs.groups()) : '<none>',
  };
}

async function step(name, fn) {
  try {
    const got = await fn();
    out.push({ step: name, ok: got === undefined ? '<void>' : plain(got) });
  } catch (e) {
    out.push({ step: name, error: String(e && e.message ? e.message : e) });
  }
}

async function main() {
  const url = new URL(process.argv[2]);
  const influx = new Influx.InfluxDB({
    host: url.hostname,
    port: Number(url.port),
    database: DB,
    schema: [
      {
        measurement: 'response_times',
        fields: { path: Influx.FieldType.STRING, duration: Influx.FieldType.INTEGER,
                  ratio: Influx.FieldType.FLOAT, ok: Influx.FieldType.BOOLEAN },
        tags: ['host', 'route'],
      },
    ],
  });

  await step('ping', async () => (await influx.ping(5000)).map((h) => ({ online: h.online })));
  await step('createDatabase', () => influx.createDatabase(DB));
  await step('createDatabase other', () => influx.createDatabase('jsother'));
  await step('getDatabaseNames', () => influx.getDatabaseNames());
  await step('dropDatabase other', () => influx.dropDatabase('jsother'));
  await step('getDatabaseNames after drop', () => influx.getDatabaseNames());

  await step('createRetentionPolicy', () => influx.createRetentionPolicy('week', {
    duration: '7d', replication: 1, database: DB }));
  await step('createRetentionPolicy default', () => influx.createRetentionPolicy('forever', {
    duration: 'INF', replication: 1, isDefault: true, database: DB }));
  await step('alterRetentionPolicy', () => influx.alterRetentionPolicy('week', {
    duration: '14d', replication: 1, database: DB }));
  await step('showRetentionPolicies', () => influx.showRetentionPolicies(DB).then(results));
  await step('dropRetentionPolicy', () => influx.dropRetentionPolicy('week', DB));
  await step('showRetentionPolicies after drop', () => influx.showRetentionPolicies(DB).then(results));

  const base = Date.UTC(2020, 0, 1) * 1e6;  // ns, exact in a double up to here
  await step('writePoints schema', () => influx.writePoints([
    { measurement: 'response_times', tags: { host: 'a', route: '/x' },
      fields: { duration: 12, path: '/x?y=1', ratio: 0.5, ok: true },
      timestamp: new Date(Date.UTC(2020, 0, 1, 0, 0, 0)) },
    { measurement: 'response_times', tags: { host: 'b', route: '/y' },
      fields: { duration: 30, path: 'with "quotes", commas', ratio: 2, ok: false },
      timestamp: new Date(Date.UTC(2020, 0, 1, 0, 0, 1)) },
  ]));
  await step('writePoints precision s', () => influx.writePoints([
    { measurement: 'cpu', tags: { host: 'a' }, fields: { value: 1.5, n: 3 }, timestamp: 1577836800 },
    { measurement: 'cpu', tags: { host: 'b' }, fields: { value: 2, n: 4 }, timestamp: 1577836810 },
    { measurement: 'cpu', tags: { host: 'a' }, fields: { value: 3.25 }, timestamp: 1577836820 },
  ], { precision: 's' }));
  await step('writePoints precision ms rp', () => influx.writePoints([
    { measurement: 'cpu', tags: { host: 'c' }, fields: { value: 9 }, timestamp: 1577836830123 },
  ], { precision: 'ms', retentionPolicy: 'forever' }));
  await step('writeMeasurement nanoseconds', () => influx.writeMeasurement('mem', [
    { tags: { host: 'a' }, fields: { used: 10, free: 0.25 }, timestamp: String(base) },
    { tags: { host: 'b' }, fields: { used: 20, free: 0.75 }, timestamp: String(base + 1000) },
  ]));
  await step('writePoints unknown database', () => influx.writePoints([
    { measurement: 'x', fields: { v: 1 }, timestamp: 1 }], { database: 'nope' }));
  await step('writePoints field type conflict', () => influx.writePoints([
    { measurement: 'cpu', tags: { host: 'a' }, fields: { value: 'text' }, timestamp: 1577836900 },
  ], { precision: 's' }));

  await step('query rows', () => influx.query('SELECT * FROM "cpu"').then(results));
  await step('query precision ms', () => influx.query('SELECT * FROM "cpu"', { precision: 'ms' }).then(results));
  await step('query precision s', () => influx.query('SELECT "value" FROM "cpu"', { precision: 's' }).then(results));
  await step('query precision n', () => influx.query('SELECT * FROM "mem"', { precision: 'n' }).then(results));
  await step('query schema types', () => influx.query('SELECT * FROM "response_times"').then(results));
  await step('query group by tag', () => influx.query(
    'SELECT mean("value") AS "m", count("value") FROM "cpu" GROUP BY "host"').then(results));
  await step('query group by time', () => influx.query(
    'SELECT max("value") FROM "cpu" WHERE time >= \'2020-01-01T00:00:00Z\' AND ' +
    'time < \'2020-01-01T00:01:00Z\' GROUP BY time(20s) fill(0)').then(results));
  await step('query placeholders', () => influx.query(
    'SELECT "value" FROM "cpu" WHERE "host" = $host', { placeholders: { host: 'a' } }).then(results));
  await step('query two statements', () => influx.query([
    'SELECT "used" FROM "mem"', 'SELECT "n" FROM "cpu"']).then(results));
  await step('query POST', () => influx.query('SELECT "n" FROM "cpu"', { method: 'POST' }).then(results));
  await step('queryRaw', () => influx.queryRaw('SELECT "free" FROM "mem"'));
  await step('query error', () => influx.query('SELECT FROM cpu'));
  await step('query unknown database', () => influx.query('SELECT * FROM cpu', { database: 'nope' }));
  await step('query builder escaping', () => influx.query(
    `SELECT * FROM "response_times" WHERE "path" = ${Influx.escape.stringLit('with "quotes", commas')}`)
    .then(results));

  await step('getMeasurements', () => influx.getMeasurements());
  await step('getSeries', () => influx.getSeries());
  await step('getSeries measurement', () => influx.getSeries({ measurement: 'cpu' }));
  await step('getUsers', () => influx.getUsers().then(results));
  await step('createContinuousQuery', () => influx.createContinuousQuery('cq_mean',
    'SELECT mean("value") INTO "cpu_1m" FROM "cpu" GROUP BY time(1m), *'));
  await step('showContinousQueries', () => influx.showContinousQueries().then(results));
  await step('dropContinuousQuery', () => influx.dropContinuousQuery('cq_mean'));
  await step('dropSeries where', () => influx.dropSeries({
    measurement: (m) => m.name('cpu'), where: (e) => e.tag('host').equals.value('c') }));
  await step('getSeries after dropSeries', () => influx.getSeries({ measurement: 'cpu' }));
  await step('dropMeasurement', () => influx.dropMeasurement('mem'));
  await step('getMeasurements after drop', () => influx.getMeasurements());
  await step('dropDatabase', () => influx.dropDatabase(DB));
  await step('getDatabaseNames end', () => influx.getDatabaseNames());

  process.stdout.write(JSON.stringify(out, null, 1) + '\n');
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack ? e.stack : e) + '\n');
  process.exit(1);
});
