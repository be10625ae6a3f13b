/**
 * The async methods of EmpiricalFisher and the optimizer on 4 threads against the synchronous calls,
 * bit for bit, and linalg's splits on 4 threads (test/threads-async-suite.ts).
 */
import { describeOnThreads } from './threads-async-suite.js';

describeOnThreads(4);
