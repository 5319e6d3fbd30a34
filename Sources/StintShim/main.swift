// stint-shim: the per-job parent process of the stint job runner.
//
// The daemon starts one shim per running job. The shim runs the job's command,
// captures its output into a size-capped log, enforces the timeout, and once the
// whole process tree is gone writes `exit.json` atomically. It carries on alone
// if the daemon dies, which is why it is a separate, tiny, Glibc-only program.
//
// All the work lives in `Shim.main()`; keeping top-level code to one call keeps
// every other declaration out of the main actor's implicit isolation.

import Glibc

exit(Shim.main())
