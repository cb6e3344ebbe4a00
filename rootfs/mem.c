/* mem: allocate and touch memory in steps, saying how much it holds.
 *
 * Usage: mem [CAP_MIB [STEP_MIB [INTERVAL_MS]]]
 *   CAP_MIB      stop growing at this many MiB (default 100), then hold
 *   STEP_MIB     grow by this much each step (default 1)
 *   INTERVAL_MS  wait this long between steps (default 100)
 *
 * The seed's memory experiment: inside a container limited to 10M, the
 * kernel's OOM killer ends it shortly after "holding 9 MiB"; with swap
 * allowed it keeps running while its resident memory stays near the limit.
 * Every page is written so that it really counts against the cgroup. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MIB (1024UL * 1024UL)

static unsigned long parse_arg(const char *s, const char *what)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v == 0 || v > 1UL << 20) {
		fprintf(stderr, "mem: bad %s: %s\n", what, s);
		exit(2);
	}
	return v;
}

static void sleep_ms(unsigned long ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

int main(int argc, char **argv)
{
	unsigned long cap = 100, step = 1, interval = 100, held = 0;

	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		puts("Usage: mem [CAP_MIB [STEP_MIB [INTERVAL_MS]]]");
		return 0;
	}
	if (argc > 4) {
		fputs("Usage: mem [CAP_MIB [STEP_MIB [INTERVAL_MS]]]\n", stderr);
		return 2;
	}
	if (argc > 1)
		cap = parse_arg(argv[1], "cap");
	if (argc > 2)
		step = parse_arg(argv[2], "step");
	if (argc > 3)
		interval = parse_arg(argv[3], "interval");

	setvbuf(stdout, NULL, _IOLBF, 0);
	while (held < cap) {
		unsigned long n = step < cap - held ? step : cap - held;
		char *p = malloc(n * MIB);

		if (!p) {
			fprintf(stderr, "mem: malloc failed at %lu MiB\n", held);
			return 1;
		}
		memset(p, 0xa5, n * MIB); /* touch every page */
		held += n;
		printf("mem: holding %lu MiB\n", held);
		sleep_ms(interval);
	}
	printf("mem: reached %lu MiB, holding\n", held);
	for (;;)
		pause();
}
