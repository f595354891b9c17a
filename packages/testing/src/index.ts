export { getFreePort } from './free-port.js';
export { sleep, waitUntil } from './wait-until.js';
export { uniquePrefix } from './unique-prefix.js';
export { startRedis, type RedisServer, type StartRedisOptions } from './redis-server.js';
export {
  startRedisCluster,
  type RedisClusterServer,
  type StartClusterOptions,
} from './redis-cluster.js';
export {
  startRedisSentinel,
  type RedisSentinelTopology,
  type StartSentinelOptions,
} from './redis-sentinel.js';
export { RedisStartError } from './redis-process.js';
export { cleanUpRedisFault } from './redis-fault-cleanup.js';
export { redisProbe } from './redis-probe.js';
export {
  redisTargetOf,
  startTestRedis,
  testTopology,
  type TestRedis,
  type TestTopology,
} from './test-redis.js';
export { repoRoot } from './repo-root.js';
export {
  SERVICE_NODE_FLAGS,
  serviceMainPath,
  startNodeScript,
  startService,
  type ServiceExit,
  type ServiceName,
  type ServiceProcess,
  type StartServiceOptions,
} from './service-process.js';
export {
  defaultStackEnv,
  startStack,
  type IngestResult,
  type Stack,
  type StackOptions,
} from './stack.js';
export { signToken, type SignTokenOptions } from './sign-token.js';
export {
  TestWsClient,
  WsUpgradeError,
  type WsCloseInfo,
  type WsConnectOptions,
  type WsFrame,
} from './test-ws-client.js';
export {
  SseRefusedError,
  TestSseClient,
  type SseOpenOptions,
  type SseReceived,
} from './test-sse-client.js';
export { RunTexts, type StreamText } from './run-texts.js';
export {
  ingestUntilAccepted,
  type IngestUntilAcceptedOptions,
  type IngestUntilAcceptedResult,
} from './ingest-until-accepted.js';
export { countKeys, scriptRuns, usedMemory } from './redis-usage.js';
