// stint-shim: the per-job parent process of the stint job runner.
//
// The daemon starts one shim per running job. The shim runs the job's command,
// captures its output into a size-capped log, enforces the timeout, and once the
// whole process tree is gone writes `exit.json` atomically. It carries on alone
// if the daemon dies, which is why it is a separate, tiny, Glibc-only program.
//
// One shim lives for every running job, so it is written to stay near the floor of a
// statically linked Swift binary (about 1 ms to start, under 4 MB resident). That is why
// the code avoids Swift's String, Array, Set and Dictionary and works on raw bytes (see
// `TextBuffer`): their first use pulls in the runtime's type-metadata demangler and the
// Unicode tables, which would roughly add 2 MB of resident memory and milliseconds of
// start-up, more than the whole rest of the program.
//
// All the work lives in `Shim.main()`; keeping top-level code to one call keeps every
// other declaration out of the main actor's implicit isolation.

import Glibc

exit(Shim.main())
