/* The start-up floor: a C program that does nothing. Linked statically when the
   toolchain can (stint and stint-shim are static too), so that its run time is what
   the kernel needs to execute a program, start it and reap it.
   Usage: noop */
int main(void) { return 0; }
