import { run } from './main.ts';
import { batchStdout } from './action/log-batch.ts';

batchStdout();
await run();
